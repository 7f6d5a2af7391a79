// Package calltest checks that an implementation of line.Call keeps the
// contract the call flows rely on, in the way testing/fstest checks an fs.FS.
// Every driver runs Run against its own calls (pbx/sip with real SIP and RTP,
// pbx/webhook over HTTP with the PBX simulator), and so does linetest's fake:
// the flows' own tests use the fake, and this suite keeps it true to the
// drivers. Flows are tested once, in line; driver tests test the driver.
package calltest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
)

// Driver makes calls of one implementation for the suite.
type Driver struct {
	// Call places a call from the number on the driver and returns the leg the
	// flows get (unanswered) and its far end. The leg lives until it ends or the
	// test does.
	Call func(t *testing.T, from string) (line.Call, Far)
	// Answering is a target that answers a Dial, at once or after ringing a
	// little; Busy is one that refuses it as busy.
	Answering, Busy func(t *testing.T) line.Target
	// Prompt is a prompt the line has.
	Prompt string
}

// Far is the far end of a call: the caller's phone, or the PBX's side of it.
type Far interface {
	Press(keys string) // keys pressed on the phone once the call is answered
	HangUp()           // the phone hangs up
	// Ended waits, bounded, until the call has ended at the far end (a BYE, a
	// hangup action), and reports whether it did.
	Ended() bool
}

// HandOver is a call handler for a driver under test (sip.Handler and
// webhook.Handler alike): it gives each call to the test instead of a flow,
// and holds it until the driver stops. A flow holds a call after its caller
// hung up too (the agent's form), and a driver may end what is left of a call
// once its handler returns: returning at the hang-up raced the test's look
// at the agent's leg.
type HandOver chan line.Call

func (h HandOver) Handle(ctx context.Context, _ string, c line.Call) error {
	select {
	case h <- c:
	case <-ctx.Done():
		return nil
	}
	<-ctx.Done()
	return nil
}

// Next is the next call handed over (bounded); it is hung up when t ends.
func (h HandOver) Next(t *testing.T) line.Call {
	t.Helper()
	select {
	case c := <-h:
		t.Cleanup(func() { c.Hangup(context.Background()) })
		return c
	case <-time.After(wait):
		t.Fatal("no call reached the handler")
		return nil
	}
}

// Placed is what a test's background goroutine delivers once, such as the
// far end's side of a call whose placing blocks until the flow answers: Get
// waits for it (bounded by the suite's wait) and keeps it.
type Placed[T any] struct {
	ch  chan T
	v   T
	got bool
}

// NewPlaced is an empty Placed.
func NewPlaced[T any]() *Placed[T] { return &Placed[T]{ch: make(chan T, 1)} }

// Set delivers v; call it once.
func (p *Placed[T]) Set(v T) { p.ch <- v }

// Get is what Set delivered; the zero value if nothing came within the wait.
func (p *Placed[T]) Get() T {
	if !p.got {
		select {
		case p.v = <-p.ch:
			p.got = true
		case <-time.After(wait):
		}
	}
	return p.v
}

// wait bounds every wait of the suite; nothing in it takes near as long.
const wait = 10 * time.Second

const caller = "+46701234567"

// Run checks d's calls against the contract.
func Run(t *testing.T, d Driver) {
	t.Run("Identity", func(t *testing.T) { identity(t, d) })
	t.Run("Prompts", func(t *testing.T) { playPrompts(t, d) })
	t.Run("CollectBargesIn", func(t *testing.T) { collectBargesIn(t, d) })
	t.Run("CollectWithoutKeys", func(t *testing.T) { collectWithoutKeys(t, d) })
	t.Run("KeysOutsideCollect", func(t *testing.T) { keysOutsideCollect(t, d) })
	t.Run("RingAndHoldLastUntilCtx", func(t *testing.T) { ringAndHold(t, d) })
	t.Run("FarEndHangsUp", func(t *testing.T) { farEndHangsUp(t, d) })
	t.Run("Hangup", func(t *testing.T) { hangup(t, d) })
	t.Run("DialFailures", func(t *testing.T) { dialFailures(t, d) })
	t.Run("BridgeStopAndWhisper", func(t *testing.T) { bridgeStopAndWhisper(t, d) })
	t.Run("BridgeEndsWithALeg", func(t *testing.T) { bridgeEndsWithALeg(t, d) })
	t.Run("Conference", func(t *testing.T) { conference(t, d) })
}

func answered(t *testing.T, d Driver) (line.Call, Far, context.Context) {
	t.Helper()
	c, far := d.Call(t, caller)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	if err := c.Answer(ctx); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	return c, far, ctx
}

// identity: an id of the driver's own making that tells nothing of the caller,
// and the caller's number for the flows (in memory only).
func identity(t *testing.T, d Driver) {
	a, _ := d.Call(t, caller)
	b, _ := d.Call(t, "+46709999999")
	if a.ID() == "" || a.ID() == b.ID() {
		t.Errorf("ids %q and %q: want distinct, non-empty", a.ID(), b.ID())
	}
	if strings.Contains(a.ID(), "1234567") || strings.Contains(a.ID(), "@") {
		t.Errorf("id %q carries an address or the number", a.ID())
	}
	if a.Caller() != caller {
		t.Errorf("Caller() = %q, want %q", a.Caller(), caller)
	}
	select {
	case <-a.Done():
		t.Error("a new call is done already")
	default:
	}
}

// playPrompts: a prompt plays to its end; one the line lacks is ErrNoPrompt,
// and so is a whisper of one.
func playPrompts(t *testing.T, d Driver) {
	c, _, ctx := answered(t, d)
	if err := c.Answer(ctx); err != nil {
		t.Errorf("a second Answer: %v", err)
	}
	if err := c.Play(ctx, d.Prompt); err != nil {
		t.Errorf("Play(%q): %v", d.Prompt, err)
	}
	if err := c.Play(ctx, "no-such-prompt"); !errors.Is(err, line.ErrNoPrompt) {
		t.Errorf("Play of a missing prompt: %v, want ErrNoPrompt", err)
	}
	if _, err := c.Collect(ctx, line.CollectOptions{Prompts: []string{"no-such-prompt"}, FirstKey: time.Second}); !errors.Is(err, line.ErrNoPrompt) {
		t.Errorf("Collect with a missing prompt: %v, want ErrNoPrompt", err)
	}
}

// collectBargesIn: keys pressed during the prompts stop them and make the input.
func collectBargesIn(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	go func() {
		time.Sleep(20 * time.Millisecond)
		far.Press("4*2#")
	}()
	got, err := c.Collect(ctx, line.CollectOptions{Prompts: []string{d.Prompt, d.Prompt, d.Prompt}, Accept: "0123456789",
		Terminator: '#', FirstKey: wait, NextKey: wait})
	if got != "42" || err != nil {
		t.Errorf("Collect: %q, %v; want \"42\" (the '*' not accepted)", got, err)
	}
}

// collectWithoutKeys: no key after the prompts is ErrNoInput.
func collectWithoutKeys(t *testing.T, d Driver) {
	c, _, ctx := answered(t, d)
	got, err := c.Collect(ctx, line.CollectOptions{Prompts: []string{d.Prompt}, Max: 1, FirstKey: 100 * time.Millisecond})
	if got != "" || !errors.Is(err, line.ErrNoInput) {
		t.Errorf("Collect: %q, %v; want ErrNoInput", got, err)
	}
}

// keysOutsideCollect: keys pressed while no Collect runs come on Keys, in
// order, and those left there are the next Collect's (a bridged call reads
// the agent's keys so, and the wrap-up form takes the rest). Every driver
// here hears keys, so none may answer nil.
func keysOutsideCollect(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	keys := c.Keys()
	if keys == nil {
		t.Fatal("Keys is nil, though Collect hears keys")
	}
	far.Press("**5")
	for i, want := range []byte("**") {
		select {
		case k := <-keys:
			if k != want {
				t.Errorf("key %d on Keys: %c, want %c", i, k, want)
			}
		case <-time.After(wait):
			t.Fatalf("key %d never came on Keys", i)
		}
	}
	got, err := c.Collect(ctx, line.CollectOptions{Max: 1, FirstKey: wait})
	if got != "5" || err != nil {
		t.Errorf("Collect after Keys: %q, %v; want \"5\"", got, err)
	}
}

// ringAndHold: ringback and hold music last until their ctx ends, without error.
func ringAndHold(t *testing.T, d Driver) {
	c, _, ctx := answered(t, d)
	for name, f := range map[string]func(context.Context) error{"Ring": c.Ring, "Hold": c.Hold} {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := f(rctx)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if rctx.Err() == nil {
			t.Errorf("%s returned before its ctx ended", name)
		}
	}
}

// farEndHangsUp: the phone hanging up ends the leg; what the flow does next
// returns at once.
func farEndHangsUp(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	far.HangUp()
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("Done did not close after the far end hung up")
	}
	if got, err := c.Collect(ctx, line.CollectOptions{Prompts: []string{d.Prompt}, FirstKey: wait}); err == nil {
		t.Errorf("Collect on an ended call: %q, nil", got)
	}
	if ctx.Err() != nil {
		t.Error("Collect on an ended call waited out its ctx")
	}
	c.Play(ctx, d.Prompt) // returns, error or not
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("Hangup of an ended call: %v", err)
	}
}

// hangup: Hangup ends the leg at once, the far end hears it, and a second one is harmless.
func hangup(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	if err := c.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done still open after Hangup returned")
	}
	if !far.Ended() {
		t.Error("the far end did not hear the hangup")
	}
	if err := c.Hangup(ctx); err != nil {
		t.Errorf("a second Hangup: %v", err)
	}
}

// dialFailures: a leg nobody can reach, a busy one and a cancelled one fail with
// the errors the flows tell apart.
func dialFailures(t *testing.T, d Driver) {
	c, _, ctx := answered(t, d)
	o := line.DialOptions{CallerID: "+46812345678", RingTimeout: wait}
	if leg, err := c.Dial(ctx, line.Target{Agent: "nowhere"}, o); !errors.Is(err, line.ErrUnreachable) || leg != nil {
		t.Errorf("Dial without phone or URI: %v, want ErrUnreachable", err)
	}
	if leg, err := c.Dial(ctx, d.Busy(t), o); !errors.Is(err, line.ErrBusy) || leg != nil {
		t.Errorf("Dial of a busy phone: %v, want ErrBusy", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if leg, err := c.Dial(cctx, d.Answering(t), o); err == nil {
		leg.Hangup(ctx)
		t.Error("Dial with an ended ctx connected")
	}
	select {
	case <-c.Done():
		t.Error("failed dials ended the caller's leg")
	default:
	}
}

func dialed(t *testing.T, ctx context.Context, c line.Call, d Driver) line.Call {
	t.Helper()
	leg, err := c.Dial(ctx, d.Answering(t), line.DialOptions{CallerID: "+46812345678", RingTimeout: wait})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { leg.Hangup(context.Background()) })
	if leg.ID() == "" || leg.ID() == c.ID() {
		t.Errorf("the dialled leg's id %q", leg.ID())
	}
	return leg
}

// bridgeStopAndWhisper: a bridge whispers to one leg, refuses a missing
// prompt, and Stop ends it with both legs still up and ready for prompts.
func bridgeStopAndWhisper(t *testing.T, d Driver) {
	c, _, ctx := answered(t, d)
	agent := dialed(t, ctx, c, d)
	b, err := c.Bridge(ctx, agent)
	if err != nil {
		t.Fatalf("Bridge: %v", err)
	}
	if err := b.Whisper(agent, d.Prompt); err != nil {
		t.Errorf("Whisper: %v", err)
	}
	if err := b.Whisper(agent, "no-such-prompt"); !errors.Is(err, line.ErrNoPrompt) {
		t.Errorf("Whisper of a missing prompt: %v, want ErrNoPrompt", err)
	}
	b.Stop()
	select {
	case <-b.Done():
	case <-time.After(wait):
		t.Fatal("the bridge's Done stayed open after Stop")
	}
	for name, leg := range map[string]line.Call{"caller": c, "agent": agent} {
		select {
		case <-leg.Done():
			t.Errorf("Stop ended the %s's leg", name)
		default:
		}
	}
	if err := c.Play(ctx, d.Prompt); err != nil {
		t.Errorf("Play after Stop: %v", err)
	}
	b.Stop() // a second Stop is harmless
}

// bridgeEndsWithALeg: a leg that hangs up ends the bridge; the other stays up
// for the flow to end.
func bridgeEndsWithALeg(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	agent := dialed(t, ctx, c, d)
	b, err := c.Bridge(ctx, agent)
	if err != nil {
		t.Fatalf("Bridge: %v", err)
	}
	far.HangUp()
	select {
	case <-b.Done():
	case <-time.After(wait):
		t.Fatal("the bridge outlived the caller's leg")
	}
	select {
	case <-agent.Done():
		t.Error("the caller hanging up ended the agent's leg: that is the flow's to do")
	default:
	}
	if _, err := c.Bridge(ctx, agent); err == nil {
		t.Error("a bridge to an ended leg")
	}
}

// conference: three legs in one conversation whisper to one leg, refuse a
// missing prompt, and Stop leaves all three up; a leg hanging up ends it.
func conference(t *testing.T, d Driver) {
	c, far, ctx := answered(t, d)
	agent, service := dialed(t, ctx, c, d), dialed(t, ctx, c, d)
	b, err := c.Conference(ctx, agent, service)
	if err != nil {
		t.Fatalf("Conference: %v", err)
	}
	if err := b.Whisper(agent, d.Prompt); err != nil {
		t.Errorf("Whisper: %v", err)
	}
	if err := b.Whisper(service, "no-such-prompt"); !errors.Is(err, line.ErrNoPrompt) {
		t.Errorf("Whisper of a missing prompt: %v, want ErrNoPrompt", err)
	}
	b.Stop()
	for name, leg := range map[string]line.Call{"caller": c, "agent": agent, "service": service} {
		select {
		case <-leg.Done():
			t.Errorf("Stop ended the %s's leg", name)
		default:
		}
	}
	if b, err = c.Conference(ctx, agent, service); err != nil {
		t.Fatalf("a second Conference: %v", err)
	}
	far.HangUp()
	select {
	case <-b.Done():
	case <-time.After(wait):
		t.Fatal("the conference outlived the caller's leg")
	}
}
