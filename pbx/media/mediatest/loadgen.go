package mediatest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load generator sends steady RTP streams (20 ms of PCMA each, as phones
// do) and counts what comes back, from a process of its own so that a
// benchmark's CPU figures are the relay's alone. The benchmark's test binary
// is started again as the generator: a package's TestMain calls GeneratorMain.
//
// The conversation over the generator's stdin and stdout: it reads the number
// of streams, opens a socket for each and writes their addresses; it reads a
// target for each stream and sends to it until stdin closes; then it writes
// how many packets it sent and how many arrived.

const genEnv = "PEERLINE_RTP_GENERATOR"

// GeneratorMain runs the generator and exits when this process was started as one.
func GeneratorMain() {
	if os.Getenv(genEnv) == "" {
		return
	}
	if err := generate(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Generator is a running generator process.
type Generator struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	Addrs []netip.AddrPort // where stream i is sent from, and where it hears
}

// StartGenerator starts a generator of n streams.
func StartGenerator(tb testing.TB, n int) *Generator {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), genEnv+"=1")
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	g := &Generator{cmd: cmd, in: in, out: bufio.NewReader(out)}
	fmt.Fprintln(in, n)
	for range n {
		line, err := g.out.ReadString('\n')
		if err != nil {
			tb.Fatalf("generator: %v", err)
		}
		g.Addrs = append(g.Addrs, netip.MustParseAddrPort(strings.TrimSpace(line)))
	}
	return g
}

// Send starts stream i towards targets[i].
func (g *Generator) Send(targets []netip.AddrPort) {
	for _, t := range targets {
		fmt.Fprintln(g.in, t)
	}
}

// Stop ends the streams and reports the packets sent and received.
func (g *Generator) Stop(tb testing.TB) (sent, received int) {
	g.in.Close()
	if _, err := fmt.Fscan(g.out, &sent, &received); err != nil {
		tb.Fatalf("generator: %v", err)
	}
	return sent, received
}

func generate(stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	var n int
	if _, err := fmt.Fscanln(in, &n); err != nil {
		return err
	}
	conns := make([]*net.UDPConn, n)
	var received atomic.Int64
	for i := range conns {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		c.SetReadBuffer(1 << 20)
		conns[i] = c
		fmt.Fprintln(stdout, c.LocalAddr())
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	targets := make([]netip.AddrPort, n)
	for i := range targets {
		var s string
		if _, err := fmt.Fscanln(in, &s); err != nil {
			return err
		}
		t, err := netip.ParseAddrPort(s)
		if err != nil {
			return err
		}
		targets[i] = t
	}
	stop := make(chan struct{})
	go func() { io.Copy(io.Discard, in); close(stop) }()
	sent := send(conns, targets, stop)
	time.Sleep(200 * time.Millisecond) // the last packets on their way back
	fmt.Fprintln(stdout, sent, received.Load())
	return nil
}

// slots spreads the streams over the 20 ms of a frame, as calls that started
// at different moments are.
const slots = 10

// send sends a frame on every stream every 20 ms until stop closes.
func send(conns []*net.UDPConn, targets []netip.AddrPort, stop <-chan struct{}) int {
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 8 // PCMA
	for i := 12; i < len(pkt); i++ {
		pkt[i] = 0xd5 // silence
	}
	sent := 0
	next := time.Now()
	for tick := 0; ; tick++ {
		select {
		case <-stop:
			return sent
		default:
		}
		seq := uint16(tick / slots)
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		ts := uint32(tick/slots) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		for i := tick % slots; i < len(conns); i += slots {
			pkt[8], pkt[9], pkt[10], pkt[11] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
			if _, err := conns[i].WriteToUDPAddrPort(pkt, targets[i]); err == nil {
				sent++
			}
		}
		next = next.Add(20 * time.Millisecond / slots)
		time.Sleep(time.Until(next))
	}
}
