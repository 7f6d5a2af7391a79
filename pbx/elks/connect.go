package elks

import (
	"context"
	"fmt"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
)

// 46elks rings and connects another phone with one action on a leg
// (connect), and says how it went only when the connected call has ended.
// So a leg's Dial is that action, and the agent counts as having answered
// once 46elks's ring time has passed without a failure: 46elks rings for the
// connect's timeout and then reports failed. The ring time given to 46elks is
// a little shorter than the flow's, so the flow hears of the answer before its
// own ring timeout ends the ringing.

// ringMargin is how much shorter 46elks rings than the flow, and
// answerGrace how long after that a failure may still come.
const (
	ringMargin  = 3 * time.Second
	answerGrace = 2 * time.Second
)

// Dial connects this leg to t's phone, showing o.CallerID.
func (l *leg) Dial(ctx context.Context, t line.Target, o line.DialOptions) (line.Call, error) {
	if !numberPattern.MatchString(t.Phone) {
		return nil, fmt.Errorf("46elks reaches phone numbers only: %w", line.ErrUnreachable)
	}
	// Without a callerid 46elks shows the caller's own number: never.
	if !numberPattern.MatchString(o.CallerID) {
		return nil, fmt.Errorf("the line's number %q is no E.164 number to show: %w", o.CallerID, line.ErrUnreachable)
	}
	l.mu.Lock()
	busy := l.connected
	l.connected = true
	l.mu.Unlock()
	if busy { // one connect at a time: a line rings its agents one by one
		return nil, fmt.Errorf("a connect is in progress: %w", line.ErrUnreachable)
	}
	ring := max(o.RingTimeout-ringMargin, 5*time.Second)
	res, err := l.give(ctx, Action{Connect: t.Phone, CallerID: o.CallerID, Timeout: seconds(ring, 5, 600)})
	if err != nil {
		l.release()
		return nil, err
	}
	// The ring time counts from when 46elks took the connect, not from
	// before: it may have been playing a part of ringback (soundPart) first.
	answered, timer := clock.After(l.s.clock, ring+answerGrace)
	defer timer.Stop()
	select {
	case r := <-res: // ended before it could count as answered
		l.release()
		return nil, failure(r)
	case <-answered:
		return l.connectedLeg(res), nil
	case <-ctx.Done():
		// The flow stopped ringing (the caller hung up, or its ring timeout):
		// 46elks rings on until its own, shorter, timeout.
		l.release()
		return nil, ctx.Err()
	case <-l.ctx.Done():
		l.release()
		return nil, context.Cause(l.ctx)
	}
}

func (l *leg) release() {
	l.mu.Lock()
	l.connected = false
	l.mu.Unlock()
}

// failure is why a connect was not answered.
func failure(result string) error {
	switch result {
	case "busy":
		return line.ErrBusy
	case "success": // answered and ended within the ring time
		return fmt.Errorf("the connected call ended at once: %w", line.ErrNoAnswer)
	default:
		return line.ErrNoAnswer
	}
}

// connected is the agent's side of a connect: it lasts until 46elks reports
// the connect's result (the connected call ended) or the leg ends. 46elks
// sends no keys and plays nothing to one side during a connect.
type connected struct {
	from *leg
	ref  string
	ctx  context.Context // ends when the connected call has
}

func (l *leg) connectedLeg(res <-chan string) *connected {
	ctx, end := context.WithCancel(l.ctx)
	c := &connected{from: l, ref: line.NewCallID(), ctx: ctx}
	go func() {
		select {
		case <-res:
		case <-ctx.Done():
		}
		l.release()
		end()
	}()
	return c
}

func (c *connected) ID() string                         { return c.ref }
func (c *connected) Caller() string                     { return "" }
func (c *connected) Answer(context.Context) error       { return nil }
func (c *connected) Done() <-chan struct{}              { return c.ctx.Done() }
func (c *connected) Context() context.Context           { return c.ctx }
func (c *connected) Play(context.Context, string) error { return errUnsupported }
func (c *connected) Ring(ctx context.Context) error     { return nil }
func (c *connected) Hold(ctx context.Context) error     { return nil }
func (c *connected) Hangup(context.Context) error       { return nil } // only the whole call can end
func (c *connected) Bridge(context.Context, line.Call) (line.Bridge, error) {
	return nil, errUnsupported
}
func (c *connected) Conference(context.Context, ...line.Call) (line.Bridge, error) {
	return nil, line.ErrNoConference
}
func (c *connected) Dial(context.Context, line.Target, line.DialOptions) (line.Call, error) {
	return nil, errUnsupported
}

// Keys is nil: 46elks reports no keys during a connect.
func (c *connected) Keys() <-chan byte { return nil }

// Collect waits, keyless, until the connected call ends: 46elks reports no
// keys during a connect, so the agent's keys (the end and safety keys, the
// wrap-up's) are not heard.
func (c *connected) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-c.ctx.Done():
		return "", errGone
	}
}

// Bridge on the caller's leg with the leg its connect made: 46elks has them
// talking already; the bridge lasts as long as the connect.
func (l *leg) Bridge(ctx context.Context, other line.Call) (line.Bridge, error) {
	c, ok := other.(*connected)
	if !ok || c.from != l {
		return nil, fmt.Errorf("46elks: only a leg's own connect is bridged to it: %w", errUnsupported)
	}
	return bridge{c}, nil
}

type bridge struct{ c *connected }

func (b bridge) Done() <-chan struct{} { return b.c.ctx.Done() }
func (b bridge) Stop()                 {}

// Whisper: 46elks plays nothing to one side of a connect.
func (b bridge) Whisper(line.Call, ...string) error { return errUnsupported }
