package web

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIPBehindTrustedProxies(t *testing.T) {
	extract := clientIP([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")})
	for _, c := range []struct {
		remote, fwd, xff, want string
	}{
		{"203.0.113.9:5000", "", "198.51.100.1", "203.0.113.9"},                   // not a proxy: its header is a lie
		{"127.0.0.1:5000", "", "198.51.100.1", "198.51.100.1"},                    // the proxy names the client
		{"127.0.0.1:5000", "", "6.6.6.6, 198.51.100.1", "198.51.100.1"},           // a client's own header is left of the proxy's
		{"127.0.0.1:5000", "", "198.51.100.1, 10.1.2.3", "198.51.100.1"},          // two proxies
		{"127.0.0.1:5000", "for=192.0.2.60;proto=https", "6.6.6.6", "192.0.2.60"}, // Forwarded wins
		{"127.0.0.1:5000", `for="[2001:db8::1]:4711"`, "", "2001:db8::1"},         //
		{"127.0.0.1:5000", "", "", "127.0.0.1"},                                   // no header: the proxy itself
		{"127.0.0.1:5000", "", "nonsense, 10.1.2.3", "10.1.2.3"},                  // unreadable hop: trust stops
		{"[::ffff:127.0.0.1]:5000", "", "198.51.100.7", "198.51.100.7"},           // IPv4-mapped peer
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.fwd != "" {
			r.Header.Set("Forwarded", c.fwd)
		}
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := extract(r); got != c.want {
			t.Errorf("%s fwd=%q xff=%q: %s, want %s", c.remote, c.fwd, c.xff, got, c.want)
		}
	}
}
