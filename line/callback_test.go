package line_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// dropped is a caller's call Klara answered at 13:00 and the caller left at
// once; Klara then left the form. It leaves the caller's number for callback.
func dropped(t *testing.T, w *world) {
	t.Helper()
	c, leg, errc := talking(t, w)
	c.CallerHangsUp()
	waitPlayed(t, leg, "wrapup-intro")
	leg.CallerHangsUp()
	if err := waitFor(t, errc); err != nil {
		t.Fatal(err)
	}
}

// callee is the phone a callback rings: it records what was dialled and answers
// with answer's leg (or error).
type callee struct {
	mu      sync.Mutex
	targets []line.Target
	options []line.DialOptions
	legs    []*linetest.Call
}

func (p *callee) answer(w *world, err error) func(context.Context, line.Target, line.DialOptions) (*linetest.Call, error) {
	return func(ctx context.Context, t line.Target, o line.DialOptions) (*linetest.Call, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.targets = append(p.targets, t)
		p.options = append(p.options, o)
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, line.ErrNoAnswer
		}
		leg := linetest.NewCall("callee", "")
		leg.Clock = w.clock
		leg.PlayTime = time.Millisecond
		p.legs = append(p.legs, leg)
		return leg, nil
	}
}

func TestCallbackThroughTheLine(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	dropped(t, w)
	w.clock.Advance(10 * time.Minute)

	var p callee
	c := w.phone(klaraPhone, "*#275931#4")
	c.Answerer = p.answer(w, nil)
	played, hungUp := w.run(c) // the caller never hangs up: the limit ends it
	if len(p.targets) != 1 || p.targets[0] != (line.Target{Phone: callerNumber}) {
		t.Fatalf("dialled %+v", p.targets)
	}
	if o := p.options[0]; o.CallerID != w.line().ShownNumber() || o.CallerName != w.line().Name {
		t.Errorf("the caller was shown %+v, not the line", o)
	}
	if !heard(played, "agent-menu", "callback-calling", "call-limit", "wrapup-intro") || !hungUp {
		t.Errorf("klara heard %v (hung up %v)", played, hungUp)
	}
	if slices.Contains(played, "goodbye") {
		t.Errorf("the menu went on after the callback: %v", played)
	}
	if got := c.Whispered(); !slices.Equal(got, []string{"number-3", "minutes-left", "one-minute-left"}) {
		t.Errorf("warnings to klara: %v", got)
	}
	leg := p.legs[0]
	if _, calleeHeard, calleeHungUp := leg.Result(); !calleeHungUp || !slices.Equal(calleeHeard, []string{"call-limit"}) {
		t.Errorf("the caller heard %v (hung up %v)", calleeHeard, calleeHungUp)
	}
	if len(leg.Whispered()) != 0 {
		t.Errorf("the caller heard a warning")
	}
	// The limit cut the talk at 20 minutes; the jumper may move the clock on
	// while the flow goes from the limit's timer to the record (1201 s on a
	// busy machine).
	rec := lastRecord(t, w)
	if !rec.Callback || rec.Agent != "klara" || rec.Outcome != line.OutcomeAnswered || !rec.LimitHit ||
		rec.Talk < 1200 || rec.Talk > 1205 || rec.Wrapup == nil || rec.Wrapup.Filled || !strings.HasPrefix(rec.ID, "callback-") {
		t.Errorf("record %+v", rec)
	}
	all, _ := w.lines.Records("peer", date("2026-05-19"), date("2026-05-19"))
	b, _ := json.Marshal(all)
	if strings.Contains(string(b), callerNumber) || strings.Contains(string(b), callerNumber[1:]) {
		t.Errorf("a record holds the caller's number: %s", b)
	}
	if w.lines.Callbacks() != 1 {
		t.Error("the number was forgotten right after the callback")
	}
}

func TestCallbackRefusedAfterTheWindow(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines) // callback_window 30m
	w.pins()
	dropped(t, w)
	w.clock.Set(at("2026-05-19 13:29:59"))
	if w.lines.Callbacks() != 1 {
		t.Fatal("the number is gone before the window ends")
	}
	w.clock.Set(at("2026-05-19 13:30:00"))
	if w.lines.Callbacks() != 0 {
		t.Fatal("the number is still in memory after the window")
	}
	var p callee
	c := w.phone(klaraPhone, "*#275931#4")
	c.Answerer = p.answer(w, nil)
	played, _ := w.run(c)
	if !heard(played, "agent-menu", "callback-none", "agent-menu") || slices.Contains(played, "callback-calling") {
		t.Errorf("klara heard %v", played)
	}
	if len(p.targets) != 0 {
		t.Errorf("dialled after the window: %+v", p.targets)
	}
}

func TestCallbackNotAnswered(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	dropped(t, w)
	var p callee
	c := w.phone(klaraPhone, "*#275931#4")
	c.Answerer = func(ctx context.Context, t line.Target, o line.DialOptions) (*linetest.Call, error) {
		<-ctx.Done() // rings until peerline gives up
		return p.answer(w, line.ErrNoAnswer)(ctx, t, o)
	}
	played, _ := w.run(c) // the clock jumps to the ring timeout: Wait is about 30 s
	if !heard(played, "callback-calling", "callback-no-answer", "agent-menu", "goodbye") {
		t.Errorf("klara heard %v", played)
	}
	rec := lastRecord(t, w)
	if !rec.Callback || rec.Outcome != line.OutcomeNotReached || rec.Wait < 30 || rec.Wait > 35 || rec.Agent != "klara" {
		t.Errorf("record %+v", rec)
	}
	if pr, _ := w.lines.AgentPresence("klara"); pr.Activity != line.Available {
		t.Errorf("klara after the callback: %+v", pr)
	}
}

func TestNoCallbackAfterTheSafetyKey(t *testing.T) {
	w := newWorld(t, "2026-05-19 13:00:00", config.Default().Lines)
	w.pins()
	dropped(t, w)                // an earlier caller is not called back instead
	w.clock.Advance(time.Minute) // klara's cooldown
	legs := make(chan *linetest.Call, 1)
	_, errc := startCall(w, "c2", func(context.Context, line.Target, line.DialOptions) (*linetest.Call, error) {
		leg := linetest.NewCall("agent-klara-2", "")
		leg.Clock = w.clock
		leg.PlayTime = time.Millisecond
		leg.Press("*9")
		legs <- leg
		return leg, nil
	})
	leg := waitFor(t, legs)
	waitPlayed(t, leg, "wrapup-intro")
	leg.CallerHangsUp()
	waitFor(t, errc)
	if rec := lastRecord(t, w); !rec.Flagged {
		t.Fatalf("record %+v", rec)
	}
	if w.lines.Callbacks() != 0 {
		t.Fatal("a caller is offered for callback after a call cut by the safety key")
	}
	played, _ := w.dial(klaraPhone, "*#275931#4")
	if !heard(played, "callback-none") {
		t.Errorf("klara heard %v", played)
	}
}

func (w *world) line() *config.Line {
	l, err := w.lines.Get("peer")
	if err != nil {
		w.t.Fatal(err)
	}
	return &l.Config
}
