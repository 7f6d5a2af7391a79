package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/internal/clock"
)

// Registration timing: ask for an hour, refresh at four fifths of what the
// trunk granted (never later than 5 s before it ends), and after a failure
// try again after 5 s, doubling to 5 minutes.
const (
	registerAsk     = time.Hour
	registerRetry   = 5 * time.Second
	registerBackoff = 5 * time.Minute
	unregisterWait  = 3 * time.Second
)

// ErrRegister is wrapped by every failed registration.
var ErrRegister = errors.New("trunk registration failed")

// registration is peerline's binding at the trunk (sip.trunk.register): many
// trunks deliver calls only to a registered contact.
type registration struct {
	callID string
	cseq   uint32

	mu     sync.Mutex
	until  time.Time // the binding's end; zero while not registered
	detail string    // the last failure, for /healthz and Linjen
}

// TrunkState says whether peerline is registered at the trunk: on says
// registration is configured at all; detail is the last failure.
func (s *Server) TrunkState() (on, registered bool, detail string) {
	if !s.trunk.Register {
		return false, false, ""
	}
	r := &s.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	return true, s.clock.Now().Before(r.until), r.detail
}

func (r *registration) set(until time.Time, detail string) {
	r.mu.Lock()
	r.until, r.detail = until, detail
	r.mu.Unlock()
}

// register keeps peerline registered while it serves; the function it returns
// unregisters and waits for that.
func (s *Server) register() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.keepRegistered(ctx) }()
	return func() { cancel(); <-done }
}

// keepRegistered registers at the trunk until ctx ends, then unregisters.
func (s *Server) keepRegistered(ctx context.Context) {
	s.reg.callID = sip.GenerateTagN(20)
	backoff := registerRetry
	for {
		granted, err := s.registerOnce(ctx, registerAsk)
		wait := backoff
		switch {
		case err == nil:
			backoff = registerRetry
			wait = max(min(granted*4/5, granted-5*time.Second), time.Second)
			s.reg.set(s.clock.Now().Add(granted), "")
			s.log.Info().Dur("expires", granted).Msg("registered at the trunk")
		case ctx.Err() == nil:
			backoff = min(backoff*2, registerBackoff)
			s.reg.set(time.Time{}, err.Error())
			// One line per attempt, and attempts back off: a wrong password
			// never floods the log.
			s.log.Warn().Err(err).Dur("retry_in", wait).Msg("not registered at the trunk")
		}
		if !s.sleep(ctx, wait) {
			uctx, cancel := context.WithTimeout(context.Background(), unregisterWait)
			if _, err := s.registerOnce(uctx, 0); err != nil {
				s.log.Warn().Err(err).Msg("unregistering at the trunk")
			} else {
				s.log.Info().Msg("unregistered at the trunk")
			}
			cancel()
			s.reg.set(time.Time{}, "peerline stopped")
			return
		}
	}
}

// sleep waits d on the server's clock; false when ctx ended first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	due, t := clock.After(s.clock, d)
	defer t.Stop()
	select {
	case <-due:
		return true
	case <-ctx.Done():
		return false
	}
}

// registerOnce sends one REGISTER (expires 0 unregisters), answering a 401 or
// 407 with the trunk's credentials, and returns what the trunk granted.
func (s *Server) registerOnce(ctx context.Context, expires time.Duration) (time.Duration, error) {
	transport := transportOf(*s.proxy)
	d := s.dialogsFor(transport)
	if d == nil {
		return 0, fmt.Errorf("%w: no listener for %s", ErrRegister, transport)
	}
	req := s.registerRequest(transport, expires)
	res, err := d.client.Do(ctx, req)
	if err == nil && (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) {
		res, err = d.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: s.trunk.Username, Password: s.trunk.Password})
	}
	// The authenticated retry went out with the next CSeq; the refresh must
	// come after it, or a registrar takes it for an old request and ignores it.
	if c := req.CSeq(); c != nil {
		s.reg.cseq = c.SeqNo
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("%w: %w", ErrRegister, err)
	case res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired || res.StatusCode == sip.StatusForbidden:
		return 0, fmt.Errorf("%w: %d %s (check sip.trunk.username and password)", ErrRegister, res.StatusCode, res.Reason)
	case res.StatusCode != sip.StatusOK:
		return 0, fmt.Errorf("%w: %d %s", ErrRegister, res.StatusCode, res.Reason)
	}
	return granted(res, expires), nil
}

// registerRequest is a REGISTER of our Contact for the trunk's user.
func (s *Server) registerRequest(transport string, expires time.Duration) *sip.Request {
	registrar := sip.Uri{Scheme: s.proxy.Scheme, Host: s.proxy.Host, Port: s.proxy.Port, UriParams: s.proxy.UriParams}
	aor := sip.Uri{Scheme: "sip", User: s.trunk.Username, Host: s.proxy.Host}
	req := sip.NewRequest(sip.REGISTER, registrar)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(s.reg.callID)
	req.AppendHeader(&callID)
	s.reg.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.reg.cseq, MethodName: sip.REGISTER})
	peer, _ := netip.ParseAddr(s.proxy.Host)
	contact := s.contactOn(transport, peer)
	contact.Address.User = s.trunk.Username
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	return req
}

// granted is the registration's lifetime in the 200: the expires of our
// Contact, the Expires header, or what we asked for.
func granted(res *sip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && c.Params != nil {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
