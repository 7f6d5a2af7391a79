package sip_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/calltest"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestSIPCallsKeepTheContract runs the line.Call contract against real SIP
// dialogs and RTP: siptest phones call in, siptest agents' phones are dialled.
func TestSIPCallsKeepTheContract(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting.wav"), mediatest.ToneWAV(300, 200*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.SIP.Listen = []string{"udp:127.0.0.1:0"}
	cfg.SIP.RTPPorts = "35000-35998"
	cfg.Lines[0].Prompts = dir
	calls := make(calltest.HandOver)
	addr, _ := serve(t, cfg, calls, clock.Real{}) // key timeouts in real time: the suite waits at most a second for one
	calltest.Run(t, calltest.Driver{
		Call: func(t *testing.T, from string) (line.Call, calltest.Far) {
			phone := siptest.NewPhone(t, from, media.PCMU)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			t.Cleanup(cancel)
			placed := calltest.NewPlaced[*siptest.Call]()
			go func() {
				c, _ := phone.Call(ctx, "peer", addr)
				placed.Set(c)
			}()
			return calls.Next(t), &sipFar{t: t, phone: phone, call: placed}
		},
		Answering: func(t *testing.T) line.Target {
			a := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{RingFor: 50 * time.Millisecond})
			return line.Target{Agent: "klara", SIPURI: a.URI}
		},
		Busy: func(t *testing.T) line.Target {
			a := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{Refuse: 486})
			return line.Target{Agent: "jim", SIPURI: a.URI}
		},
		Prompt: "greeting",
	})
}

// sipFar is the caller's phone; its dialog exists once the call is answered.
type sipFar struct {
	t     *testing.T
	phone *siptest.Phone
	call  *calltest.Placed[*siptest.Call]
}

func (f *sipFar) established() *siptest.Call {
	c := f.call.Get()
	if c == nil || c.Status != 200 {
		f.t.Fatalf("the phone's call was not answered: %+v", c)
	}
	return c
}

// Press sends RFC 4733 events on the call's media.
func (f *sipFar) Press(keys string) {
	f.phone.Media.SendKeys(f.established().Remote(), media.DefaultDTMF, keys)
}

func (f *sipFar) HangUp() { f.established().Hangup(context.Background()) }

func (f *sipFar) Ended() bool { return f.phone.WaitBye(5 * time.Second) }
