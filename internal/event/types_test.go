package event_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/event"
)

// TestEveryTypeRoundTrips: what an event carries on the wire decodes into the
// struct of its type, field for field, with the keys receivers rely on.
func TestEveryTypeRoundTrips(t *testing.T) {
	until := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	cases := []struct {
		d    event.Data
		keys string
	}{
		{&event.LineChange{Closed: true, Reason: "no_cover", Text: "Stängt i dag", NextOpen: &until}, `{"reason":"no_cover","text":"Stängt i dag","next_open":"2026-11-23T10:15:00Z"}`},
		{&event.LineChange{Reason: "", Text: "Öppet"}, `{"reason":"","text":"Öppet"}`},
		{&event.Uncovered{Date: "2026-11-24", Expected: []string{"jim"}, Sick: []string{"klara"},
			Free: []event.Colleague{{ID: "agneta", Name: "Agneta"}}, Deadline: "11:00"},
			`{"date":"2026-11-24","expected":["jim"],"sick":["klara"],"free":[{"id":"agneta","name":"Agneta"}],"deadline":"11:00"}`},
		{&event.Cover{Date: "2026-11-24", Agent: "jim", Name: "Jim", DayCovered: true}, `{"date":"2026-11-24","agent":"jim","name":"Jim","day_covered":true}`},
		{&event.Lockout{Agent: "jim", Name: "Jim", Lockout: 2, Until: &until}, `{"agent":"jim","name":"Jim","lockout":2,"held":false,"until":"2026-11-23T10:15:00Z"}`},
		{&event.Lockout{Agent: "jim", Lockout: 3, Held: true}, `{"agent":"jim","lockout":3,"held":true}`},
		{&event.Flag{Call: "ABC", Agent: "klara", Start: until, TalkSeconds: 240}, `{"call":"ABC","agent":"klara","start":"2026-11-23T10:15:00Z","talk_seconds":240}`},
		{&event.AutoLogout{Agent: "klara", Missed: 3}, `{"agent":"klara","missed":3}`},
	}
	for _, c := range cases {
		data, err := json.Marshal(c.d)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != c.keys {
			t.Errorf("%s: %s, want %s", c.d.Type(), data, c.keys)
		}
		got, err := event.Event{ID: "x", Type: c.d.Type(), Data: data}.Payload()
		if err != nil || !reflect.DeepEqual(got, c.d) {
			t.Errorf("%s: decoded %+v, %v; want %+v", c.d.Type(), got, err, c.d)
		}
	}
	if _, err := (event.Event{ID: "x", Type: "nonsense"}).Payload(); err == nil {
		t.Error("an unknown type decoded")
	}
	if _, err := (event.Event{ID: "x", Type: event.CallFlagged, Data: []byte(`{"call":`)}).Payload(); err == nil {
		t.Error("broken data decoded")
	}
}
