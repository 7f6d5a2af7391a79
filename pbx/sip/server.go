// Package sip is peerline's telephony over SIP, on github.com/emiago/sipgo: the
// listeners, who may call in, and each call leg as a line.Call.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/certs"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/connlimit"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/internal/phone"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Handler runs a call on a line to its end (line.Lines does).
type Handler interface {
	Handle(ctx context.Context, lineID string, c line.Call) error
}

// Per-source request rate of a source that is not the trunk (an agent's phone,
// a stranger): enough for a phone, too little for a flood. The trunk's own
// rate is sip.trunk.max_rate.
const (
	sourceRate  = 50
	sourceBurst = 200
)

// tcpLimits bound SIP over TCP: a trunk or phone keeps one or a few connections
// and sends CRLF keep-alives; a connection silent for longer than a call's limit
// is gone, and one that never says anything is closed after 10 s.
var tcpLimits = connlimit.Limits{PerSource: 64, Total: 1024, First: 10 * time.Second, Idle: 30 * time.Minute}

// Server is the SIP side of peerline.
type Server struct {
	ua          *sipgo.UserAgent
	srv         *sipgo.Server
	byTransport map[string]*dialogs // "udp", "tcp": set once before serving
	slog        *slog.Logger
	guard       *guard
	ports       *media.Ports
	handler     Handler
	log         zerolog.Logger
	clock       clock.Clock
	rtpWatch    *rtpWatch
	trunk       config.Trunk
	proxy       *sip.Uri     // where legs to phone numbers go; nil without a trunk proxy
	plan        phone.Plan   // how the trunk writes and dials numbers
	srtpTrunk   media.Policy // callers' legs and agents' legs through the trunk
	srtpAgents  media.Policy // agents' legs to their SIP addresses

	routes   config.Routes          // request-URI user -> line id
	prompts  map[string]prompts.Set // line id -> prompts
	extIP    netip.Addr             // written into SDP and Contact when set
	callsCtx context.Context        // ends when the server stops: calls in progress hang up
	stopCall context.CancelCauseFunc

	reg     registration      // at the trunk, with sip.trunk.register
	certs   *certs.Reloadable // of tls: listeners
	legs    legIndex          // answered legs by dialog ID, for their INFOs
	relayed atomic.Uint64     // RTP packets relayed between callers and agents
	dropped atomic.Uint64     // RTP packets from others than a call's peer

	mu       sync.Mutex
	addrs    []string
	stopping bool           // set before calls.Wait: no call may start after it
	calls    sync.WaitGroup // calls in progress
}

// New builds the SIP server for cfg with each line's prompts (prompts.LoadLines);
// it listens when Serve is called. Key timeouts run on clk.
func New(cfg *config.Config, p map[string]prompts.Set, h Handler, clk clock.Clock, log zerolog.Logger) (*Server, error) {
	s := &Server{handler: h, clock: clk, log: log.With().Str("component", "sip").Logger(),
		routes: cfg.Routes(), plan: cfg.SIP.Trunk.Plan(), prompts: p,
		trunk:     cfg.SIP.Trunk,
		srtpTrunk: media.Policy(cfg.SIP.SRTP.Trunk), srtpAgents: media.Policy(cfg.SIP.SRTP.Agents)}
	s.callsCtx, s.stopCall = context.WithCancelCause(context.Background())
	s.rtpWatch = newRTPWatch(s.callsCtx, time.Duration(cfg.SIP.RTPTimeout))
	if cfg.SIP.Trunk.Proxy != "" {
		s.proxy = new(sip.Uri)
		if err := sip.ParseUri(cfg.SIP.Trunk.Proxy, s.proxy); err != nil {
			return nil, fmt.Errorf("sip.trunk.proxy: %w", err)
		}
	}
	var allow []netip.Prefix
	for _, a := range cfg.SIP.Trunk.Allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, err
		}
		allow = append(allow, p)
	}
	s.guard = newGuard(allow, sourceRate, sourceBurst, float64(cfg.SIP.Trunk.MaxRate), cfg.SIP.MaxCalls)
	lo, hi, err := config.ParsePortRange(cfg.SIP.RTPPorts)
	if err != nil {
		return nil, err
	}
	s.ports = media.NewPorts(netip.IPv4Unspecified(), lo, hi)
	if cfg.SIP.ExternalAddress != "" {
		s.extIP = netip.MustParseAddr(cfg.SIP.ExternalAddress)
	}
	// Every layer of sipgo logs through our logger, whose output masks numbers:
	// left alone, the transport layer logs whole unparsable messages through
	// slog's default logger, unmasked.
	s.slog = logging.Slog(s.log)
	if s.certs, err = certs.Load("sip.tls", cfg.SIP.TLS.Cert, cfg.SIP.TLS.Key); err != nil {
		return nil, err
	}
	dialTLS, err := clientTLS(cfg.SIP.TLS)
	if err != nil {
		return nil, err
	}
	if s.ua, err = sipgo.NewUA(sipgo.WithUserAgent("peerline"), sipgo.WithUserAgenTLSConfig(dialTLS),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(s.slog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(s.slog))); err != nil {
		return nil, err
	}
	if s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.slog)); err != nil {
		return nil, err
	}
	s.srv.OnInvite(s.recovered(s.onInvite))
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.recovered(s.onBye))
	s.srv.OnOptions(s.recovered(s.onOptions))
	s.srv.OnInfo(s.recovered(s.onInfo))
	s.srv.OnNoRoute(s.recovered(s.onOther))
	return s, nil
}

// Serve listens on every "transport:host:port" of listen until ctx ends. ready,
// if not nil, gets the bound addresses once all listeners are up.
func (s *Server) Serve(ctx context.Context, listen []string, ready func([]string)) error {
	// Bind everything first: the Contact header depends on the bound address and
	// must be set before the first request is served.
	var serve []func() error
	for _, l := range listen {
		transport, addr, _ := strings.Cut(l, ":")
		switch transport {
		case "udp":
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("sip: %w", err)
			}
			pc = rawPacketConn(pc)
			defer pc.Close()
			s.addAddr("udp:" + pc.LocalAddr().String())
			serve = append(serve, func() error { return s.srv.ServeUDP(pc) })
		case "tcp", "tls":
			ln, err := s.listenStream(transport, addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			s.addAddr(transport + ":" + ln.Addr().String())
			serve = append(serve, func() error {
				if transport == "tls" {
					return s.srv.ServeTLS(ln)
				}
				return s.srv.ServeTCP(ln)
			})
		default:
			return fmt.Errorf("sip: transport %q is not supported", transport)
		}
	}
	if err := s.setDialogs(); err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	errc := make(chan error, len(serve))
	for _, f := range serve {
		go func() { errc <- f() }()
	}
	if s.trunk.Register && s.proxy != nil {
		defer s.register()() // unregisters before the listeners close: they carry the REGISTER
	}
	if ready != nil {
		ready(s.Addrs())
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if ctx.Err() == nil {
			return fmt.Errorf("sip: %w", err)
		}
	}
	// Calls in progress are hung up (both legs get BYE and are recorded) while the
	// listeners are still open to carry the BYEs and their answers.
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.stopCall(line.ErrStopped)
	s.calls.Wait()
	return nil
}

// Collectors are the SIP side's Prometheus metrics.
func (s *Server) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "peerline_sip_calls_active",
			Help: "Callers' calls in progress."}, func() float64 { return float64(s.guard.calls.Open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peerline_rtp_relayed_packets_total",
			Help: "RTP packets relayed between callers and agents."}, func() float64 { return float64(s.relayed.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "peerline_rtp_dropped_packets_total",
			Help: "RTP packets dropped because they came from others than the call's peer."}, func() float64 { return float64(s.dropped.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "peerline_trunk_registered",
			Help: "1 while peerline is registered at the trunk (sip.trunk.register), else 0."}, func() float64 {
			if _, ok, _ := s.TrunkState(); ok {
				return 1
			}
			return 0
		}),
	}
}

// beginCall counts a new call in, or refuses it once the server is stopping
// (a WaitGroup must not grow while it is being waited on).
func (s *Server) beginCall() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.calls.Add(1)
	return true
}

func (s *Server) addAddr(a string) {
	s.mu.Lock()
	s.addrs = append(s.addrs, a)
	s.mu.Unlock()
}

// Addrs are the bound listeners, as "udp:127.0.0.1:5060".
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// listenStream opens a TCP or TLS listener on addr. Its caps count
// connections before any TLS handshake, so handshakes that never finish are
// closed like silent TCP.
func (s *Server) listenStream(transport, addr string) (net.Listener, error) {
	if transport == "tls" && !s.certs.Configured() {
		return nil, errors.New("sip: a tls: listener needs sip.tls.cert and sip.tls.key")
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	ln := connlimit.Listen(tcp, tcpLimits)
	what := "SIP over " + strings.ToUpper(transport) + ": connection refused"
	ln.OnRefuse = func(why string) { s.slog.Warn(what, "why", why) }
	if transport == "tls" {
		return tls.NewListener(ln, s.certs.ServerConfig()), nil
	}
	return ln, nil
}

// contactOn is our Contact for a dialog with peer over transport: that
// transport's listener (dialogs.contact), with this host's address on the route
// to peer when the listener's is unspecified (a phone cannot send a BYE to 0.0.0.0).
func (s *Server) contactOn(transport string, peer netip.Addr) sip.ContactHeader {
	c := *s.dialogsFor(transport).contact.Clone()
	if a, err := netip.ParseAddr(c.Address.Host); err == nil && a.IsUnspecified() {
		c.Address.Host = localIPToward(peer).String()
	}
	return c
}

// transportOf is the transport a URI asks for: its transport parameter, TLS
// for sips:, else UDP.
func transportOf(u sip.Uri) string {
	if t, ok := u.UriParams.Get("transport"); ok {
		return strings.ToLower(t)
	}
	if u.Scheme == "sips" {
		return "tls"
	}
	return "udp"
}

// nextHop is the transport for requests within a dialog (ACK, BYE): that of
// the route set's first entry, route (nil without one), or else of the remote
// target. sipgo sends them over the INVITE's transport, which is the wrong one
// when a proxy that does not record-route joins two transports (TLS to the
// trunk, UDP from the trunk to the phone).
func nextHop(route sip.Header, target *sip.ContactHeader, invite string) string {
	var u sip.Uri
	switch {
	case route != nil:
		v := strings.TrimSpace(route.Value())
		if i, j := strings.IndexByte(v, '<'), strings.IndexByte(v, '>'); i >= 0 && j > i {
			v = v[i+1 : j]
		}
		if sip.ParseUri(v, &u) != nil {
			return invite
		}
	case target != nil:
		u = target.Address
	default:
		return invite
	}
	return strings.ToUpper(transportOf(u))
}

// mediaIP is the address our SDP gives for RTP with peer.
func (s *Server) mediaIP(peer netip.Addr) netip.Addr {
	if s.extIP.IsValid() {
		return s.extIP
	}
	return localIPToward(peer)
}

// recovered ends a call cleanly when its handler panics, instead of the process.
func (s *Server) recovered(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error().Str("call", req.CallID().Value()).Any("panic", r).Msg("SIP handler panicked")
				tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Error", nil))
			}
		}()
		h(req, tx)
	}
}

// admit applies the guard to an out-of-dialog request; false means it was
// refused. A scanner gets silence; a source not in sip.trunk.allow gets 403 (at
// most its rate of them, then silence); an allowed source over its rate gets 503
// with Retry-After, so that a trunk backs off instead of retrying. Refusals are
// sent once, never retransmitted: a spoofed source cannot use peerline to
// amplify traffic at someone else.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	src := sourceAddr(req)
	if !src.IsValid() {
		return false
	}
	if ua := req.GetHeader("User-Agent"); ua != nil && isScanner(ua.Value()) {
		tx.Terminate()
		return false
	}
	allowed, within := s.guard.allowed(src), s.guard.take(src, time.Now())
	switch {
	case !within && allowed:
		s.slog.Warn("SIP source over its rate: 503", "source", src.String())
		s.refuse(req, tx, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return false
	case !allowed && within:
		s.slog.Info("SIP from a source not in sip.trunk.allow: 403", "source", src.String(), "method", string(req.Method))
		s.refuse(req, tx, sip.StatusForbidden, "Forbidden")
		return false
	case !allowed:
		tx.Terminate()
		return false
	}
	return true
}

// refuse answers req once and ends its transaction, so that the answer is
// neither retransmitted nor waits for an ACK.
func (s *Server) refuse(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	s.srv.WriteResponse(res)
	tx.Terminate()
}

// onOther answers a method peerline does not serve, after the guard.
func (s *Server) onOther(req *sip.Request, tx sip.ServerTransaction) {
	if !s.admit(req, tx) {
		return
	}
	s.refuse(req, tx, sip.StatusMethodNotAllowed, "Method Not Allowed", sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"))
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if !s.admit(req, tx) {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"))
	tx.Respond(res)
}

// lineOf is the line a call is for, and the line's number as it was called:
// by the request-URI's user, or, when a registered trunk sends the call to our
// Contact (sip:username@…), by To.
func (s *Server) lineOf(req *sip.Request) (id, called string, ok bool) {
	called = req.Recipient.User
	if id, ok = s.routes.Line(called); !ok && req.To() != nil {
		called = req.To().Address.User
		id, ok = s.routes.Line(called)
	}
	return id, called, ok
}

// onInvite runs a caller's call; sipgo ends the transaction when this returns, so
// it blocks for the call's whole life.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if s.inDialog(req, tx) || !s.admit(req, tx) {
		return
	}
	src, ok := s.enter(req, tx)
	if !ok {
		return
	}
	defer s.leave(src)
	call, lineID := s.takeCall(req, tx)
	if call == nil {
		return
	}
	defer call.dialog.Close()
	defer call.close()
	s.legs.store(call.dialog.ID, call.leg)
	defer s.legs.delete(call.dialog.ID)
	if err := s.handler.Handle(s.callsCtx, lineID, call); err != nil {
		call.log.Error().Err(err).Msg("call flow failed")
	}
	call.log.Info().Msg("call ended")
}

// enter counts an INVITE in as a call from its source, or refuses it with
// 503 when peerline stops or the source holds its share of sip.max_calls.
func (s *Server) enter(req *sip.Request, tx sip.ServerTransaction) (netip.Addr, bool) {
	if !s.beginCall() {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Shutting Down", nil))
		return netip.Addr{}, false
	}
	src := sourceAddr(req)
	if !s.guard.calls.Enter(src) {
		s.calls.Done()
		s.slog.Warn("SIP source holds its share of sip.max_calls, or peerline all of them: 503", "source", src.String())
		s.refuse(req, tx, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "5"))
		return netip.Addr{}, false
	}
	return src, true
}

// leave counts a call entered from src out again.
func (s *Server) leave(src netip.Addr) {
	s.guard.calls.Leave(src)
	s.calls.Done()
}

// takeCall makes the caller's leg of an INVITE on a line's number, or answers
// the INVITE itself when it cannot (nil). It is apart from onInvite, whose
// frame stays on the call's stack for as long as the call lasts. Go halves a
// goroutine's stack at a collection only when under a quarter of it is in
// use, so a bridged call keeps 8 KB of stack rather than 16 only while the
// frames under its wait take less than about 3 KB; onInvite's was 1.7 KB
// with this in it, and is 0.3 KB without (ARCHITECTURE.md, a caller's call).
func (s *Server) takeCall(req *sip.Request, tx sip.ServerTransaction) (*inboundCall, string) {
	id := line.NewCallID()
	log := logging.With(s.log, "call", id)
	respond := func(code int, reason string) {
		tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	lineID, called, ok := s.lineOf(req)
	if !ok {
		// No line's number: it may be anyone's, so it stays masked, but its
		// form tells the operator what the trunk sends (a line's own numbers
		// are public and logged in full with each call).
		log.Info().Str("to", logging.MaskText(req.Recipient.User)).Str("form", phone.Form(req.Recipient.User)).
			Msg("no line has this number: 404")
		respond(sip.StatusNotFound, "Not Found")
		return nil, ""
	}
	offer, key, err := s.readOffer(req)
	if err != nil {
		code, reason := sip.StatusBadRequest, "Bad SDP"
		if !errors.Is(err, errSDP) {
			code, reason = sip.StatusNotAcceptableHere, "Not Acceptable Here"
		}
		s.slog.Info("offer refused", "call", id, "status", code, "error", err.Error()) // rate-limited: the text is the sender's
		respond(code, reason)
		return nil, ""
	}
	dialog, err := s.dialogsFor(req.Transport()).callers.ReadInvite(req, tx)
	if err != nil {
		s.slog.Info("bad INVITE: 400", "call", id, "error", err.Error())
		respond(sip.StatusBadRequest, "Bad Request")
		return nil, ""
	}
	call, err := s.newInbound(id, dialog, offer, key, lineID, log)
	if err != nil {
		dialog.Close()
		log.Error().Err(err).Msg("no media for the call: 503")
		respond(sip.StatusServiceUnavailable, "Service Unavailable")
		return nil, ""
	}
	log.Info().Str("line", lineID).Str("to", called).Str("from", logging.MaskNumber(call.caller)).
		Bool("srtp", call.session.Encrypted()).Msg("call in")
	return call, lineID
}

// inDialog answers a re-INVITE of a dialog we know with our current SDP.
func (s *Server) inDialog(req *sip.Request, tx sip.ServerTransaction) bool {
	if req.To() == nil || req.To().Params == nil {
		return false
	}
	if tag, _ := req.To().Params.Get("tag"); tag == "" {
		return false
	}
	var sdp []byte
	if d, err := s.serverDialog(req); err == nil {
		sdp = d.InviteResponse.Body()
	} else if d, err := s.clientDialog(req); err == nil {
		sdp = d.InviteRequest.Body()
	} else {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return true
	}
	res := sip.NewSDPResponseFromRequest(req, sdp)
	contact := s.contactOn(req.Transport(), sourceAddr(req))
	res.AppendHeader(&contact)
	tx.Respond(res)
	return true
}

// sourceAddr is the IP a message came from (zero if unknown).
func sourceAddr(m sip.Message) netip.Addr {
	ap, err := netip.ParseAddrPort(m.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// errSDP marks an offer that is not SDP peerline can read (400); other offer
// errors are media it will not take (488).
var errSDP = errors.New("unusable SDP")

// readOffer reads a caller's SDP offer: its codec and, under sip.srtp.trunk,
// the SRTP key to answer (nil: plain RTP).
func (s *Server) readOffer(req *sip.Request) (media.Offer, *media.Crypto, error) {
	offer, err := media.ParseSDP(req.Body())
	if errors.Is(err, media.ErrBadCrypto) {
		return offer, nil, err
	}
	if err != nil {
		return offer, nil, fmt.Errorf("%w: %w", errSDP, err)
	}
	if _, err := offer.Choose(); err != nil {
		return offer, nil, err
	}
	key, err := offer.Key(s.srtpTrunk)
	return offer, key, err
}

func (s *Server) newInbound(id string, d *sipgo.DialogServerSession, offer media.Offer, key *media.Crypto, lineID string, log zerolog.Logger) (*inboundCall, error) {
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, err
	}
	session := media.NewSession(conn, offer.Addr)
	peer := sourceAddr(d.InviteRequest)
	session.AllowHost(peer)
	session.CountDropped(&s.dropped)
	local, err := newLocal(netip.AddrPortFrom(s.mediaIP(offer.Addr.Addr()), session.LocalAddr().Port())).AnswerTo(offer)
	if err == nil {
		local.Secure = offer.Secure
		err = answerKey(session, &local, key)
	}
	if err != nil {
		session.Close()
		return nil, err
	}
	from := ""
	if f := d.InviteRequest.From(); f != nil {
		from = f.Address.User
	}
	c := &inboundCall{leg: s.newLeg(d.Context(), session, s.prompts[lineID], log), srv: s, id: id,
		dialog: d, answer: local.Answer(offer), contact: s.contactOn(d.InviteRequest.Transport(), peer), caller: from}
	// Our BYE goes where the route set or the caller's Contact says (the
	// answers go back over the connection the INVITE came on, whatever this says).
	var route sip.Header
	if rr := d.InviteRequest.GetHeaders("record-route"); len(rr) > 0 {
		route = rr[0]
	}
	d.InviteRequest.SetTransport(nextHop(route, d.InviteRequest.Contact(), d.InviteRequest.Transport()))
	c.pt, c.dtmf = local.Codecs[0], offer.DTMF
	c.listenKeys()
	return c, nil
}
