// Package elkstest plays 46elks for tests: it posts exactly the documented
// requests (receive-call's voice_start, each action's result to its next,
// whenhangup), checks every answer against the documented action schema,
// fetches every sound it is told to play, and runs connects and key presses
// as a test scripts them.
package elkstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/elks"
)

// Sim is 46elks for one peerline: its voice_start address for the numbers.
type Sim struct {
	VoiceStart string
	HTTP       *http.Client
}

// Call is one call 46elks carries: what peerline told it, and the script.
type Call struct {
	ID   string
	sim  *Sim
	from string
	to   string

	// Keys are the answers to the call's ivr actions, in turn ("": nothing pressed).
	Keys chan string
	// Connects gets each connect peerline asks for; the test answers it.
	Connects chan *Connect

	mu         sync.Mutex
	actions    []elks.Action
	whenHangup string
	hungUp     bool // by the caller (the test)
	done       chan struct{}
	err        error
}

// Connect is a connect peerline asked for: the test says how it goes.
type Connect struct {
	Action elks.Action
	result chan string
	ended  chan struct{}
}

// Busy, Answer and End script the connect: Answer keeps the two talking
// until End (or the caller hangs up).
func (c *Connect) Busy()   { c.result <- "busy" }
func (c *Connect) Answer() { c.result <- "" }
func (c *Connect) End()    { close(c.ended) }

var ids atomic.Int64

func newID() string { return fmt.Sprintf("c%031x", ids.Add(1)) }

// Place starts a call from from to to, as 46elks does when someone rings one
// of the numbers, and runs it until it ends.
func (s *Sim) Place(ctx context.Context, from, to string) *Call {
	c := &Call{ID: newID(), sim: s, from: from, to: to, Keys: make(chan string, 16), Connects: make(chan *Connect, 4),
		done: make(chan struct{})}
	form := url.Values{"direction": {"incoming"}, "callid": {c.ID}, "from": {from}, "to": {to},
		"created": {time.Now().UTC().Format("2006-01-02T15:04:05.000000")}}
	go c.run(ctx, s.VoiceStart, form)
	return c
}

// HangUp is the caller hanging up: 46elks posts whenhangup and asks nothing more.
func (c *Call) HangUp() {
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
}

// Done is closed when the call has ended; Err says what went wrong, if anything.
func (c *Call) Done() <-chan struct{} { return c.done }
func (c *Call) Err() error            { <-c.done; return c.err }

// Actions is every action peerline gave so far.
func (c *Call) Actions() []elks.Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]elks.Action(nil), c.actions...)
}

func (c *Call) run(ctx context.Context, first string, form url.Values) {
	defer close(c.done)
	c.err = c.loop(ctx, first, form)
	c.reportHangup(ctx)
}

func (c *Call) caller() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hungUp
}

// loop posts each request and runs the action it gets, until a hangup
// action, an action without next, or the caller hanging up.
func (c *Call) loop(ctx context.Context, to string, form url.Values) error {
	for {
		if c.caller() {
			return nil
		}
		a, err := c.post(ctx, to, form)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.actions = append(c.actions, a)
		if a.WhenHangup != "" {
			c.whenHangup = a.WhenHangup
		}
		c.mu.Unlock()
		result, err := c.runAction(ctx, a)
		if err != nil || a.Hangup != "" || a.Next == "" {
			return err
		}
		to, form = a.Next, url.Values{"callid": {c.ID}, "direction": {"incoming"}, "from": {c.from}, "to": {c.to}, "result": {result}}
	}
}

// post sends one request and reads the action, checked against the schema.
func (c *Call) post(ctx context.Context, to string, form url.Values) (elks.Action, error) {
	status, body, err := postForm(ctx, c.sim.client(), to, form.Encode())
	if err != nil {
		return elks.Action{}, err
	}
	if status < 200 || status > 204 {
		return elks.Action{}, fmt.Errorf("POST %s: HTTP %d: %s", to, status, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var a elks.Action
	if err := dec.Decode(&a); err != nil {
		return elks.Action{}, fmt.Errorf("an answer that is no action: %s: %w", body, err)
	}
	if err := a.Validate(); err != nil {
		return elks.Action{}, fmt.Errorf("%s: %w", body, err)
	}
	return a, nil
}

// postForm posts a form-encoded body as 46elks does.
func postForm(ctx context.Context, client *http.Client, to, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// runAction does what 46elks does with a and returns the result to post.
func (c *Call) runAction(ctx context.Context, a elks.Action) (string, error) {
	switch {
	case a.Play != "":
		return "success", c.fetch(ctx, a.Play)
	case a.IVR != "":
		if err := c.fetch(ctx, a.IVR); err != nil {
			return "", err
		}
		select {
		case k := <-c.Keys:
			return k, nil
		case <-time.After(100 * time.Millisecond): // the test presses nothing: the ivr's timeout
			return "", nil
		}
	case a.Connect != "":
		cn := &Connect{Action: a, result: make(chan string, 1), ended: make(chan struct{})}
		select {
		case c.Connects <- cn:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		var r string
		select {
		case r = <-cn.result:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if r != "" {
			return r, nil
		}
		select { // answered: they talk until the connect ends or the caller hangs up
		case <-cn.ended:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return "success", nil
	}
	return "", nil
}

// fetch gets a sound as 46elks would before playing it: it must be a WAV.
func (c *Call) fetch(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.sim.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("RIFF")) {
		return fmt.Errorf("GET %s: HTTP %d, %d bytes that are no WAV", u, resp.StatusCode, len(b))
	}
	return nil
}

// reportHangup posts whenhangup as 46elks does when a call ends.
func (c *Call) reportHangup(ctx context.Context) {
	c.mu.Lock()
	to := c.whenHangup
	c.mu.Unlock()
	if to == "" {
		return
	}
	form := url.Values{"id": {c.ID}, "direction": {"incoming"}, "from": {c.from}, "to": {c.to}, "state": {"success"},
		"duration": {"1"}, "created": {time.Now().UTC().Format("2006-01-02T15:04:05.000000")}}
	status, _, err := postForm(context.WithoutCancel(ctx), c.sim.client(), to, form.Encode())
	if err == nil && status/100 != 2 && c.err == nil {
		c.err = fmt.Errorf("whenhangup: HTTP %d", status)
	}
}

func (s *Sim) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return http.DefaultClient
}

// Names writes actions as a test reads them: "play greeting.wav, ivr
// agent-pin.wav, connect +4670…, hangup reject".
func Names(as []elks.Action) string {
	var out []string
	for _, a := range as {
		switch {
		case a.Play != "":
			out = append(out, "play "+a.Play[strings.LastIndex(a.Play, "/")+1:])
		case a.IVR != "":
			out = append(out, "ivr "+a.IVR[strings.LastIndex(a.IVR, "/")+1:])
		case a.Connect != "":
			out = append(out, "connect "+a.Connect)
		case a.Hangup != "":
			out = append(out, "hangup "+a.Hangup)
		}
	}
	return strings.Join(out, ", ")
}

// Post sends a form as 46elks does and returns the status and the body.
func Post(tb testing.TB, u, form string) (int, string) {
	tb.Helper()
	status, b, err := postForm(context.Background(), http.DefaultClient, u, form)
	if err != nil {
		tb.Fatal(err)
	}
	return status, string(b)
}
