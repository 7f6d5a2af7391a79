package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// baresip is a real softphone (Debian's baresip-core) with SIP over TLS and
// SRTP (its srtp module), run headless: it sends a sine tone as its
// microphone, records what it hears (the sndfile filter) and takes commands
// over its TCP control socket.
type baresip struct {
	dir  string
	ctrl string // host:port of ctrl_tcp
	SIP  string // host:port of its TLS listener
	log  *syncBuffer
}

// startBaresip runs a baresip in dir/name whose account is account (an
// accounts line: "<sip:agent@127.0.0.1;transport=tls>;..."), sending a tone
// at freq, with its TLS certificate and key in one PEM file.
func startBaresip(t *testing.T, dir, name string, freq int, account, certKey string) *baresip {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip is not installed (make check installs Debian's baresip-core)")
	}
	b := &baresip{dir: filepath.Join(dir, name), log: &syncBuffer{}}
	os.MkdirAll(b.dir, 0o700)
	port := freeTCPPort(t)
	sipListen := fmt.Sprintf("127.0.0.1:%d", port)
	b.SIP = fmt.Sprintf("127.0.0.1:%d", port+1) // baresip listens for TLS one port above sip_listen
	b.ctrl = fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	config := fmt.Sprintf(`poll_method epoll
sip_listen %s
sip_certificate %s
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
audio_source ausine,%d
ausrc_srate 48000
ausrc_channels 2
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module sndfile.so
module srtp.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen %s
snd_path %s
`, sipListen, certKey, freq, b.ctrl, b.dir)
	os.WriteFile(filepath.Join(b.dir, "config"), []byte(config), 0o600)
	os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(account+"\n"), 0o600)
	cmd := exec.Command(bin, "-f", b.dir)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		os.WriteFile(filepath.Join(b.dir, "log"), []byte(b.log.String()), 0o600)
	})
	b.wait(t, "baresip is ready", func(s string) bool { return strings.Contains(s, "baresip is ready") })
	return b
}

// wait waits (bounded) until match holds for its log.
func (b *baresip) wait(t *testing.T, what string, match func(string) bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if match(b.log.String()) {
			return
		}
	}
	t.Fatalf("baresip: %s not seen; it said:\n%s", what, tail(b.log.String(), 3000))
}

// command sends one command over ctrl_tcp (a netstring of JSON).
func (b *baresip) command(t *testing.T, command, params string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", b.ctrl, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "e2e"})
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "%d:%s,", len(msg), msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	if !strings.Contains(string(buf[:n]), `"ok":true`) && strings.Contains(string(buf[:n]), `"response":true`) {
		t.Fatalf("baresip %s %s: %s", command, params, buf[:n])
	}
}

// heard is what baresip decoded from its call so far (its sndfile dump of the
// decoder's side), as samples at the dump's rate.
func (b *baresip) heard() ([]int16, int) {
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		return nil, 0
	}
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil || len(data) < 44 {
		return nil, 0
	}
	rate := int(binary.LittleEndian.Uint32(data[24:28]))
	channels := int(binary.LittleEndian.Uint16(data[22:24]))
	pcm := data[44:]
	samples := make([]int16, 0, len(pcm)/2/max(channels, 1))
	for i := 0; i+2*channels <= len(pcm); i += 2 * channels {
		samples = append(samples, int16(binary.LittleEndian.Uint16(pcm[i:])))
	}
	return samples, rate
}

// hears reports whether a tone at freq has at least share of the energy in
// some 200 ms of what it heard.
func (b *baresip) hears(freq, share float64) bool {
	h, rate := b.heard()
	if rate == 0 {
		return false
	}
	n := rate / 5
	for i := 0; i+n <= len(h); i += n / 2 {
		if level(h[i:i+n], freq, rate) > share {
			return true
		}
	}
	return false
}

// level is media.Level at any sample rate: the tone's share of the energy.
func level(samples []int16, freq float64, rate int) float64 {
	if rate == 8000 {
		return media.Level(samples, freq)
	}
	return media.Level(samples, freq*8000/float64(rate))
}

// freeTCPPort is a TCP port on 127.0.0.1 that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestBaresipOverTLSWithSRTP: two real softphones that insist on SRTP
// (mediaenc=srtp-mand) over SIP over TLS, one the caller and one the agent,
// with peerline requiring SRTP on both legs. They hear each other's tones
// through peerline's two encrypted legs; the agent's warning is whispered to
// the agent alone; at the limit the caller is hung up on. Then the caller's
// phone, which is Agneta's, logs her in by RFC 4733 keys over SRTP. No key
// reaches peerline's log, even at debug level.
func TestBaresipOverTLSWithSRTP(t *testing.T) {
	dir := t.TempDir()
	pCert, pKey, _, _ := siptest.SelfSigned(t, dir, "peerline")
	aCert, aKey, _, _ := siptest.SelfSigned(t, dir, "phones")
	both := filepath.Join(dir, "phones-both.pem")
	c, _ := os.ReadFile(aCert)
	k, _ := os.ReadFile(aKey)
	os.WriteFile(both, append(c, k...), 0o600)

	prompts := shortPrompts(t, dir)
	os.WriteFile(filepath.Join(prompts, "call-warning.wav"), mediatest.ToneWAV(1500, 1500*time.Millisecond), 0o600)
	// Long enough for the agent key to be pressed while it plays.
	os.WriteFile(filepath.Join(prompts, "no-agents.wav"), mediatest.ToneWAV(1000, 4*time.Second), 0o600)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
log: {level: debug}
http: {listen: 127.0.0.1:0}
sip:
  listen: ["udp:127.0.0.1:0", "tls:127.0.0.1:0"]
  rtp_ports: "47000-47998"
  tls: {cert: %s, key: %s, ca: %s}
  srtp: {trunk: required, agents: required}
lines:
  - id: peer
    numbers: [peer]
    prompts: %s
    calls: {limit: 10s, warnings: [5s]}
    wrapup: {questions: [], cooldown: 0s}
`, filepath.Join(dir, "data"), pCert, pKey, aCert, prompts))
	s, token := serveOpen(t, dir, cfg)
	api := func(method, path, body string, want int) {
		t.Helper()
		if code, out := s.request(method, path, token, body); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, out)
		}
	}

	agent := startBaresip(t, dir, "agent", 2000,
		"<sip:agent@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;answermode=auto;audio_codecs=PCMU", both)
	api("POST", "/api/v1/agents", fmt.Sprintf(`{"id":"klara","name":"Klara","phone":"070-174 06 05","sip_uri":"sip:agent@%s;transport=tls","lines":["peer"]}`, agent.SIP), 201)
	api("POST", "/api/v1/agents/klara/login", "", 200)
	caller := startBaresip(t, dir, "caller", 1000,
		"<sip:+46705550101@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMA", both)
	caller.command(t, "dial", "sip:peer@"+s.SIPTLS)

	waitHear := func(b *baresip, who string, freq float64) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if b.hears(freq, 0.5) {
				return
			}
		}
		t.Fatalf("the %s did not hear %v Hz\npeerline:\n%s\nbaresip:\n%s", who, freq, tail(s.stderr.String(), 3000), tail(b.log.String(), 3000))
	}
	waitHear(agent, "agent", 1000)
	waitHear(caller, "caller", 2000)
	logged := s.log()
	for _, leg := range []string{"call in", "agent answered"} {
		if l := grepLines(logged, leg); !strings.Contains(l, "srtp=true") {
			t.Errorf("the %q line does not say the leg is encrypted: %s", leg, l)
		}
	}
	// The warning at 5 s is mixed into what the agent hears of the caller.
	for deadline := time.Now().Add(15 * time.Second); !agent.hears(1500, 0.1) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !agent.hears(1500, 0.1) {
		t.Error("the agent did not hear the warning over SRTP")
	}
	caller.wait(t, "the caller hung up on at the limit", func(l string) bool {
		return strings.Contains(l, "Call terminated") || strings.Contains(l, "session closed")
	})
	if caller.hears(1500, 0.05) {
		t.Error("the caller heard the agent's warning")
	}

	// Agneta calls from the same phone, with Klara logged out: the agent key,
	// '#' (this phone's number), her PIN and 1 log her in, pressed as RFC 4733
	// events over SRTP. (She is reached at this phone's SIP address: with no
	// trunk, an agent without one could not log in.)
	api("POST", "/api/v1/agents/klara/logout", "", 200)
	api("POST", "/api/v1/agents", fmt.Sprintf(`{"id":"agneta","name":"Agneta","phone":"070-555 01 01","sip_uri":"sip:agneta@%s;transport=tls","lines":["peer"]}`, caller.SIP), 201)
	api("PUT", "/api/v1/agents/agneta/pin", `{"pin":"275931"}`, 204)
	caller.command(t, "dial", "sip:peer@"+s.SIPTLS)
	caller.wait(t, "the second call established", func(l string) bool { return strings.Count(l, "Call established") == 2 })
	for _, key := range "*#275931#1" { // one press at a time, as a thumb does
		caller.command(t, "sndcode", string(key))
		time.Sleep(250 * time.Millisecond)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(presence(t, s, token, "agneta"), "available") {
			break
		}
	}
	if p := presence(t, s, token, "agneta"); !strings.Contains(p, "available") {
		t.Errorf("Agneta is not logged in by keys over SRTP: %s", p)
	}
	if keys := regexp.MustCompile(`inline:[A-Za-z0-9+/]{8}`).FindString(s.log()); keys != "" {
		t.Errorf("peerline's log holds an SRTP key: %s", keys)
	}
}
