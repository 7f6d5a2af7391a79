// Command pbxsim is a hosted PBX for trying peerline's webhook mode: it places
// one call, prints every action peerline answers, presses the keys it is given
// and answers the legs peerline dials. See pbx/webhook/PROTOCOL.md.
//
//	pbxsim -url http://127.0.0.1:8080 -secret ... -from +46701234567 -to +46812345678 -talk 5s -agent-keys 312
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/peerline/peerline/pbx/webhook"
	"github.com/peerline/peerline/pbx/webhook/pbxsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pbxsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	f := flag.NewFlagSet("pbxsim", flag.ContinueOnError)
	url := f.String("url", "http://127.0.0.1:8080", "peerline's address")
	auth := f.String("auth", "hmac", "hmac or bearer, as the PBX is configured in peerline")
	secret := f.String("secret", os.Getenv("PBXSIM_SECRET"), "the PBX's secret (or $PBXSIM_SECRET)")
	from := f.String("from", "+46701234567", "the caller's number")
	to := f.String("to", "peer", "the number called: one of a line's numbers")
	keys := f.String("keys", "", "keys the caller presses after the first prompt (an agent's PIN: 123456#1)")
	answer := f.Bool("answer", true, "answer the legs peerline dials")
	talk := f.Duration("talk", 5*time.Second, "how long the caller talks once put through")
	agentKeys := f.String("agent-keys", "", "keys the dialled agent presses, one per prompt after the call (the wrap-up form)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("-secret is needed")
	}
	sim := pbxsim.New(*url, *auth, *secret)
	caller, err := sim.Call(ctx, fmt.Sprintf("pbxsim-%d", time.Now().UnixNano()), *from, *to)
	if err != nil {
		return err
	}
	out := json.NewEncoder(stdout)
	go follow(ctx, caller, out, func(a webhook.Action, n int) {
		switch {
		case n == 0 && a.Action == webhook.ActPlay && *keys != "":
			caller.Press(ctx, *keys)
		case a.Action == webhook.ActBridge:
			go func() { time.Sleep(*talk); caller.Hangup(ctx) }()
		}
	})
	for {
		select {
		case d := <-sim.Dials:
			go follow(ctx, d, out, pressOnPlay(ctx, d, *agentKeys))
			if *answer {
				d.Answer(ctx)
			} else {
				d.Fail(ctx, "no_answer")
			}
		case <-caller.Done():
			time.Sleep(time.Second) // the agent's form, if any, is printed
			return caller.Err()
		case <-ctx.Done():
			caller.Hangup(context.Background())
			return nil
		}
	}
}

// follow prints each action of leg as it comes and calls on with it and its
// number among the leg's plays.
func follow(ctx context.Context, leg *pbxsim.Leg, out *json.Encoder, on func(webhook.Action, int)) {
	plays := 0
	for i := 0; ; i++ {
		a, _, ok := leg.WaitFor(time.Hour, i, func(webhook.Action) bool { return true })
		if !ok || ctx.Err() != nil {
			return
		}
		out.Encode(map[string]any{"leg": leg.ID, "action": a})
		on(a, plays)
		if a.Action == webhook.ActPlay {
			plays++
		}
		if a.Action == webhook.ActHangup {
			return
		}
	}
}

// pressOnPlay presses the next of keys at each wrap-up question.
func pressOnPlay(ctx context.Context, leg *pbxsim.Leg, keys string) func(webhook.Action, int) {
	return func(a webhook.Action, _ int) {
		if keys != "" && a.Action == webhook.ActPlay && len(a.Prompts) == 1 &&
			strings.Contains(a.Prompts[0], "/wrapup-") && !strings.HasSuffix(a.Prompts[0], "/wrapup-intro.wav") {
			leg.Press(ctx, keys[:1])
			keys = keys[1:]
		}
	}
}
