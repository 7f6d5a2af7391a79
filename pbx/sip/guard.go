package sip

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// scanners are User-Agent fragments of tools that probe SIP servers; their
// requests get no answer at all, which makes them move on faster than a 403.
var scanners = []string{"friendly-scanner", "sipvicious", "sipcli", "sip-scan", "sipsak", "vaxsipuseragent",
	"pplsip", "iwar", "sundayddr", "smap", "cantccem", "sivus"}

func isScanner(userAgent string) bool {
	ua := strings.ToLower(userAgent)
	for _, s := range scanners {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

// guard decides who may send requests: the trunk's addresses, within a rate.
type guard struct {
	allow []netip.Prefix
	rate  float64 // requests per second per source
	burst float64

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newGuard(allow []netip.Prefix, rate, burst float64) *guard {
	return &guard{allow: allow, rate: rate, burst: burst, buckets: map[netip.Addr]*bucket{}}
}

// allowed reports whether ip is one of the trunk's sources.
func (g *guard) allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// take spends one token of ip's bucket; false when the source sends too fast.
func (g *guard) take(ip netip.Addr, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[ip]
	if b == nil {
		if len(g.buckets) > 10000 { // forget idle sources rather than grow without bound
			for k, v := range g.buckets {
				if now.Sub(v.last) > time.Minute {
					delete(g.buckets, k)
				}
			}
		}
		b = &bucket{tokens: g.burst, last: now}
		g.buckets[ip] = b
	}
	b.tokens = min(g.burst, b.tokens+now.Sub(b.last).Seconds()*g.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
