package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/rs/zerolog"
)

// outboundCall is an agent's leg: a sipgo client dialog we started. It implements
// line.Call; nothing of it (headers, SDP, numbers) is passed to the caller's leg.
type outboundCall struct {
	*leg
	dialog *sipgo.DialogClientSession
	once   sync.Once
	offer  media.Local  // what we offered: our SRTP key, if any
	policy media.Policy // the leg's SRTP policy
}

func (c *outboundCall) ID() string { return c.dialog.InviteRequest.CallID().Value() }

// Caller is empty: on an agent's leg there is no caller to know.
func (c *outboundCall) Caller() string { return "" }

// Answer does nothing: the agent answered.
func (c *outboundCall) Answer(context.Context) error { return nil }

// Ring has nothing to do on a leg the agent answered.
func (c *outboundCall) Ring(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (c *outboundCall) Dial(context.Context, line.Target, line.DialOptions) (line.Call, error) {
	return nil, errors.New("an agent's leg does not dial")
}

// Hangup sends BYE unless the agent hung up, and frees the leg's port.
func (c *outboundCall) Hangup(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		defer c.release()
		defer c.dialog.Close()
		if c.dialog.Context().Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = c.dialog.Bye(ctx)
	})
	return err
}

// dial calls an agent: to the agent's SIP URI, or to the phone number through the
// trunk with its digest credentials. The INVITE is built from scratch: From is the
// line's caller ID and nothing of the caller's INVITE is copied. It returns when
// the agent answers; ctx ending while it rings sends CANCEL.
func (s *Server) dial(ctx context.Context, t line.Target, o line.DialOptions, p prompts.Set, log zerolog.Logger) (*outboundCall, error) {
	uri, viaTrunk, err := s.targetURI(t)
	if err != nil {
		log.Warn().Err(err).Msg("agent cannot be called")
		return nil, err
	}
	log = logging.With(log, "agent", t.Agent)
	dest := s.resolve(ctx, uri.Host)
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	session := media.NewSession(conn, netip.AddrPort{})
	session.CountDropped(&s.dropped)
	c := &outboundCall{leg: s.newLeg(s.callsCtx, session, p, log), policy: s.srtpAgents}
	if viaTrunk {
		c.policy = s.srtpTrunk
	}
	local := newLocal(netip.AddrPortFrom(s.mediaIP(dest), session.LocalAddr().Port()))
	transport := transportOf(uri)
	if err := offerKey(&local, c.policy, transport); err != nil {
		c.release()
		return nil, fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	c.offer = local
	contact := s.contactOn(transport, dest)
	callerID := o.CallerID
	if viaTrunk {
		callerID = s.dialForm(callerID)
	}
	from := &sip.FromHeader{DisplayName: o.CallerName, Address: sip.Uri{Scheme: "sip", User: callerID, Host: contact.Address.Host}}
	from.Params = sip.NewParams()
	from.Params.Add("tag", sip.GenerateTagN(16))
	c.dialog, err = s.dialogsFor(transport).agents.Invite(ctx, uri, local.Offer(), from, &contact,
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		c.release()
		return nil, fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	var auth sipgo.AnswerOptions
	if viaTrunk {
		auth.Username, auth.Password = s.trunk.Username, s.trunk.Password
	}
	if err := c.dialog.WaitAnswer(ctx, auth); err != nil {
		c.dialog.Close()
		c.release()
		err = dialError(ctx, err)
		log.Info().Err(err).Msg("agent leg not answered")
		return nil, err
	}
	if err := c.answered(ctx); err != nil {
		c.Hangup(context.WithoutCancel(ctx))
		return nil, err
	}
	id := c.dialog.ID
	s.legs.store(id, c.leg)
	context.AfterFunc(c.ctx, func() { s.legs.delete(id) })
	log.Info().Str("to", logging.MaskText(uri.User)).Bool("srtp", session.Encrypted()).Msg("agent answered")
	return c, nil
}

// answered ACKs the agent's 200 and starts the media its SDP describes.
func (c *outboundCall) answered(ctx context.Context) error {
	// The ACK and BYE go to the route set's first entry (the last Record-Route
	// of the answer) or the agent's Contact, over that hop's transport.
	var route sip.Header
	if rr := c.dialog.InviteResponse.GetHeaders("record-route"); len(rr) > 0 {
		route = rr[len(rr)-1]
	}
	req := c.dialog.InviteRequest
	req.SetTransport(nextHop(route, c.dialog.InviteResponse.Contact(), req.Transport()))
	if err := c.dialog.Ack(ctx); err != nil {
		return fmt.Errorf("%w: ACK: %w", line.ErrUnreachable, err)
	}
	ans, err := media.ParseSDP(c.dialog.InviteResponse.Body())
	if err != nil {
		return fmt.Errorf("%w: the answer's SDP: %w", line.ErrUnreachable, err)
	}
	if c.pt, err = ans.Choose(); err != nil {
		return fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	key, err := c.offer.Agree(ans, c.policy)
	if err == nil && key != nil {
		err = c.session.Encrypt(*c.offer.Crypto, *key)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	c.dtmf = ans.DTMF
	c.listenKeys()
	c.session.SetRemote(ans.Addr)
	c.session.AllowHost(sourceAddr(c.dialog.InviteResponse))
	context.AfterFunc(c.dialog.Context(), c.end) // the agent's BYE ends the leg
	c.startMedia()
	c.watchRTP(func() { c.Hangup(context.Background()) })
	return nil
}

// offerKey puts our key in an offer under policy p: always when SRTP is
// required (RTP/SAVP), and when it is optional only over TLS, where the key
// cannot be read on the way (RTP/AVP, which a phone without SRTP still takes).
func offerKey(local *media.Local, p media.Policy, transport string) error {
	if p == media.SRTPNone || (p == media.SRTPOptional && transport != "tls") {
		return nil
	}
	key, err := media.NewCrypto(1, media.OfferedSuite)
	if err != nil {
		return err
	}
	local.Crypto, local.Secure = &key, p == media.SRTPRequired
	return nil
}

// CanCall says whether t can be called at all: a SIP URI that parses, or a
// number and a trunk proxy to send it to (for line.Lines.SetReach).
func (s *Server) CanCall(t line.Target) error {
	_, _, err := s.targetURI(t)
	return err
}

// targetURI is where an agent leg goes, and whether through the trunk.
func (s *Server) targetURI(t line.Target) (sip.Uri, bool, error) {
	var u sip.Uri
	if t.SIPURI != "" {
		if err := sip.ParseUri(t.SIPURI, &u); err != nil {
			return u, false, fmt.Errorf("%w: agent %s: SIP URI: %w", line.ErrUnreachable, t.Agent, err)
		}
		return u, false, nil
	}
	if s.proxy == nil || t.Phone == "" {
		return u, false, fmt.Errorf("%w: agent %s has no SIP address and sip.trunk.proxy is not set", line.ErrUnreachable, t.Agent)
	}
	u = *s.proxy
	u.User = s.dialForm(t.Phone)
	return u, true, nil
}

// dialForm is a number as the trunk wants it (sip.trunk.number_format); a
// number it cannot read (a caller's "anonymous") goes as it is.
func (s *Server) dialForm(n string) string {
	e, err := s.plan.Normalize(n)
	if err != nil {
		return n
	}
	return s.plan.Dial(e)
}

// dialError says why an agent leg was not answered, in the terms of line.
func dialError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var res *sipgo.ErrDialogResponse
	if !errors.As(err, &res) {
		return fmt.Errorf("%w: %w", line.ErrUnreachable, err)
	}
	code := res.Res.StatusCode
	switch code {
	case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
		err = line.ErrBusy
	case sip.StatusGlobalDecline:
		err = line.ErrDeclined
	case sip.StatusRequestTimeout, sip.StatusTemporarilyUnavailable, sip.StatusRequestTerminated:
		err = line.ErrNoAnswer
	default:
		err = line.ErrUnreachable
	}
	return fmt.Errorf("%w (%d %s)", err, code, res.Res.Reason)
}

// resolve finds the address of host for choosing our media address; an
// unresolvable host gives the zero address (the INVITE will fail on its own).
func (s *Server) resolve(ctx context.Context, host string) netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return a
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}
	}
	return addrs[0]
}
