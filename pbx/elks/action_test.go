package elks

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestActionsFollowTheDocumentedSchema(t *testing.T) {
	next := "https://peerline.example/pbx/elks/s3cret/next/c1/2"
	good := map[string]Action{
		`{"play":"https://p.example/a.wav","next":"` + next + `"}`:                                     {Play: "https://p.example/a.wav", Next: next},
		`{"ivr":"https://p.example/pin.wav","digits":4,"timeout":10,"repeat":1,"next":"` + next + `"}`: {IVR: "https://p.example/pin.wav", Digits: 4, Timeout: 10, Repeat: 1, Next: next},
		`{"connect":"+46701234567","timeout":25,"callerid":"+46812345678","next":"` + next + `"}`:      {Connect: "+46701234567", CallerID: "+46812345678", Timeout: 25, Next: next},
		`{"hangup":"reject"}`: {Hangup: "reject"},
		`{"play":"https://p.example/a.wav","next":"` + next + `","whenhangup":"https://p.example/hangup/c1"}`: {Play: "https://p.example/a.wav", Next: next, WhenHangup: "https://p.example/hangup/c1"},
	}
	for want, a := range good {
		b, err := json.Marshal(a)
		var got, exp map[string]any
		json.Unmarshal(b, &got)
		json.Unmarshal([]byte(want), &exp)
		if err != nil || !reflect.DeepEqual(got, exp) {
			t.Errorf("%+v: %s %v, want %s", a, b, err, want)
		}
	}
	bad := []Action{
		{},
		{Play: "https://p.example/a.wav", Hangup: "reject"},
		{Play: "/relative.wav"},
		{Hangup: "reject", Next: next},
		{Hangup: "later"},
		{IVR: "https://p.example/pin.wav", Digits: 4, Timeout: 31, Repeat: 1},
		{IVR: "https://p.example/pin.wav", Timeout: 10, Repeat: 1},
		{Connect: "0701234567"},
		{Connect: "+46701234567", CallerID: "peer"},
		{Play: "https://p.example/a.wav", Digits: 4},
		{Play: "https://p.example/a.wav", CallerID: "+46812345678"},
		{Play: "https://p.example/a.wav", Timeout: 5},
	}
	for _, a := range bad {
		if _, err := json.Marshal(a); err == nil {
			t.Errorf("%+v passed", a)
		}
	}
}
