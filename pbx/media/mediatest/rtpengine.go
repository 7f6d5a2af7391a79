package mediatest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RTPEngine is Sipwise's rtpengine in userspace (no kernel table), the anchor
// the relay and the calls are measured against. It is driven over its ng control protocol
// (bencoded dictionaries over UDP), as Kamailio's rtpengine module drives it.
type RTPEngine struct {
	Ctl netip.AddrPort // its ng control address
	cmd *exec.Cmd
	ng  *net.UDPConn // connected to the control address
}

// StartRTPEngine runs rtpengine on 127.0.0.1 with media ports from portMin
// to portMax, its log to log (nil: this process's stderr), until the test
// ends; a test without rtpengine installed is skipped.
func StartRTPEngine(tb testing.TB, portMin, portMax int, log io.Writer) *RTPEngine {
	tb.Helper()
	bin, err := exec.LookPath("rtpengine")
	if err != nil {
		tb.Skip("rtpengine is not installed (Debian rtpengine-daemon)")
	}
	ctl := freeUDP(tb)
	cmd := exec.Command(bin, "--config-file=none", "--foreground", "--log-stderr", "--log-level=4", "--table=-1",
		"--interface=127.0.0.1", "--listen-ng="+ctl.String(), fmt.Sprintf("--port-min=%d", portMin),
		fmt.Sprintf("--port-max=%d", portMax), "--num-threads=2")
	cmd.Stdout, cmd.Stderr = log, log
	if log == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ng, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ctl))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ng.Close() })
	e := &RTPEngine{Ctl: ctl, cmd: cmd, ng: ng}
	for i := 0; ; i++ { // until it listens
		if _, err := e.command(map[string]string{"command": "ping"}); err == nil {
			return e
		} else if i == 50 {
			tb.Fatalf("rtpengine does not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Calls sets up a call for each pair of streams (2c offers, 2c+1 answers) and
// returns where each stream is to send.
func (e *RTPEngine) Calls(tb testing.TB, gen []netip.AddrPort) []netip.AddrPort {
	targets := make([]netip.AddrPort, len(gen))
	for c := 0; c < len(gen); c += 2 {
		id := fmt.Sprintf("call-%d", c)
		offer, err := e.command(map[string]string{"command": "offer", "call-id": id, "from-tag": "a", "sdp": sdpFor(gen[c])})
		if err != nil {
			tb.Fatal(err)
		}
		answer, err := e.command(map[string]string{"command": "answer", "call-id": id, "from-tag": "a", "to-tag": "b", "sdp": sdpFor(gen[c+1])})
		if err != nil {
			tb.Fatal(err)
		}
		targets[c+1], targets[c] = mediaAddr(tb, offer), mediaAddr(tb, answer)
	}
	return targets
}

func sdpFor(a netip.AddrPort) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n",
		a.Addr(), a.Port())
}

var sdpMedia = regexp.MustCompile(`(?s)c=IN IP4 (\S+).*m=audio (\d+)`)

func mediaAddr(tb testing.TB, sdp string) netip.AddrPort {
	m := sdpMedia.FindStringSubmatch(sdp)
	if m == nil {
		tb.Fatalf("rtpengine's SDP has no audio: %q", sdp)
	}
	port, _ := strconv.Atoi(m[2])
	return netip.AddrPortFrom(netip.MustParseAddr(m[1]), uint16(port))
}

// command sends one ng command and returns the answer's SDP (empty for a ping).
func (e *RTPEngine) command(args map[string]string) (string, error) {
	var b bytes.Buffer
	cookie := strconv.Itoa(int(time.Now().UnixNano()))
	b.WriteString(cookie + " d")
	for _, k := range slices.Sorted(maps.Keys(args)) { // bencode wants its keys sorted
		fmt.Fprintf(&b, "%d:%s%d:%s", len(k), k, len(args[k]), args[k])
	}
	b.WriteString("e")
	e.ng.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := e.ng.Write(b.Bytes()); err != nil {
		return "", err
	}
	buf := make([]byte, 65536)
	n, err := e.ng.Read(buf)
	if err != nil {
		return "", err
	}
	reply := string(buf[:n])
	if !strings.HasPrefix(reply, cookie+" ") {
		return "", fmt.Errorf("rtpengine: reply to another command: %.60q", reply)
	}
	d := bencodeStrings(reply[len(cookie)+1:])
	if d["result"] != "ok" && d["result"] != "pong" {
		return "", fmt.Errorf("rtpengine: %s: %s", d["result"], d["error-reason"])
	}
	return d["sdp"], nil
}

// bencodeStrings reads the top-level string values of a bencoded dictionary
// (enough of an ng reply: result, error-reason, sdp).
func bencodeStrings(s string) map[string]string {
	out := map[string]string{}
	r := bufio.NewReader(strings.NewReader(s))
	if c, _ := r.ReadByte(); c != 'd' {
		return out
	}
	for {
		key, ok := bencodeValue(r)
		if !ok {
			return out
		}
		val, ok := bencodeValue(r)
		if !ok {
			return out
		}
		out[key] = val
	}
}

// bencodeValue reads one value; a list, dictionary or integer is skipped and
// read as "".
func bencodeValue(r *bufio.Reader) (string, bool) {
	c, err := r.ReadByte()
	if err != nil || c == 'e' {
		return "", false
	}
	switch {
	case c == 'i':
		_, err := r.ReadString('e')
		return "", err == nil
	case c == 'l' || c == 'd':
		for {
			if _, ok := bencodeValue(r); !ok {
				return "", true
			}
		}
	case c >= '0' && c <= '9':
		r.UnreadByte()
		ls, err := r.ReadString(':')
		n, _ := strconv.Atoi(strings.TrimSuffix(ls, ":"))
		if err != nil || n < 0 {
			return "", false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err == nil
	}
	return "", false
}

// Pid is rtpengine's process id.
func (e *RTPEngine) Pid() int { return e.cmd.Process.Pid }

// CPU is rtpengine's CPU time so far, from /proc.
func (e *RTPEngine) CPU() time.Duration {
	_, cpu, _ := ProcStat(e.cmd.Process.Pid)
	return cpu
}

// freeUDP is a loopback UDP address free just now.
func freeUDP(tb testing.TB) netip.AddrPort {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}
