package sip

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// localIPToward is this host's address on the route to ip (no packet is
// sent). Answers are kept for a while: routes change seldom, and asking the
// kernel (a connected UDP socket) cost eight system calls and a netpoller
// registration, twice a call.
func localIPToward(ip netip.Addr) netip.Addr {
	if ip.IsUnspecified() || !ip.IsValid() {
		return netip.MustParseAddr("127.0.0.1")
	}
	return routes.toward(ip.Unmap(), time.Now())
}

// routeTTL is how long a route's local address is trusted.
const routeTTL = 30 * time.Second

// routeCacheMax bounds the cache: INVITEs from many addresses (a scan) must
// not grow it without end; a full cache starts over.
const routeCacheMax = 1024

type routeCache struct {
	mu sync.Mutex
	m  map[netip.Addr]route
}

type route struct {
	local netip.Addr
	until time.Time
}

var routes = routeCache{m: map[netip.Addr]route{}}

func (rc *routeCache) toward(ip netip.Addr, now time.Time) netip.Addr {
	rc.mu.Lock()
	r, ok := rc.m[ip]
	rc.mu.Unlock()
	if ok && now.Before(r.until) {
		return r.local
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 9)))
	if err != nil {
		return netip.MustParseAddr("127.0.0.1")
	}
	local := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	rc.mu.Lock()
	if len(rc.m) >= routeCacheMax {
		clear(rc.m)
	}
	rc.m[ip] = route{local: local, until: now.Add(routeTTL)}
	rc.mu.Unlock()
	return local
}
