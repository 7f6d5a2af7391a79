package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/calltest"
	"github.com/peerline/peerline/pbx/webhook/pbxsim"
)

const busyNumber = "+46701112299"

// TestWebhookCallsKeepTheContract runs the line.Call contract over the
// protocol: the PBX simulator places calls over HTTP and answers the legs
// peerline dials (or refuses them as busy).
func TestWebhookCallsKeepTheContract(t *testing.T) {
	cfg := config.Default()
	cfg.Lines[0].Numbers = []string{lineNumber}
	cfg.PBX.Webhooks = []config.PBXWebhook{{Name: "elks", Auth: "hmac", Secret: secret}}
	if es := config.Validate(cfg); len(es) > 0 {
		t.Fatal(es)
	}
	calls := make(calltest.HandOver)
	sim := serve(t, cfg, calls, clock.Real{}) // key timeouts in real time: the suite waits at most a second for one
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go answerDials(ctx, sim)
	calltest.Run(t, calltest.Driver{
		Call: func(t *testing.T, from string) (line.Call, calltest.Far) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			t.Cleanup(cancel)
			placed := calltest.NewPlaced[*pbxsim.Leg]()
			go func() {
				leg, _ := sim.Call(ctx, callID(), from, lineNumber) // nil when the test ends first: started says so
				placed.Set(leg)
			}()
			return calls.Next(t), &pbxFar{t: t, leg: placed}
		},
		Answering: func(*testing.T) line.Target { return line.Target{Agent: "klara", Phone: agentNumber} },
		Busy:      func(*testing.T) line.Target { return line.Target{Agent: "jim", Phone: busyNumber} },
		Prompt:    "greeting",
	})
}

// answerDials answers every leg peerline dials after a little ringing, but
// the busy number's.
func answerDials(ctx context.Context, sim *pbxsim.Sim) {
	for {
		select {
		case <-ctx.Done():
			return
		case leg := <-sim.Dials:
			go func() {
				if leg.Dial.Target != nil && leg.Dial.Target.Phone == busyNumber {
					leg.Fail(ctx, "busy")
					return
				}
				time.Sleep(50 * time.Millisecond)
				leg.Answer(ctx)
			}()
		}
	}
}

// pbxFar is the PBX's side of a caller's leg.
type pbxFar struct {
	t   *testing.T
	leg *calltest.Placed[*pbxsim.Leg]
}

func (f *pbxFar) started() *pbxsim.Leg {
	leg := f.leg.Get()
	if leg == nil {
		f.t.Fatal("the PBX's call did not start")
	}
	return leg
}

func (f *pbxFar) Press(keys string) { f.started().Press(context.Background(), keys) }
func (f *pbxFar) HangUp()           { f.started().Hangup(context.Background()) }

func (f *pbxFar) Ended() bool {
	select {
	case <-f.started().Done():
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}
