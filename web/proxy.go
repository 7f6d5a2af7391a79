package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientIP is the address of whoever sent a request: the connection's peer,
// unless that peer is one of trusted (a reverse proxy in front of peerline).
// Then the addresses its Forwarded or X-Forwarded-For header lists are read
// from the right, each added by the proxy before it, and the first one that
// is not a trusted proxy is the client: a client cannot put itself in front
// by writing the header itself.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer := remoteAddr(r.RemoteAddr)
		if !peer.IsValid() || !isTrusted(peer) {
			return addrString(peer, r.RemoteAddr)
		}
		chain := forwardedFor(r.Header)
		for i := len(chain) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(chain[i])
			if err != nil {
				break // a hop we cannot read: trust stops here
			}
			if !isTrusted(a) {
				return a.Unmap().String()
			}
			peer = a
		}
		return peer.Unmap().String()
	}
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(s)
	return a
}

func addrString(a netip.Addr, raw string) string {
	if a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(raw)
	if err != nil {
		return raw
	}
	return host
}

// forwardedFor lists the client addresses of a Forwarded header (RFC 7239
// for=), or else of X-Forwarded-For, in order.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Forwarded") {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					out = append(out, forwardedNode(val))
				}
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, v := range h.Values("X-Forwarded-For") {
		for _, a := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(a))
		}
	}
	return out
}

// forwardedNode is the address of a Forwarded for= value: "192.0.2.1",
// "\"[2001:db8::1]:4711\"", "192.0.2.1:4711".
func forwardedNode(v string) string {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if strings.HasPrefix(v, "[") {
		if i := strings.IndexByte(v, ']'); i > 0 {
			return v[1:i]
		}
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		return host
	}
	return v
}
