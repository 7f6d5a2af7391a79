package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/apierror"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/rs/zerolog"
)

// Handler runs a call on a line to its end (line.Lines does).
type Handler interface {
	Handle(ctx context.Context, lineID string, c line.Call) error
}

// Prefix is where the protocol lives.
const Prefix = "/pbx/v1/"

// endedKept is how long an ended leg is remembered, so that a late or repeated
// request about it gets 410 rather than 404.
const endedKept = 10 * time.Minute

// Server speaks the protocol: an http.Handler for everything under Prefix.
type Server struct {
	ctx     context.Context // ends the legs when peerline stops
	handler Handler
	clock   clock.Clock
	log     zerolog.Logger
	auth    authenticator
	base    string // the prompts' URL prefix
	poll    time.Duration
	silence time.Duration
	routes  config.Routes          // number -> line id
	prompts map[string]prompts.Set // line id -> its prompts
	calls   sync.WaitGroup
	n       atomic.Uint64

	mu    sync.Mutex
	legs  map[string]*leg
	ended map[string]time.Time // ended legs' ids -> when
}

// New builds the server with each line's prompts (prompts.LoadLines); it
// serves no PBX when cfg.PBX.Webhooks is empty. The legs end with ctx, as
// peerline stopping (line.ErrStopped).
func New(ctx context.Context, cfg *config.Config, p map[string]prompts.Set, h Handler, clk clock.Clock, log zerolog.Logger) *Server {
	legs, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() { stop(line.ErrStopped) })
	s := &Server{ctx: legs, handler: h, clock: clk, log: log.With().Str("component", "pbx-webhook").Logger(),
		auth: authenticator{pbxs: cfg.PBX.Webhooks}, poll: cfg.PBX.Poll.D(), silence: cfg.PBX.Silence.D(),
		routes: cfg.Routes(), prompts: p, legs: map[string]*leg{}, ended: map[string]time.Time{}}
	s.base = strings.TrimSuffix(cfg.PBX.PublicURL, "/")
	if s.base == "" {
		s.base = "http://" + cfg.HTTP.Listen
	}
	return s
}

// SetBase changes the prompts' URL prefix, for a listener whose port is known
// only once it listens.
func (s *Server) SetBase(url string) { s.base = strings.TrimSuffix(url, "/") }

// Wait waits for the calls in progress to end.
func (s *Server) Wait() { s.calls.Wait() }

func (s *Server) promptURL(lineID, name string) (string, error) {
	if _, ok := s.prompts[lineID][name]; !ok {
		return "", fmt.Errorf("prompt %q: %w", name, line.ErrNoPrompt)
	}
	return s.base + Prefix + "prompts/" + lineID + "/" + name + ".wav", nil
}

func (s *Server) legID(parent string) string {
	return fmt.Sprintf("%s.%d", parent, s.n.Add(1))
}

func (s *Server) add(l *leg) *leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legs[l.id] = l
	return l
}

func fail(status int, code, format string, args ...any) *apierror.Error {
	return apierror.New(status, code, format, args...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	var err error
	switch parts := strings.Split(rest, "/"); {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "prompts":
		err = s.servePrompt(w, parts[1], strings.TrimSuffix(parts[2], ".wav"))
	case r.Method != http.MethodPost:
		err = fail(http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
	case len(parts) == 1 && parts[0] == "calls":
		err = s.authed(w, r, func(pbx string, body []byte) (any, error) { return s.newCall(r.Context(), pbx, body) })
	case len(parts) == 3 && parts[0] == "calls" && parts[2] == "results":
		err = s.authed(w, r, func(pbx string, body []byte) (any, error) { return s.result(r.Context(), pbx, parts[1], body) })
	case len(parts) == 3 && parts[0] == "calls" && parts[2] == "events":
		err = s.authed(w, r, func(pbx string, body []byte) (any, error) { return nil, s.event(pbx, parts[1], body) })
	default:
		err = fail(http.StatusNotFound, "not_found", "no such resource: %s", r.URL.Path)
	}
	if err != nil {
		s.answerError(w, err)
	}
}

// authed reads the body, checks who sent it, and answers what f returns: an
// Action as JSON, or 204 for nothing.
func (s *Server) authed(w http.ResponseWriter, r *http.Request, f func(pbx string, body []byte) (any, error)) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fail(http.StatusBadRequest, "bad_body", "reading the body: %v", err)
	}
	pbx, err := s.auth.check(r, body, s.clock.Now())
	switch {
	case errors.Is(err, errReplayed):
		return fail(http.StatusConflict, "replayed", "%v", err)
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="peerline-pbx"`)
		return fail(http.StatusUnauthorized, "unauthorized", "%v", err)
	}
	out, err := f(pbx, body)
	if err != nil {
		return err
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

func (s *Server) answerError(w http.ResponseWriter, err error) {
	var ae *apierror.Error
	if ie, ok := input.As(err); ok {
		ae = apierror.Invalid(ie)
	} else if !errors.As(err, &ae) {
		s.log.Error().Err(err).Msg("pbx request failed")
		ae = fail(http.StatusInternalServerError, "internal", "internal error; it has been logged")
	}
	apierror.Write(w, ae)
}

func (s *Server) servePrompt(w http.ResponseWriter, lineID, name string) error {
	p, ok := s.prompts[lineID][name]
	if !ok {
		return fail(http.StatusNotFound, "not_found", "no prompt %q on line %q", name, lineID)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := io.Copy(w, bytes.NewReader(p.WAV()))
	return err
}

// newCall starts a caller's leg and its flow, and answers its first action.
func (s *Server) newCall(ctx context.Context, pbx string, body []byte) (any, error) {
	nc, err := DecodeNewCall(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	lineID, ok := s.routes.Line(nc.To)
	if !ok {
		return nil, fail(http.StatusNotFound, "unknown_number", "%q is not a number of any line", nc.To)
	}
	s.mu.Lock()
	_, exists := s.legs[nc.CallID]
	_, ended := s.ended[nc.CallID]
	s.mu.Unlock()
	if exists || ended {
		return nil, fail(http.StatusConflict, "call_exists", "call %q was posted before", nc.CallID)
	}
	l := s.add(s.newLeg(nc.CallID, pbx, lineID, nc.From, Action{Action: "new"}))
	l.results[0] = Result{Result: ResStarted}
	s.calls.Add(1)
	go s.run(l)
	return s.next(ctx, l, 0)
}

// run runs the line's flow for a caller's leg and hangs it up after.
func (s *Server) run(l *leg) {
	defer s.calls.Done()
	log := logging.With(logging.With(s.log, "call", l.ref), "line", l.lineID)
	if err := s.handler.Handle(l.ctx, l.lineID, l); err != nil {
		log.Error().Err(err).Msg("call failed")
	}
	l.Hangup(context.Background())
}

// lookup finds a leg of pbx's; a leg that has ended is 410.
func (s *Server) lookup(pbx, id string) (*leg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.legs[id]
	if !ok || l.pbx != pbx {
		if _, ok := s.ended[id]; ok {
			return nil, fail(http.StatusGone, "call_ended", "call %q has ended", id)
		}
		return nil, fail(http.StatusNotFound, "unknown_call", "no call %q", id)
	}
	return l, nil
}

// result takes the result of the action the PBX runs on a leg and answers the
// next one. A result posted twice gets the same answer; one for another seq is
// refused and changes nothing.
func (s *Server) result(ctx context.Context, pbx, id string, body []byte) (any, error) {
	l, err := s.lookup(pbx, id)
	if err != nil {
		return nil, err
	}
	res, err := DecodeResult(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	prev, known := l.results[res.Seq]
	switch {
	case l.gone:
		l.mu.Unlock()
		return nil, fail(http.StatusGone, "call_ended", "call %q has ended", id)
	case known && prev != res:
		l.mu.Unlock()
		return nil, fail(http.StatusConflict, "conflicting_result", "seq %d already has the result %q", res.Seq, prev.Result)
	case known && res.Seq == l.delivered-1: // the answer was lost: give it again
		a := l.actions[l.delivered]
		l.mu.Unlock()
		return a, nil
	case known && res.Seq == l.delivered: // still waiting for the next action
	case res.Seq != l.delivered:
		l.mu.Unlock()
		return nil, fail(http.StatusConflict, "out_of_order", "seq %d is not the action in progress (%d)", res.Seq, l.delivered)
	default:
		l.results[res.Seq] = res
		if ch := l.waiters[res.Seq]; ch != nil {
			ch <- res
			delete(l.waiters, res.Seq)
		}
	}
	l.mu.Unlock()
	return s.next(ctx, l, res.Seq)
}

// next waits for the action after seq, at most s.poll; without one the PBX
// gets wait and asks again.
func (s *Server) next(ctx context.Context, l *leg, seq int) (Action, error) {
	l.mu.Lock()
	l.polling++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.polling--
		l.lastSeen = s.clock.Now()
		l.mu.Unlock()
	}()
	due, t := clock.After(s.clock, s.poll)
	defer t.Stop()
	for {
		l.mu.Lock()
		if seq+1 < len(l.actions) {
			l.delivered = seq + 1
			a := l.actions[seq+1]
			l.mu.Unlock()
			if a.Action == ActHangup { // the PBX has it; no result comes
				s.mu.Lock()
				s.forget(l.id)
				s.mu.Unlock()
			}
			return a, nil
		}
		if l.gone || l.ctx.Err() != nil {
			l.mu.Unlock()
			return Action{}, fail(http.StatusGone, "call_ended", "call %q has ended", l.id)
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-l.ctx.Done(): // peerline's hangup is queued before the end: look again
		case <-due:
			l.queue(Action{Action: ActWait})
		case <-ctx.Done():
			return Action{}, ctx.Err()
		}
	}
}

// event takes a key, a dialled leg's answer or failure, or a hangup.
func (s *Server) event(pbx, id string, body []byte) error {
	l, err := s.lookup(pbx, id)
	if err != nil {
		return err
	}
	e, err := DecodeEvent(bytes.NewReader(body))
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.lastSeen = s.clock.Now()
	l.mu.Unlock()
	switch e.Event {
	case "dtmf":
		select {
		case l.keys <- e.Digit[0]:
		default: // a full buffer drops the key, as on SIP
		}
	case "answered":
		select {
		case <-l.answered:
		default:
			close(l.answered)
		}
	case "failed":
		select {
		case l.failed <- dialError(e.Cause):
		default:
		}
	case "hangup":
		s.gone(l, errGone)
	}
	return nil
}

// dialError is the line's error for a dial's failure cause.
func dialError(cause string) error {
	switch cause {
	case "busy":
		return fmt.Errorf("dial: %w", line.ErrBusy)
	case "declined":
		return fmt.Errorf("dial: %w", line.ErrDeclined)
	case "no_answer":
		return fmt.Errorf("dial: %w", line.ErrNoAnswer)
	}
	return fmt.Errorf("dial: %w", line.ErrUnreachable)
}

// gone ends a leg the PBX no longer has.
func (s *Server) gone(l *leg, cause error) {
	l.mu.Lock()
	l.gone = true
	l.signal()
	l.mu.Unlock()
	l.end(cause)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(l.id)
}

// forget moves a leg to the ended ones; s.mu is held.
func (s *Server) forget(id string) {
	now := s.clock.Now()
	delete(s.legs, id)
	s.ended[id] = now
	for old, at := range s.ended {
		if now.Sub(at) > endedKept {
			delete(s.ended, old)
		}
	}
}

// watchSilence ends a leg its PBX has said nothing of for s.silence, while no
// request of its is open: the call is over for the flow, which records it. A
// leg peerline hung up is forgotten the same way if its PBX never takes the
// hangup.
func (s *Server) watchSilence(l *leg) {
	var check func()
	check = func() {
		s.mu.Lock()
		_, live := s.legs[l.id]
		s.mu.Unlock()
		if !live { // the PBX took its hangup, or hung up
			return
		}
		l.mu.Lock()
		quiet := s.clock.Now().Sub(l.lastSeen)
		open := l.polling > 0
		l.mu.Unlock()
		if !open && quiet >= s.silence {
			if l.ctx.Err() == nil {
				s.log.Warn().Str("call", l.ref).Dur("silent", quiet).Msg("the PBX went silent: call ended")
			}
			s.gone(l, errSilent)
			return
		}
		s.clock.AfterFunc(max(s.silence-quiet, time.Second), check)
	}
	s.clock.AfterFunc(s.silence, check)
}
