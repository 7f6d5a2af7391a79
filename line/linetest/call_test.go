package linetest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/calltest"
	"github.com/peerline/peerline/line/linetest"
)

// TestTheFakeKeepsTheContract: the flows' tests can trust the fake call to
// behave as the real drivers do.
func TestTheFakeKeepsTheContract(t *testing.T) {
	var n atomic.Int64
	leg := func(from string) *linetest.Call {
		c := linetest.NewCall(fmt.Sprintf("fake-%d", n.Add(1)), from)
		c.Prompts = []string{"greeting"}
		return c
	}
	newCall := func(from string) *linetest.Call {
		c := leg(from)
		c.Answerer = func(ctx context.Context, t line.Target, o line.DialOptions) (*linetest.Call, error) {
			if t.Agent == "busy" {
				return nil, line.ErrBusy
			}
			return leg(""), nil
		}
		return c
	}
	calltest.Run(t, calltest.Driver{
		Call: func(t *testing.T, from string) (line.Call, calltest.Far) {
			c := newCall(from)
			t.Cleanup(c.CallerHangsUp)
			return c, far{c}
		},
		Answering: func(*testing.T) line.Target { return line.Target{Agent: "klara", Phone: "+46701740605"} },
		Busy:      func(*testing.T) line.Target { return line.Target{Agent: "busy", Phone: "+46701740606"} },
		Prompt:    "greeting",
	})
}

type far struct{ c *linetest.Call }

func (f far) Press(keys string) { f.c.Press(keys) }
func (f far) HangUp()           { f.c.CallerHangsUp() }
func (f far) Ended() bool {
	select {
	case <-f.c.Done():
		return true
	default:
		return false
	}
}
