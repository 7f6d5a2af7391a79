package media_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"golang.org/x/net/ipv4"
)

func TestMain(m *testing.M) {
	mediatest.GeneratorMain()
	os.Exit(m.Run())
}

// BenchmarkRelayLoad measures CPU per relayed packet at a steady rate of
// calls (20 ms PCMA both ways; 100 packets a second a call), peerline's bridge
// beside minimal Go relays that only forward: the floor of each shape. The
// streams come from a generator process, so the CPU measured is the relay's.
// Run it with -benchtime=1x (make bench-relay); ns/op means nothing here.
func BenchmarkRelayLoad(b *testing.B) {
	const window = 3 * time.Second
	for _, pps := range []int{5000, 20000, 50000} {
		for _, r := range relays() {
			b.Run(fmt.Sprintf("%dpps/%s", pps, r.name), func(b *testing.B) {
				gen := mediatest.StartGenerator(b, 2*(pps/100))
				targets, relayed := r.start(b, gen.Addrs)
				gen.Send(targets)
				time.Sleep(time.Second) // every stream under way
				cpu0, n0 := cpuTime(), relayed.Load()
				time.Sleep(window)
				cpu, n := cpuTime()-cpu0, relayed.Load()-n0
				sent, got := gen.Stop(b)
				report(b, cpu, n, window, sent, got)
			})
		}
		b.Run(fmt.Sprintf("%dpps/rtpengine", pps), func(b *testing.B) {
			gen := mediatest.StartGenerator(b, 2*(pps/100))
			e := mediatest.StartRTPEngine(b, 30000, 39998, nil)
			gen.Send(e.Calls(b, gen.Addrs))
			time.Sleep(time.Second)
			cpu0 := e.CPU()
			time.Sleep(window)
			cpu := e.CPU() - cpu0
			sent, got := gen.Stop(b)
			// rtpengine counts nothing we can read cheaply: what the streams
			// sent in the window, less what was lost.
			n := uint64(float64(pps) * window.Seconds() * float64(got) / float64(max(sent, 1)))
			report(b, cpu, n, window, sent, got)
		})
	}
}

// TestRelayShapesForward: each relay BenchmarkRelayLoad measures, floors
// included, forwards the generator's streams to their peers; a floor that lost
// them would still report a CPU figure, from fewer packets.
func TestRelayShapesForward(t *testing.T) {
	for _, r := range relays() {
		t.Run(r.name, func(t *testing.T) {
			gen := mediatest.StartGenerator(t, 4)
			targets, relayed := r.start(t, gen.Addrs)
			gen.Send(targets)
			for i := 0; i < 200 && relayed.Load() < 50; i++ { // a second of 4 streams
				time.Sleep(20 * time.Millisecond)
			}
			sent, got := gen.Stop(t)
			if n := relayed.Load(); n < 50 || got < sent/2 {
				t.Errorf("relayed %d; the streams sent %d and got %d back", n, sent, got)
			}
		})
	}
}

// relayShape starts a relay between the generator's streams: where each stream
// is to send, and the count of packets relayed.
type relayShape struct {
	name  string
	start func(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64)
}

// osFloors are the floors only some systems have (io_uring on Linux).
var osFloors []relayShape

func relays() []relayShape {
	return append([]relayShape{
		{"peerline", peerlineRelay},
		{"floor-socket-per-leg", floorPerLeg},
		{"floor-shared-socket", floorShared},
		{"floor-shared-mmsg", floorSharedBatch},
	}, osFloors...)
}

func report(b *testing.B, cpu time.Duration, n uint64, window time.Duration, sent, got int) {
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(n), "µs-cpu/pkt")
	b.ReportMetric(float64(n)/window.Seconds(), "pkt/s")
	b.ReportMetric(100*float64(cpu)/float64(window), "%core")
	b.ReportMetric(100*(1-float64(got)/float64(max(sent, 1))), "%lost")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Stream 2c is call c's caller, 2c+1 its agent: each hears the other.
func peer(i int) int { return i ^ 1 }

func peerlineRelay(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64) {
	ports := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 40000, 59998)
	relayed := new(atomic.Uint64)
	targets := make([]netip.AddrPort, len(gen))
	for c := 0; c < len(gen); c += 2 {
		a, b := session(tb, ports, gen[c]), session(tb, ports, gen[c+1])
		targets[c], targets[c+1] = a.LocalAddr(), b.LocalAddr()
		br := media.NewBridge(media.Leg{Session: a, PT: media.PCMA}, media.Leg{Session: b, PT: media.PCMA})
		br.CountInto(relayed)
		br.Start()
		tb.Cleanup(br.Stop)
	}
	return targets, relayed
}

// floorPerLeg is peerline's old shape: a socket per leg, a goroutine per
// direction blocked in a read.
func floorPerLeg(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64) {
	relayed := new(atomic.Uint64)
	conns := make([]*net.UDPConn, len(gen))
	targets := make([]netip.AddrPort, len(gen))
	for i := range conns {
		conns[i] = listenLoopback(tb)
		targets[i] = conns[i].LocalAddr().(*net.UDPAddr).AddrPort()
	}
	for i, c := range conns {
		out, to := conns[peer(i)], gen[peer(i)]
		go func() {
			buf := make([]byte, 1500)
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				out.WriteToUDPAddrPort(buf[:n], to)
				relayed.Add(1)
			}
		}()
	}
	return targets, relayed
}

// floorShared reads every leg from one socket and forwards by source address.
func floorShared(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64) {
	relayed := new(atomic.Uint64)
	c, to := shared(tb, gen)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if dst, ok := to[from]; ok {
				c.WriteToUDPAddrPort(buf[:n], dst)
				relayed.Add(1)
			}
		}
	}()
	return same(c, len(gen)), relayed
}

// floorSharedBatch is floorShared reading and writing with recvmmsg and sendmmsg.
func floorSharedBatch(tb testing.TB, gen []netip.AddrPort) ([]netip.AddrPort, *atomic.Uint64) {
	relayed := new(atomic.Uint64)
	c, to := shared(tb, gen)
	pc := ipv4.NewPacketConn(c)
	go func() {
		msgs := make([]ipv4.Message, 32)
		out := make([]ipv4.Message, 0, 32)
		for i := range msgs {
			msgs[i].Buffers = [][]byte{make([]byte, 1500)}
		}
		for {
			n, err := pc.ReadBatch(msgs, 0)
			if err != nil {
				return
			}
			out = out[:0]
			for _, m := range msgs[:n] {
				if dst, ok := to[m.Addr.(*net.UDPAddr).AddrPort()]; ok {
					out = append(out, ipv4.Message{Buffers: [][]byte{m.Buffers[0][:m.N]}, Addr: net.UDPAddrFromAddrPort(dst)})
				}
			}
			for len(out) > 0 {
				k, err := pc.WriteBatch(out, 0)
				if err != nil {
					break
				}
				relayed.Add(uint64(k))
				out = out[k:]
			}
		}
	}()
	return same(c, len(gen)), relayed
}

func shared(tb testing.TB, gen []netip.AddrPort) (*net.UDPConn, map[netip.AddrPort]netip.AddrPort) {
	c := listenLoopback(tb)
	c.SetReadBuffer(4 << 20)
	to := map[netip.AddrPort]netip.AddrPort{}
	for i, g := range gen {
		to[g] = gen[peer(i)]
	}
	return c, to
}

func same(c *net.UDPConn, n int) []netip.AddrPort {
	targets := make([]netip.AddrPort, n)
	for i := range targets {
		targets[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return targets
}

func listenLoopback(tb testing.TB) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
