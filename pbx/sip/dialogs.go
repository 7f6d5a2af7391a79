package sip

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/pbx/media"
)

// dialogs are the live dialogs of one transport. Over UDP, every request peerline
// sends (an agent's INVITE, a BYE to either side) leaves from the listening
// socket with a Via naming it, so that trunks and phones answer where we listen
// and recognise the address they called.
type dialogs struct {
	contact sip.ContactHeader // this transport's listener, as peers should reach it
	client  *sipgo.Client     // requests outside dialogs (REGISTER)
	callers *sipgo.DialogServerCache
	agents  *sipgo.DialogClientCache
}

// setDialogs builds the dialogs of each bound transport; the Contact is known.
func (s *Server) setDialogs() error {
	s.byTransport = map[string]*dialogs{}
	for _, a := range s.Addrs() {
		transport, hp, _ := strings.Cut(a, ":")
		if s.byTransport[transport] != nil {
			continue
		}
		contact := s.listenerContact(transport, hp)
		// Requests name us by the address on the default route unless configured
		// otherwise; within a dialog the far end answers to the packet's source anyway.
		host := contact.Address.Host
		if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
			host = localIPToward(netip.MustParseAddr("192.0.2.1")).String()
		}
		opts := []sipgo.ClientOption{sipgo.WithClientHostname(host), sipgo.WithClientLogger(s.slog)}
		if transport == "udp" {
			_, port, _ := net.SplitHostPort(hp)
			p, _ := strconv.Atoi(port)
			opts = append(opts, sipgo.WithClientConnectionAddr(hp), sipgo.WithClientPort(p))
		}
		cli, err := sipgo.NewClient(s.ua, opts...)
		if err != nil {
			return err
		}
		s.byTransport[transport] = &dialogs{contact: contact, client: cli, callers: sipgo.NewDialogServerCache(cli, contact),
			agents: sipgo.NewDialogClientCache(cli, contact)}
	}
	return nil
}

// listenerContact is the Contact of the listener at hp: with the external
// address when set, and ;transport= for TCP and TLS (UDP is the default).
func (s *Server) listenerContact(transport, hp string) sip.ContactHeader {
	host, port, _ := net.SplitHostPort(hp)
	if s.extIP.IsValid() {
		host = s.extIP.String()
	}
	p, _ := strconv.Atoi(port)
	c := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: p}}
	if transport != "udp" {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", transport)
	}
	return c
}

// dialogsFor are the dialogs of transport ("udp", "UDP", "tcp"); the first bound
// transport when peerline does not listen on that one.
func (s *Server) dialogsFor(transport string) *dialogs {
	if d := s.byTransport[strings.ToLower(transport)]; d != nil {
		return d
	}
	for _, a := range s.Addrs() {
		t, _, _ := strings.Cut(a, ":")
		return s.byTransport[t]
	}
	return nil
}

// serverDialog finds the caller's dialog a request belongs to.
func (s *Server) serverDialog(req *sip.Request) (*sipgo.DialogServerSession, error) {
	err := sipgo.ErrDialogDoesNotExists
	for _, d := range s.byTransport {
		var dlg *sipgo.DialogServerSession
		if dlg, err = d.callers.MatchDialogRequest(req); err == nil {
			return dlg, nil
		}
	}
	return nil, err
}

// clientDialog finds the agent's dialog a request belongs to.
func (s *Server) clientDialog(req *sip.Request) (*sipgo.DialogClientSession, error) {
	err := sipgo.ErrDialogDoesNotExists
	for _, d := range s.byTransport {
		var dlg *sipgo.DialogClientSession
		if dlg, err = d.agents.MatchRequestDialog(req); err == nil {
			return dlg, nil
		}
	}
	return nil, err
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if d, err := s.serverDialog(req); err == nil {
		d.ReadAck(req, tx)
	}
}

// onBye ends a caller's or an agent's leg, whichever dialog the BYE belongs to.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	// The leg stops taking in-dialog requests before the BYE is answered: an INFO
	// right after the 200 gets 481, not a key pressed into a call that ended.
	for _, key := range legKeys(req) {
		s.legs.delete(key)
	}
	var err error
	if d, e := s.serverDialog(req); e == nil {
		err = d.ReadBye(req, tx)
	} else if d, e := s.clientDialog(req); e == nil {
		err = d.ReadBye(req, tx)
	} else {
		err = errors.Join(e, sipgo.ErrDialogDoesNotExists)
	}
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}
}

// onInfo takes a key pressed by SIP INFO (application/dtmf-relay or
// application/dtmf) on a caller's or an agent's answered leg.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string) {
		tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	l := s.answeredLeg(req)
	if l == nil {
		respond(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	k, err := media.ParseDTMFInfo(ct, req.Body())
	if err != nil {
		l.log.Info().Err(err).Msg("INFO without a key: 415")
		respond(sip.StatusUnsupportedMediaType, "Unsupported Media Type")
		return
	}
	l.press(k)
	respond(sip.StatusOK, "OK")
}

// answeredLeg is the answered leg an in-dialog request belongs to, nil if none.
// sipgo keys a caller's dialog by Call-ID, our tag, the caller's tag (we are its
// UAS) and an agent's by Call-ID, the agent's tag, ours (we are its UAC); either
// far end's request carries its own tag in From.
func (s *Server) answeredLeg(req *sip.Request) *leg {
	for _, key := range legKeys(req) {
		if l := s.legs.load(key); l != nil {
			return l
		}
	}
	return nil
}

// legIndex is the answered legs by dialog ID. A map under a lock: a
// sync.Map's trie nodes were 0.4 KB of each call's memory.
type legIndex struct {
	mu sync.RWMutex
	m  map[string]*leg
}

func (x *legIndex) store(id string, l *leg) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = map[string]*leg{}
	}
	x.m[id] = l
}

func (x *legIndex) delete(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.m, id)
}

// load is the leg of dialog id, nil if none.
func (x *legIndex) load(id string) *leg {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.m[id]
}

// legKeys are the dialog IDs an in-dialog request may have in s.legs.
func legKeys(req *sip.Request) []string {
	var keys []string
	for _, id := range []func(*sip.Request) (string, error){sip.DialogIDFromRequestUAS, sip.DialogIDFromRequestUAC} {
		if key, err := id(req); err == nil {
			keys = append(keys, key)
		}
	}
	return keys
}
