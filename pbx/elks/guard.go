package elks

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Guard lets only 46elks's requests through. 46elks signs nothing, so its
// webhook addresses carry a secret path segment (/pbx/elks/<secret>/...);
// optionally its requests must also bring basic auth (user:password in the
// URLs given to 46elks) and come from the addresses 46elks publishes.
// Anything else is refused before it touches a call: a wrong or missing
// secret is 404 (nothing tells a scanner the path exists), a source outside
// the list or wrong basic auth 401.
type Guard struct {
	Secret   string
	User     string // with Password: basic auth required too
	Password string
	Allow    []netip.Prefix // empty: any source
}

// Prefix is where the guarded paths live; the secret follows it.
const Prefix = "/pbx/elks/"

// Wrap guards next, which sees the path after the secret (r.URL.Path starts
// with "/").
func (g Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
		secret, tail, _ := strings.Cut(rest, "/")
		if !ok || len(g.Secret) == 0 || subtle.ConstantTimeCompare([]byte(secret), []byte(g.Secret)) != 1 {
			http.NotFound(w, r)
			return
		}
		if !g.allowed(r.RemoteAddr) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if g.User != "" {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(g.User)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(g.Password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="peerline"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + tail
		r2.URL.RawPath = ""
		next.ServeHTTP(w, r2)
	})
}

func (g Guard) allowed(remote string) bool {
	if len(g.Allow) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range g.Allow {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
