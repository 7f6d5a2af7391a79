package elks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/rs/zerolog"
)

// Handler runs a call's flow (line.Lines).
type Handler interface {
	Handle(ctx context.Context, lineID string, c line.Call) error
}

// Server answers 46elks's requests for the lines' numbers. Each call is a
// leg (a line.Call) whose flow runs in package line; the requests 46elks
// makes take the flow's actions one at a time.
type Server struct {
	ctx     context.Context // ends when peerline stops: the legs end with it
	handler Handler
	clock   clock.Clock
	log     zerolog.Logger
	routes  config.Routes
	prompts map[string]prompts.Set
	base    string        // how 46elks reaches peerline, up to and with the secret
	hold    time.Duration // longest a request waits for the flow's next action
	guard   Guard

	mu     sync.Mutex
	legs   map[string]*leg // by peerline's id for the leg
	byElks map[string]*leg // by 46elks's call id: a retried voice_start finds its leg
	calls  sync.WaitGroup
}

// Options are the server's settings from the config.
type Options struct {
	Guard     Guard
	PublicURL string        // how 46elks reaches peerline's web listener
	Hold      time.Duration // 0: defaultHold
}

// defaultHold keeps a request well inside the time 46elks waits for an answer;
// a flow with nothing new by then gets a second of silence and is asked again.
const defaultHold = 8 * time.Second

// New is a server for the lines in cfg.
func New(ctx context.Context, cfg *config.Config, p map[string]prompts.Set, h Handler, clk clock.Clock, log zerolog.Logger, o Options) *Server {
	legs, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() { stop(line.ErrStopped) })
	s := &Server{ctx: legs, handler: h, clock: clk, log: log.With().Str("component", "pbx-elks").Logger(),
		routes: cfg.Routes(), prompts: p, hold: o.Hold, guard: o.Guard,
		legs: map[string]*leg{}, byElks: map[string]*leg{}}
	if s.hold <= 0 {
		s.hold = defaultHold
	}
	s.SetBase(o.PublicURL)
	return s
}

// SetBase sets how 46elks reaches peerline's web listener. With basic auth
// the URLs given to 46elks carry the user and password, as its requests (the
// sounds' GETs too) must.
func (s *Server) SetBase(public string) {
	base := strings.TrimSuffix(public, "/")
	if u, err := url.Parse(base); err == nil && s.guard.User != "" {
		u.User = url.UserPassword(s.guard.User, s.guard.Password)
		base = u.String()
	}
	s.base = base + Prefix + url.PathEscape(s.guard.Secret)
}

// Handler is the server behind its guard, for the web listener's mux at Prefix.
func (s *Server) Handler() http.Handler { return s.guard.Wrap(http.HandlerFunc(s.serve)) }

// Wait waits for the calls in progress to end.
func (s *Server) Wait() { s.calls.Wait() }

// The paths after the secret.
func (s *Server) url(parts ...string) string { return s.base + "/" + strings.Join(parts, "/") }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "sounds" {
		s.serveSound(w, r, parts[1], parts[2])
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "a form-encoded body", http.StatusBadRequest)
		return
	}
	var (
		a   Action
		err error
	)
	switch {
	case len(parts) == 1 && parts[0] == "calls":
		a, err = s.incoming(r.Context(), r.PostForm)
	case len(parts) == 3 && parts[0] == "next":
		a, err = s.next(r.Context(), parts[1], parts[2], r.PostForm)
	case len(parts) == 2 && parts[0] == "hangup":
		err = s.hangup(parts[1], r.PostForm)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	s.answer(w, a, err)
}

// Errors a request can get, none of which touches a call.
var (
	errUnknownNumber = errors.New("no line has that number")
	errUnknownLeg    = errors.New("no such call")
)

func (s *Server) answer(w http.ResponseWriter, a Action, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, errUnknownLeg):
		// A call peerline has forgotten (ended, or from before a restart):
		// 46elks would retry an error for hours; end it instead.
		a = Action{Hangup: "reject"}
	case errors.Is(err, errUnknownNumber):
		// 46elks retries what is not 2xx; a number that is not a line's
		// will not become one: refuse the call instead.
		a = Action{Hangup: "404"}
	case err != nil:
		s.log.Error().Err(err).Msg("46elks request failed")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b, err := json.Marshal(a)
	if err != nil { // a bug of ours: the call cannot go on
		s.log.Error().Err(err).Msg("an invalid 46elks action")
		b = []byte(`{"hangup":"reject"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// incoming starts a caller's leg and its flow and answers its first action.
// A retried request (46elks retries one it got no 2xx for) gets the same
// answer: it starts no second call.
func (s *Server) incoming(ctx context.Context, form url.Values) (Action, error) {
	c, err := ParseCall(form)
	if err != nil {
		return Action{}, err
	}
	if c.Direction != "incoming" {
		return Action{}, invalid("direction", "peerline places no calls through 46elks: only incoming ones")
	}
	lineID, ok := s.routes.Line(c.To)
	if !ok {
		return Action{}, errUnknownNumber
	}
	s.mu.Lock()
	l, retried := s.byElks[c.ID]
	if !retried {
		l = s.newLeg(c.ID, lineID, c.From)
	}
	s.mu.Unlock()
	if !retried {
		s.calls.Add(1)
		go s.run(l)
	}
	return l.turn(ctx, 0, "")
}

// run runs the line's flow for a caller's leg and hangs it up after.
func (s *Server) run(l *leg) {
	defer s.calls.Done()
	log := logging.With(logging.With(s.log, "call", l.ref), "line", l.lineID)
	if err := s.handler.Handle(l.ctx, l.lineID, l); err != nil && !errors.Is(err, errGone) && !errors.Is(err, line.ErrStopped) {
		log.Warn().Err(err).Msg("call flow ended with an error")
	}
	l.Hangup(context.Background())
	// 46elks reports the end at whenhangup; a leg it never reports is let go
	// after a while, so a lost request leaks nothing.
	s.clock.AfterFunc(time.Minute, func() { s.forget(l) })
}

// next is a request to an action's next address: the action's result, and
// the leg's next action as the answer.
func (s *Server) next(ctx context.Context, ref, seqText string, form url.Values) (Action, error) {
	r, err := ParseResult(form)
	if err != nil {
		return Action{}, err
	}
	seq, err := strconv.Atoi(seqText)
	if err != nil || seq < 1 {
		return Action{}, errUnknownLeg
	}
	l := s.leg(ref)
	if l == nil || l.elksID != r.CallID {
		return Action{}, errUnknownLeg
	}
	return l.turn(ctx, seq, r.Result)
}

// hangup is 46elks's report that a call has ended.
func (s *Server) hangup(ref string, form url.Values) error {
	id, err := ParseHangup(form)
	if err != nil {
		return err
	}
	l := s.leg(ref)
	if l == nil || l.elksID != id {
		return nil // ended and forgotten already: a retried report
	}
	l.end(errGone)
	s.forget(l)
	return nil
}

func (s *Server) leg(ref string) *leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[ref]
}

func (s *Server) forget(l *leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.legs, l.ref)
	delete(s.byElks, l.elksID)
}

// soundPart is how long a part of a looping sound (ringback, hold music) is:
// 46elks plays an action to its end, so the next action waits at most this.
const soundPart = 2 * time.Second

// serveSound serves a line's prompt as WAV: name.wav whole, name.N.wav its
// N-th part of soundPart (ringback is a tone of its own).
func (s *Server) serveSound(w http.ResponseWriter, r *http.Request, lineID, file string) {
	name, ok := strings.CutSuffix(file, ".wav")
	if !ok {
		http.NotFound(w, r)
		return
	}
	part := -1
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 0 {
			http.NotFound(w, r)
			return
		}
		name, part = name[:i], n
	}
	p, ok := s.sound(lineID, name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if part >= 0 {
		n := int(soundPart / (time.Second / 8000))
		from := (part * n) % max(len(p.Samples), 1)
		p = &media.Prompt{Name: p.Name, Samples: p.Samples[from:min(from+n, len(p.Samples))]}
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(p.WAV())
}

// sound is a line's prompt, ringback, or a second of silence.
func (s *Server) sound(lineID, name string) (*media.Prompt, bool) {
	switch name {
	case "ringback":
		return ringback(), true
	case "silence":
		return silence(), true
	}
	set, ok := s.prompts[lineID]
	if !ok {
		return nil, false
	}
	p, ok := set[name]
	return p, ok
}

// ringback is the Swedish ringback tone, one cadence (1 s of tone, 5 s
// quiet), made when first asked for: a peerline without 46elks never is.
var ringback = sync.OnceValue(func() *media.Prompt {
	samples := make([]int16, 6*8000)
	for f := 0; f*media.SamplesPerFrame < len(samples); f++ {
		media.Ringback.Frame(f, samples[f*media.SamplesPerFrame:(f+1)*media.SamplesPerFrame])
	}
	return &media.Prompt{Name: "ringback", Samples: samples}
})

var silence = sync.OnceValue(func() *media.Prompt { return &media.Prompt{Name: "silence", Samples: make([]int16, 8000)} })

func (s *Server) soundURL(lineID, name string, part int) string {
	if part < 0 {
		return s.url("sounds", lineID, name+".wav")
	}
	return s.url("sounds", lineID, fmt.Sprintf("%s.%d.wav", name, part))
}
