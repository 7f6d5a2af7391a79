// Package linetest is a scripted call for testing the line's flows without telephony.
package linetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/line"
)

// Call is a fake line.Call that records what the flow did to it.
type Call struct {
	CallID, From string
	PlayTime     time.Duration // how long each prompt takes to play
	// Answerer decides what happens when the flow dials t; nil refuses every dial
	// with line.ErrUnreachable. It may block until ctx ends, as a ringing phone does.
	Answerer func(ctx context.Context, t line.Target, o line.DialOptions) (*Call, error)
	// Clock runs Collect's key timeouts; nil is the real clock.
	Clock clock.Clock
	// OnAnswer, when set, runs as the flow answers the call (a test's moment
	// to stop peerline between the answer and the bridge, say).
	OnAnswer func()
	// Prompts are the line's prompts; nil: every name is one. Play and Whisper
	// of another are line.ErrNoPrompt, as on the real drivers.
	Prompts []string
	// NoConference makes Conference fail with line.ErrNoConference.
	NoConference bool

	keys chan byte // pressed, not yet collected

	mu          sync.Mutex
	answered    bool
	played      []string
	rang        bool
	held        int
	dialled     []line.Target
	options     []line.DialOptions
	bridged     bool
	conferences int
	joins       [][]string
	whispers    []string
	hungUp      bool
	done        chan struct{}
	once        sync.Once
}

// NewCall returns a call from number with the given id.
func NewCall(id, from string) *Call {
	return &Call{CallID: id, From: from, done: make(chan struct{}), keys: make(chan byte, 64)}
}

// Press presses keys on the phone, as the far end would: they wait for the
// flow's next Collect, and the first one cuts its prompts short.
func (c *Call) Press(keys string) {
	for i := range len(keys) {
		c.keys <- keys[i]
	}
}

// Unread is how many pressed keys the flow has not collected yet.
func (c *Call) Unread() int { return len(c.keys) }

// Collect plays the prompts (recorded as Play does) and gathers pressed keys the
// way a SIP leg does.
func (c *Call) Collect(ctx context.Context, o line.CollectOptions) (string, error) {
	clk := c.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return line.Collect(ctx, clk, c.keys, c.Play, o)
}

// Keys are the pressed keys no Collect took, as on a SIP leg.
func (c *Call) Keys() <-chan byte { return c.keys }

func (c *Call) ID() string     { return c.CallID }
func (c *Call) Caller() string { return c.From }

func (c *Call) Answer(context.Context) error {
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	if c.OnAnswer != nil {
		c.OnAnswer()
	}
	return nil
}

// bound is ctx that also ends with the call, as a real leg's actions do.
func (c *Call) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (c *Call) has(prompt string) error {
	if c.Prompts != nil && !slices.Contains(c.Prompts, prompt) {
		return fmt.Errorf("prompt %q: %w", prompt, line.ErrNoPrompt)
	}
	return nil
}

// Play records the prompt and takes PlayTime, or less if ctx or the call ends.
func (c *Call) Play(ctx context.Context, prompt string) error {
	if err := c.has(prompt); err != nil {
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	c.mu.Lock()
	c.played = append(c.played, prompt)
	c.mu.Unlock()
	select {
	case <-time.After(c.PlayTime):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ring records that the caller heard ringback and waits for ctx or the call's end.
func (c *Call) Ring(ctx context.Context) error {
	c.mu.Lock()
	c.rang = true
	c.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-c.done:
	}
	return nil
}

// Hold counts that the caller heard hold music and waits for ctx.
func (c *Call) Hold(ctx context.Context) error {
	c.mu.Lock()
	c.held++
	c.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-c.done:
	}
	return nil
}

// Held is how many times hold music started.
func (c *Call) Held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Dial records the target and asks Answerer.
func (c *Call) Dial(ctx context.Context, t line.Target, o line.DialOptions) (line.Call, error) {
	c.mu.Lock()
	c.dialled = append(c.dialled, t)
	c.options = append(c.options, o)
	c.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("dial: %w", context.Cause(ctx))
	case c.Answerer == nil, t.Phone == "" && t.SIPURI == "":
		return nil, fmt.Errorf("dial %s: %w", t.Agent, line.ErrUnreachable)
	}
	leg, err := c.Answerer(ctx, t, o)
	if err != nil {
		return nil, err
	}
	return leg, nil
}

// Bridge joins c and other until either hangs up or Stop.
func (c *Call) Bridge(ctx context.Context, other line.Call) (line.Bridge, error) {
	return join(ctx, false, c, other)
}

// Conference joins c and others until one hangs up or Stop; with
// NoConference set it is line.ErrNoConference, as from a PBX that cannot.
func (c *Call) Conference(ctx context.Context, others ...line.Call) (line.Bridge, error) {
	if c.NoConference {
		return nil, line.ErrNoConference
	}
	return join(ctx, true, append([]line.Call{c}, others...)...)
}

func join(ctx context.Context, conference bool, legs ...line.Call) (line.Bridge, error) {
	for _, x := range legs {
		select {
		case <-x.Done():
			return nil, errors.New("bridge: a leg has ended")
		default:
		}
	}
	var ids []string
	for _, x := range legs {
		ids = append(ids, x.ID())
	}
	for _, x := range legs {
		if f, ok := x.(*Call); ok {
			f.mu.Lock()
			f.bridged = true
			f.joins = append(f.joins, ids)
			if conference {
				f.conferences++
			}
			f.mu.Unlock()
		}
	}
	b := &bridge{stop: make(chan struct{}), done: make(chan struct{})}
	ended := make(chan struct{}, 1)
	for _, x := range legs {
		go func() {
			select {
			case <-x.Done():
				select {
				case ended <- struct{}{}:
				default:
				}
			case <-b.done:
			}
		}()
	}
	go func() {
		defer close(b.done)
		select {
		case <-ended:
		case <-ctx.Done():
		case <-b.stop:
		}
	}()
	return b, nil
}

// Joins lists, for each bridge or conference the leg was in, the ids of the
// legs in it.
func (c *Call) Joins() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.joins)
}

// Conferences is how many times the leg was in a conference.
func (c *Call) Conferences() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conferences
}

type bridge struct {
	once       sync.Once
	stop, done chan struct{}
}

func (b *bridge) Done() <-chan struct{} { return b.done }

// Whisper records the prompts on leg (see Whispered).
func (b *bridge) Whisper(leg line.Call, prompts ...string) error {
	if f, ok := leg.(*Call); ok {
		for _, p := range prompts {
			if err := f.has(p); err != nil {
				return err
			}
		}
		f.mu.Lock()
		f.whispers = append(f.whispers, prompts...)
		f.mu.Unlock()
	}
	return nil
}

// Whispered is what was whispered to this leg while bridged.
func (c *Call) Whispered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.whispers...)
}
func (b *bridge) Stop() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (c *Call) Hangup(context.Context) error {
	select {
	case <-c.done:
		return nil // ended already: the far end hung up, or we did
	default:
	}
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
	c.CallerHangsUp()
	return nil
}

func (c *Call) Done() <-chan struct{} { return c.done }

// CallerHangsUp ends the call from the far end.
func (c *Call) CallerHangsUp() { c.once.Do(func() { close(c.done) }) }

// Result is what happened to the call.
func (c *Call) Result() (answered bool, played []string, hungUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered, append([]string(nil), c.played...), c.hungUp
}

// Connection is what the flow did about agents: whether ringback played, whom it
// dialled with which options, and whether the call was bridged.
func (c *Call) Connection() (rang bool, dialled []line.Target, options []line.DialOptions, bridged bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rang, append([]line.Target(nil), c.dialled...), append([]line.DialOptions(nil), c.options...), c.bridged
}
