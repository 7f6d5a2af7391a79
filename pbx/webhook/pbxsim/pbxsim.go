// Package pbxsim is a hosted PBX as peerline's webhook protocol sees it: it
// posts calls, runs the actions it gets (fetching each prompt's WAV, playing
// nothing aloud), posts their results, and reports keys and hang-ups. Tests and
// integrators use it to drive peerline without a telephone.
package pbxsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/peerline/peerline/pbx/webhook"
)

// Sim is a PBX with its credentials.
type Sim struct {
	URL    string // peerline, e.g. http://127.0.0.1:8080
	Auth   string // hmac or bearer
	Secret string
	Client *http.Client     // nil: http.DefaultClient
	Now    func() time.Time // the signatures' time; nil: time.Now
	Dials  chan *Leg        // legs peerline dialled, for the caller of Sim to answer or fail

	// PressDuring has keys to press while a prompt plays, by prompt name (a
	// caller's '*' during the announcement); each is pressed once.
	PressDuring map[string]string
	pressMu     sync.Mutex

	// NoConference makes the PBX one that cannot join three legs: it fails
	// the conference action with cause "unsupported".
	NoConference bool
}

// pressFor takes the keys to press while prompt url plays.
func (s *Sim) pressFor(url string) string {
	s.pressMu.Lock()
	defer s.pressMu.Unlock()
	for name, keys := range s.PressDuring {
		if strings.HasSuffix(url, "/"+name+".wav") {
			delete(s.PressDuring, name)
			return keys
		}
	}
	return ""
}

// New is a simulator for peerline at url.
func New(url, auth, secret string) *Sim {
	return &Sim{URL: strings.TrimSuffix(url, "/"), Auth: auth, Secret: secret, Dials: make(chan *Leg, 16)}
}

// Leg is one call leg at the PBX.
type Leg struct {
	sim  *Sim
	ID   string
	Dial webhook.Action // a dialled leg: the action that made it

	mu      sync.Mutex
	actions []webhook.Action
	changed chan struct{}
	done    chan struct{}
	err     error
}

func (s *Sim) newLeg(id string) *Leg {
	return &Leg{sim: s, ID: id, changed: make(chan struct{}), done: make(chan struct{})}
}

// Post sends body (JSON-encoded unless []byte) to path, signed, and returns the
// status and the answer.
func (s *Sim) Post(ctx context.Context, path string, body any) (int, []byte, error) {
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+webhook.Prefix+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Auth == "bearer" {
		req.Header.Set("Authorization", "Bearer "+s.Secret)
	} else {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(s.Secret, now(), requestID(), b))
	}
	res, err := s.client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

func (s *Sim) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return http.DefaultClient
}

// requestID is a fresh id for a signed request.
func requestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Call places a call from one number to another and runs its actions until it
// ends.
func (s *Sim) Call(ctx context.Context, id, from, to string) (*Leg, error) {
	l := s.newLeg(id)
	a, err := l.expectAction(s.Post(ctx, "calls", webhook.NewCall{CallID: id, From: from, To: to}))
	if err != nil {
		return nil, err
	}
	go l.run(ctx, a)
	return l, nil
}

func (l *Leg) expectAction(code int, body []byte, err error) (webhook.Action, error) {
	var a webhook.Action
	if err != nil {
		return a, err
	}
	if code != http.StatusOK {
		return a, fmt.Errorf("%s: %d %s", l.ID, code, bytes.TrimSpace(body))
	}
	return a, json.Unmarshal(body, &a)
}

// run carries out actions until a hangup, the leg's own hang-up, or an error.
func (l *Leg) run(ctx context.Context, a webhook.Action) {
	var err error
	defer func() { l.finish(err) }()
	for {
		l.record(a)
		res, last := l.execute(ctx, a)
		if last {
			return
		}
		if a, err = l.expectAction(l.sim.Post(ctx, "calls/"+l.ID+"/results", res)); err != nil {
			if strings.Contains(err.Error(), "call_ended") {
				err = nil
			}
			return
		}
	}
}

func (l *Leg) execute(ctx context.Context, a webhook.Action) (webhook.Result, bool) {
	res := webhook.Result{Seq: a.Seq, Result: webhook.ResStarted}
	switch a.Action {
	case webhook.ActHangup:
		return res, true
	case "ringing": // a dialled leg's start
		res.Result = webhook.ResRinging
	case webhook.ActAnswer:
		res.Result = webhook.ResDone
	case webhook.ActPlay:
		res.Result = webhook.ResDone
		for _, u := range a.Prompts {
			if err := l.sim.fetch(ctx, u); err != nil {
				res.Result, res.Cause = webhook.ResFailed, err.Error()
			}
			if keys := l.sim.pressFor(u); keys != "" {
				l.Press(ctx, keys)
			}
		}
	case webhook.ActConference:
		if l.sim.NoConference {
			res.Result, res.Cause = webhook.ResFailed, webhook.CauseUnsupported
		}
	case webhook.ActDial:
		d := l.sim.newLeg(a.Leg)
		d.Dial = a
		go d.run(ctx, webhook.Action{Seq: 0, Action: "ringing"})
		select {
		case l.sim.Dials <- d:
		default:
		}
	}
	return res, false
}

// fetch gets a prompt's WAV as a PBX would before playing it.
func (s *Sim) fetch(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(res.Body, head); err != nil || res.StatusCode != http.StatusOK || string(head) != "RIFF" {
		return fmt.Errorf("prompt %s: %d, not a WAV", url, res.StatusCode)
	}
	io.Copy(io.Discard, res.Body)
	return nil
}

func (l *Leg) record(a webhook.Action) {
	if a.Action == "ringing" { // a dialled leg's start: it posts ringing for seq 0
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.actions = append(l.actions, a)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *Leg) finish(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		l.err = err
		close(l.done)
	}
}

// Done is closed when the leg has ended; Err says why it ended badly, if so.
func (l *Leg) Done() <-chan struct{} { return l.done }

func (l *Leg) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Actions are the actions the leg got so far.
func (l *Leg) Actions() []webhook.Action {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]webhook.Action(nil), l.actions...)
}

// WaitFor waits at most d for an action that match accepts, among those the
// leg got since its from'th action, and returns its index.
func (l *Leg) WaitFor(d time.Duration, from int, match func(webhook.Action) bool) (webhook.Action, int, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.actions); i++ {
			if match(l.actions[i]) {
				a := l.actions[i]
				l.mu.Unlock()
				return a, i, true
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-t.C:
			return webhook.Action{}, 0, false
		}
	}
}

// Answer reports that a dialled leg answered.
func (l *Leg) Answer(ctx context.Context) error {
	return l.event(ctx, webhook.Event{Event: "answered"})
}

// Fail reports that a dialled leg was not answered: busy, declined, no_answer or unreachable.
func (l *Leg) Fail(ctx context.Context, cause string) error {
	return l.event(ctx, webhook.Event{Event: "failed", Cause: cause})
}

// Press reports keys, one event each, in order.
func (l *Leg) Press(ctx context.Context, keys string) error {
	for _, k := range keys {
		if err := l.event(ctx, webhook.Event{Event: "dtmf", Digit: string(k)}); err != nil {
			return err
		}
	}
	return nil
}

// Hangup reports that the leg hung up.
func (l *Leg) Hangup(ctx context.Context) error {
	err := l.event(ctx, webhook.Event{Event: "hangup"})
	l.finish(nil)
	return err
}

func (l *Leg) event(ctx context.Context, e webhook.Event) error {
	code, body, err := l.sim.Post(ctx, "calls/"+l.ID+"/events", e)
	if err == nil && code != http.StatusNoContent {
		err = fmt.Errorf("%s %s: %d %s", l.ID, e.Event, code, bytes.TrimSpace(body))
	}
	return err
}

// Is matches an action by name and, when given, a prompt it plays.
func Is(action, prompt string) func(webhook.Action) bool {
	return func(a webhook.Action) bool {
		if a.Action != action {
			return false
		}
		if prompt == "" {
			return true
		}
		for _, p := range a.Prompts {
			if strings.HasSuffix(p, "/"+prompt+".wav") {
				return true
			}
		}
		return false
	}
}
