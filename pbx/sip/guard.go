package sip

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/peerline/peerline/internal/connlimit"
	"github.com/peerline/peerline/internal/ratelimit"
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

// guard decides who may send requests: the trunk's addresses, within a rate,
// and how many calls may run at once: maxCalls in all, and three quarters of
// them from one source, so that one broken trunk cannot take every slot.
type guard struct {
	allow []netip.Prefix
	rate  float64 // requests per second per source
	burst float64
	// trunkRate and trunkBurst are the rate of a source in allow: the trunk's
	// addresses carry every caller (sip.trunk.max_rate).
	trunkRate, trunkBurst float64
	calls                 *connlimit.Slots // callers' calls in progress

	mu       sync.Mutex
	buckets  map[netip.Addr]*ratelimit.Bucket
	overflow ratelimit.Bucket // shared by new sources while buckets is full
	purged   time.Time
}

// maxSources bounds the per-source state: a flood from many addresses costs a
// fixed amount of memory and shares one bucket.
const maxSources = 10000

func newGuard(allow []netip.Prefix, rate, burst, trunkRate float64, maxCalls int) *guard {
	return &guard{allow: allow, rate: rate, burst: burst, trunkRate: trunkRate, trunkBurst: max(burst, 4*trunkRate),
		calls:   connlimit.NewSlots(max(1, maxCalls*3/4), maxCalls),
		buckets: map[netip.Addr]*ratelimit.Bucket{}, overflow: ratelimit.New(rate, burst)}
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
	if b == nil && len(g.buckets) >= maxSources && now.Sub(g.purged) > time.Second {
		g.purged = now // forget idle sources rather than grow without bound, at most once a second
		for k, v := range g.buckets {
			if now.Sub(v.Last()) > time.Minute {
				delete(g.buckets, k)
			}
		}
	}
	switch {
	case b != nil:
	case len(g.buckets) >= maxSources:
		b = &g.overflow
	case g.allowed(ip):
		nb := ratelimit.New(g.trunkRate, g.trunkBurst)
		b = &nb
		g.buckets[ip] = b
	default:
		nb := ratelimit.New(g.rate, g.burst)
		b = &nb
		g.buckets[ip] = b
	}
	return b.Take(now)
}
