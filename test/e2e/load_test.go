package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/pbx/media/mediatest"
)

// TestLoadBridgedCalls is the SIPp load run behind `make load`: PEERLINE_LOAD
// calls (default 200), PEERLINE_LOAD_CONCURRENT at once (default 50), each bridged
// to an agent with recorded speech streamed both ways, for PEERLINE_LOAD_SECONDS
// (default 10). It reports peerline's CPU, memory and goroutines, and
// rtpengine's beside them (rtpengineBeside); it asserts only that no call failed.
func TestLoadBridgedCalls(t *testing.T) {
	if os.Getenv("PEERLINE_LOAD") == "" {
		t.Skip("a load run, not a test: make load")
	}
	calls, concurrent := envInt("PEERLINE_LOAD", 200), envInt("PEERLINE_LOAD_CONCURRENT", 50)
	length := time.Duration(envInt("PEERLINE_LOAD_SECONDS", 10)) * time.Second
	if length < sampleMemory+time.Second {
		t.Fatalf("PEERLINE_LOAD_SECONDS: calls of at least %s, to be measured while they all talk", sampleMemory+time.Second)
	}
	dir := t.TempDir()
	// The live heap and stacks (what survives a collection) come from the
	// runtime's statistics that the heap profile ends with: /metrics's heap
	// figures include garbage.
	pprofAddr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	t.Setenv("PEERLINE_PPROF", pprofAddr)
	// More agents than calls at once: an agent is free again only after the BYE
	// to their phone is answered.
	// SIPp starts them all in a second: the trunk's admission must let them in.
	s, token, port := agentsOnDutySIP(t, dir, concurrent+10, "20000-29998", fmt.Sprintf("trunk: {max_rate: %d}", trunkRate(concurrent)))
	callerSF, agentSF := streamed(t, dir, "caller-bridged.xml"), streamed(t, dir, "agent-answers.xml")
	agentCmd, cancel := sippCmd(t, dir, agentSF, "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeMediaPorts(t, concurrent+10)),
		"-m", strconv.Itoa(calls), "-recv_timeout", waitBye(length))
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	idleG := metricValue(metricsPage(s), "go_goroutines")
	idleLive, idleStacks := liveMemory(pprofAddr)
	saveProfiles(t, pprofAddr, "idle")
	idleVm := settledRSS(s.cmd.Process.Pid)
	sampled := make(chan [2]float64, 1)
	stopSampling := make(chan struct{})
	go func() { // the most goroutines and memory while the calls run
		var most [2]float64
		for {
			select {
			case <-stopSampling:
				sampled <- most
				return
			case <-time.After(500 * time.Millisecond):
			}
			g := metricValue(metricsPage(s), "go_goroutines")
			most[0], most[1] = max(most[0], g), max(most[1], vmRSS(s.cmd.Process.Pid))
		}
	}()
	start := time.Now()
	talk := talkWindow(func() (float64, float64) {
		return treeCPU(s.cmd.Process.Pid), metricValue(metricsPage(s), "peerline_rtp_relayed_packets_total")
	})
	live := make(chan [2]float64, 1)
	go func() { // every call talking, after the CPU window
		time.Sleep(time.Until(start.Add(sampleMemory)))
		h, st := liveMemory(pprofAddr)
		saveProfiles(t, pprofAddr, "talking")
		live <- [2]float64{h, st}
	}()
	code, out := sipp(t, dir, callerSF, s.SIP, "-s", "peer", "-m", strconv.Itoa(calls),
		"-l", strconv.Itoa(concurrent), "-r", strconv.Itoa(concurrent), "-mp", strconv.Itoa(freeMediaPorts(t, concurrent+10)), "-d", strconv.Itoa(int(length.Milliseconds())),
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1")
	wall := time.Since(start)
	close(stopSampling)
	most := <-sampled
	t.Logf("at %d calls: %.1f goroutines a call (%.0f idle)", concurrent, (most[0]-idleG)/float64(concurrent), idleG)
	t.Logf("resident memory: %.0f MB idle, %.0f MB at most: %.0f KB a call", idleVm/(1<<20), most[1]/(1<<20),
		(most[1]-idleVm)/1024/float64(concurrent))
	if l := <-live; l[0] > 0 && idleLive > 0 {
		t.Logf("live after a collection: heap %.1f KB and stacks %.1f KB a call (idle %.1f MB, %.0f KB)",
			(l[0]-idleLive)/1024/float64(concurrent), (l[1]-idleStacks)/1024/float64(concurrent), idleLive/(1<<20), idleStacks/1024)
	}
	acode, aout := sippResult(t, dir, agentSF, agentCmd, agentCmd.Wait())
	cpu, rss := procUsage(t, s.cmd.Process.Pid)
	var body string
	var status int
	for i := 0; i < 100 && strings.Count(body, `"outcome":"answered"`) < calls; i++ { // the last records land just after
		time.Sleep(20 * time.Millisecond)
		status, body = s.request("GET", "/api/v1/lines/peer/calls", token, "")
	}
	if n := strings.Count(body, `"outcome":"answered"`); n < calls {
		t.Logf("only %d answered records: %d %s", n, status, tail(body, 500))
		saveLog(s)
	}
	_, metrics := s.request("GET", "/metrics", "", "")
	t.Logf("%d calls, %d at once, %s each: %s wall, peerline CPU %.2f s, peak RSS %d MB, answered records %d, %s",
		calls, concurrent, length, wall.Round(time.Millisecond), cpu, rss>>20, strings.Count(body, `"outcome":"answered"`),
		grepLine(metrics, "peerline_rtp_relayed_packets_total "))
	w := <-talk
	if w.packets > 0 {
		t.Logf("while the first %d talk (%s to %s): %.1f µs of CPU per relayed packet, %.0f%% of a core, %.0f packets/s relayed of the %.0f both sides send",
			concurrent, talkFrom, talkTo, w.cpu*1e6/w.packets, 100*w.cpu/w.seconds, w.packets/w.seconds, streamedRate(concurrent))
	}
	t.Logf("callers' SIPp:\n%s", tail(out, 2500))
	if code != 0 || acode != 0 {
		t.Fatalf("callers' sipp exit %d, agents' exit %d:\n%s\npeerline:\n%s", code, acode, tail(aout, 2000), tail(s.stderr.String(), 2000))
	}
	s.stop() // the anchors' run has the machine to itself
	rtpengineBeside(t, dir, relayRun{calls: calls, rate: concurrent, concurrent: concurrent, talk: length,
		caller: callerSF, agent: agentSF}, w)
}

// streamedRate is the packets a second that calls at once send, both ways,
// as SIPp streams them (streamed: 20 ms packets).
func streamedRate(calls int) float64 { return float64(2 * calls * 50) }

// saveLog writes the server's log to PEERLINE_LOAD_LOG, when set, for a load
// run that went wrong.
func saveLog(s *server) {
	if name := os.Getenv("PEERLINE_LOAD_LOG"); name != "" {
		os.WriteFile(name, []byte(s.stderr.String()), 0o600)
	}
}

// rtpengineBeside sends the bridged run's calls through Kamailio and
// rtpengine in the same sitting, when both are installed, and reports
// rtpengine's CPU per packet and memory per call beside peerline's (w).
func rtpengineBeside(t *testing.T, dir string, r relayRun, w window) {
	for _, bin := range []string{"kamailio", "rtpengine"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Logf("%s is not installed: no side-by-side figure", bin)
			return
		}
	}
	var ew window
	var idleRSS, rss float64
	r.during = func(e *mediatest.RTPEngine) {
		start := time.Now()
		idleRSS = vmRSS(e.Pid())
		talk := talkWindow(func() (float64, float64) {
			// rtpengine counts nothing cheap to read: its packets are what SIPp sends.
			return e.CPU().Seconds(), streamedRate(r.concurrent) * time.Since(start).Seconds()
		})
		time.Sleep(time.Until(start.Add(sampleMemory)))
		rss = vmRSS(e.Pid())
		ew = <-talk
	}
	_, failed, _ := kamailioRelayRun(t, dir, r)
	if failed > 0 {
		// rtpengine's packets are what SIPp sends, which holds only when
		// every call was set up: no figure beats a wrong one.
		t.Logf("the same calls through Kamailio and rtpengine: %d of %d failed, no side-by-side figure", failed, r.calls)
		return
	}
	if ew.packets == 0 || w.packets == 0 {
		return
	}
	t.Logf("the same calls through Kamailio and rtpengine (userspace): rtpengine %.1f µs of CPU per packet, %.0f%% of a core; peerline/rtpengine %.2f",
		ew.cpu*1e6/ew.packets, 100*ew.cpu/ew.seconds, (w.cpu/w.packets)/(ew.cpu/ew.packets))
	t.Logf("rtpengine's resident memory: %.0f MB idle, %.0f KB a call", idleRSS/(1<<20), (rss-idleRSS)/1024/float64(r.concurrent))
}

// failedCalls is SIPp's count of failed calls in its final statistics.
var failedCalls = regexp.MustCompile(`Failed call\s+\|\s+\d+\s+\|\s+(\d+)`)

// sippFailed is how many calls SIPp's output says failed.
func sippFailed(out string) int {
	n := 0
	if m := failedCalls.FindStringSubmatch(out); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	return n
}

// window is what the server did in a stretch of a load run.
type window struct{ cpu, packets, seconds float64 }

// A bridged run measures CPU from talkFrom to talkTo after SIPp starts (every
// call set up, none ended yet: SIPp starts them all in the first second) and
// memory at sampleMemory, when they still all talk.
const (
	talkFrom     = 2 * time.Second
	talkTo       = 6 * time.Second
	sampleMemory = talkTo + 500*time.Millisecond
)

// talkWindow measures what sample counts (CPU seconds and relayed packets)
// from talkFrom to talkTo after now, while the calls only talk.
func talkWindow(sample func() (cpu, packets float64)) <-chan window {
	out := make(chan window, 1)
	start := time.Now()
	go func() { // no t.Fatal here: this is not the test's goroutine
		time.Sleep(time.Until(start.Add(talkFrom)))
		cpu0, n0 := sample()
		t0 := time.Now()
		time.Sleep(time.Until(start.Add(talkTo)))
		cpu, n := sample()
		out <- window{cpu: cpu - cpu0, packets: n - n0, seconds: time.Since(t0).Seconds()}
	}()
	return out
}

// metricsPage is /metrics, or "" when it cannot be read; it may run off the
// test's goroutine. It asks for the page unzipped: a gzip writer kept between
// scrapes is 1.5 MB of live heap, which counted as 7 KB a call at 200 calls.
func metricsPage(s *server) string {
	req, err := http.NewRequest("GET", s.URL+"/metrics", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Accept-Encoding", "identity")
	res, err := s.client().Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// liveMemory is the heap and the stacks in use just after a collection, from
// the runtime's statistics that the heap profile's text form ends with
// (PEERLINE_PPROF at addr): exact where the GC trace counts in megabytes.
func liveMemory(addr string) (heap, stacks float64) {
	res, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "# HeapAlloc = "); ok {
			heap, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(l, "# Stack = "); ok {
			v, _, _ = strings.Cut(v, " ")
			stacks, _ = strconv.ParseFloat(v, 64)
		}
	}
	return heap, stacks
}

// saveProfiles writes the heap profile (after a collection) and the
// goroutines' stacks at addr into PEERLINE_LOAD_PROFILES, when set, named by
// when: what a call keeps is `go tool pprof -base heap-idle.pb.gz
// heap-talking.pb.gz`.
func saveProfiles(t *testing.T, addr, when string) {
	dir := os.Getenv("PEERLINE_LOAD_PROFILES")
	if dir == "" {
		return
	}
	for name, path := range map[string]string{"heap-" + when + ".pb.gz": "heap?gc=1", "goroutines-" + when + ".txt": "goroutine?debug=1"} {
		res, err := http.Get("http://" + addr + "/debug/pprof/" + path)
		if err != nil {
			t.Logf("profile %s: %v", name, err)
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			t.Logf("profile %s: %v", name, err)
		}
	}
}

// streamed writes scenario (in testdata) into dir with its recorded speech
// streamed by SIPp's rtp_stream, 20 ms a packet for the whole call, and
// returns its path. play_pcap_audio sends through a raw socket a call, and
// the kernel offers every UDP packet on the machine to each raw UDP socket:
// at 500 calls that was 40 % of peerline's CPU (raw_local_deliver), and as
// much of rtpengine's, which made every figure a SIPp artefact.
func streamed(t *testing.T, dir, scenario string) string {
	t.Helper()
	speech := filepath.Join(dir, "speech.pcma")
	if _, err := os.Stat(speech); err != nil {
		if err := os.WriteFile(speech, pcapPayloads(t, "/usr/share/sip-tester/g711a.pcap"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	xml := strings.Replace(string(b), "m=audio [media_port]", "m=audio [rtpstream_audio_port]", 1)
	xml = strings.Replace(xml, `<exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>`,
		fmt.Sprintf(`<exec rtp_stream="%s,-1,8,PCMA/8000"/>`, speech), 1)
	if !strings.Contains(xml, "rtp_stream") || !strings.Contains(xml, "rtpstream_audio_port") {
		t.Fatalf("%s: no recorded speech to stream", scenario)
	}
	out := filepath.Join(dir, "streamed-"+scenario)
	if err := os.WriteFile(out, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// pcapPayloads is the RTP payloads of an Ethernet pcap of plain RTP over
// IPv4, one after the other: the recording as a raw codec file.
func pcapPayloads(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap (%v)", path, err)
	}
	var out []byte
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		pkt := b[off+16 : min(off+16+n, len(b))]
		off += 16 + n
		const rtpAt = 14 + 20 + 8 // Ethernet, IPv4 without options, UDP
		if len(pkt) < rtpAt+12 || pkt[14]>>4 != 4 || pkt[14]&0xf != 5 || pkt[rtpAt]&0x3f != 0 {
			continue // not what this reads: skipped
		}
		out = append(out, pkt[rtpAt+12:]...)
	}
	return out
}

// vmRSS is a process's resident memory now (bytes), from /proc.
func vmRSS(pid int) float64 { return float64(mediatest.ProcMemory(pid, "VmRSS")) }

// settledRSS is a process's resident memory once it has stopped falling for
// a few seconds (at most a minute): the agents' PIN hashes (argon2id, 19 MiB
// each) leave garbage that Go hands back to the system only gradually after
// a collection. Taken at once, the idle figure held tens of megabytes of it,
// and a run of 100 calls came out at -73 KB a call.
func settledRSS(pid int) float64 {
	rss, still := vmRSS(pid), 0
	for range 60 {
		time.Sleep(time.Second)
		now := vmRSS(pid)
		if still++; now < rss-256<<10 {
			still = 0
		}
		rss = min(rss, now)
		if still == 3 {
			break
		}
	}
	return rss
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// procUsage is a process's CPU time so far (user + system, seconds) and its peak
// resident memory (bytes), from /proc.
func procUsage(t *testing.T, pid int) (float64, int64) {
	_, cpu, err := mediatest.ProcStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return cpu.Seconds(), mediatest.ProcMemory(pid, "VmHWM")
}

// TestLoadSignalling is `make load-calls`: PEERLINE_LOAD_RATE calls a second
// (default 50) for PEERLINE_LOAD calls (default 1000), all from one address as
// through a trunk, each put through to an agent after a 20 ms greeting (the
// real one with PEERLINE_LOAD_GREETING=real) and hung up 200 ms later. It reports peerline's CPU per call (set-up and
// teardown), its peak RSS and SIPp's failed calls; it asserts nothing of time.
func TestLoadSignalling(t *testing.T) {
	if os.Getenv("PEERLINE_LOAD_RATE") == "" {
		t.Skip("a load run, not a test: make load-calls")
	}
	calls, rate := envInt("PEERLINE_LOAD", 1000), envInt("PEERLINE_LOAD_RATE", 50)
	dir := t.TempDir()
	prompts := shortPrompts(t, dir)
	greeting, concurrent := "20 ms greeting", rate
	switch os.Getenv("PEERLINE_LOAD_GREETING") {
	case "real": // the embedded 5 s one
		concurrent = 8 * rate
		os.Remove(filepath.Join(prompts, "greeting.wav"))
		greeting = "the real greeting"
	case "none": // what the server takes to put a call through, without waiting for a greeting
		os.WriteFile(filepath.Join(prompts, "greeting.wav"), mediatest.ToneWAV(1000, 0), 0o600)
		greeting = "no greeting"
	default:
		os.WriteFile(filepath.Join(prompts, "greeting.wav"), mediatest.ToneWAV(1000, 20*time.Millisecond), 0o600)
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "20000-29998", trunk: {max_rate: %d}}
lines: [{id: peer, numbers: [peer], prompts: %s, wrapup: {questions: [], cooldown: 0s}}]
`, filepath.Join(dir, "data"), trunkRate(rate), prompts))
	s, token := serveOpen(t, dir, cfg)
	port := freeUDPPort(t)
	agents := rate + 20 // each call lasts well under a second
	for i := range agents {
		onDuty(t, s, token, fmt.Sprintf("a%d", i), port)
	}
	callerSF, agentSF := streamed(t, dir, "caller-bridged.xml"), streamed(t, dir, "agent-answers.xml")
	agentCmd, cancel := sippCmd(t, dir, agentSF, "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeMediaPorts(t, agents)),
		"-m", strconv.Itoa(calls), "-trace_msg")
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	cpu0, _ := procUsage(t, s.cmd.Process.Pid)
	_, metrics := s.request("GET", "/metrics", "", "")
	relayed0 := metricValue(metrics, "peerline_rtp_relayed_packets_total")
	start := time.Now()
	code, out := sipp(t, dir, callerSF, s.SIP, "-s", "peer", "-m", strconv.Itoa(calls),
		"-r", strconv.Itoa(rate), "-l", strconv.Itoa(concurrent), "-mp", strconv.Itoa(freeMediaPorts(t, concurrent+10)), "-d", "200",
		"-trace_msg")
	wall := time.Since(start)
	acode, aout := sippResult(t, dir, agentSF, agentCmd, agentCmd.Wait())
	if acode != 0 {
		t.Logf("agents' SIPp:\n%s", tail(aout, 1500))
		saveLog(s)
	}
	cpu, rss := procUsage(t, s.cmd.Process.Pid)
	failed := sippFailed(out)
	_, metrics = s.request("GET", "/metrics", "", "")
	relayed := metricValue(metrics, "peerline_rtp_relayed_packets_total") - relayed0
	t.Logf("%d calls at %d/s from one address, %s: %s wall, peerline CPU %.2f s = %.2f ms a call, peak RSS %d MB, failed %d (sipp exits %d, %d); %.0f RTP packets relayed a call",
		calls, rate, greeting, wall.Round(time.Millisecond), cpu-cpu0, 1000*(cpu-cpu0)/float64(calls), rss>>20, failed, code, acode,
		relayed/float64(calls))
	caller, agent := sippTrace(dir, filepath.Base(callerSF)), sippTrace(dir, filepath.Base(agentSF))
	t.Logf("from SIPp's traces: caller's INVITE → agent's INVITE: %s", quantiles(gaps(firstOf(caller, sentInvite), firstOf(agent, gotInvite))))
	t.Logf("from SIPp's traces: caller's INVITE → caller's 200: %s", quantiles(perCall(caller, sentInvite, got200)))
	t.Logf("from SIPp's traces: agent's 200 → agent's ACK: %s", quantiles(perCall(agent, sent200, gotACK)))
	t.Logf("from SIPp's traces: agent's 200 → caller's 200: %s", quantiles(gaps(firstOf(agent, sent200), firstOf(caller, got200))))
	t.Logf("callers' SIPp:\n%s", tail(out, 2500))
	if _, err := exec.LookPath("kamailio"); err != nil {
		t.Log("kamailio is not installed: no side-by-side figure")
		return
	}
	anchor := "Kamailio's stateful relay"
	if _, err := exec.LookPath("rtpengine"); err == nil {
		anchor = "Kamailio's stateful relay and rtpengine (userspace) for the media"
	}
	kcpu, kfailed, kdir := kamailioRelayRun(t, dir, relayRun{calls: calls, rate: rate, concurrent: concurrent, talk: 200 * time.Millisecond,
		caller: callerSF, agent: agentSF})
	if kfailed > 0 {
		t.Logf("the same calls through %s: %d of %d failed, no side-by-side figure", anchor, kfailed, calls)
		return
	}
	t.Logf("the same calls through %s: CPU %.3f ms a call; peerline/anchor %.1f",
		anchor, 1000*kcpu/float64(calls), (cpu-cpu0)/kcpu)
	caller, agent = sippTrace(kdir, filepath.Base(callerSF)), sippTrace(kdir, filepath.Base(agentSF))
	t.Logf("through Kamailio, from SIPp's traces: caller's INVITE → agent's INVITE: %s", quantiles(gaps(firstOf(caller, sentInvite), firstOf(agent, gotInvite))))
	t.Logf("through Kamailio, from SIPp's traces: agent's 200 → caller's 200: %s", quantiles(gaps(firstOf(agent, sent200), firstOf(caller, got200))))
}

func sentInvite(m sippMessage) bool { return m.sent && strings.HasPrefix(m.start, "INVITE ") }
func gotInvite(m sippMessage) bool  { return !m.sent && strings.HasPrefix(m.start, "INVITE ") }
func sent200(m sippMessage) bool {
	return m.sent && strings.HasPrefix(m.start, "SIP/2.0 200") && m.method == "INVITE"
}
func got200(m sippMessage) bool {
	return !m.sent && strings.HasPrefix(m.start, "SIP/2.0 200") && m.method == "INVITE"
}
func gotACK(m sippMessage) bool { return !m.sent && strings.HasPrefix(m.start, "ACK ") }

// metricValue is the value of a metric without labels in a /metrics page.
func metricValue(metrics, name string) float64 {
	v, _ := strconv.ParseFloat(strings.TrimPrefix(grepLine(metrics, name+" "), name+" "), 64)
	return v
}

// trunkRate is the sip.trunk.max_rate for a run at rate calls a second:
// PEERLINE_LOAD_TRUNK_RATE, else twice the rate (at least the default 50).
func trunkRate(rate int) int { return envInt("PEERLINE_LOAD_TRUNK_RATE", max(50, 2*rate)) }

// relayRun is SIPp's calls as kamailioRelayRun sends them: how many, how
// fast, how many at once, how long each talks once answered (SIPp's -d) and
// with which scenarios. during, when set, runs while they do, from just
// before the first call, with rtpengine (nil without it); the run waits for it.
type relayRun struct {
	calls, rate, concurrent int
	talk                    time.Duration
	caller, agent           string // the SIPp scenarios (streamed)
	during                  func(engine *mediatest.RTPEngine)
}

// kamailioRelayRun sends the same calls through Kamailio as a stateful relay
// to an agents' SIPp, with rtpengine anchoring the media when it is installed,
// and returns their CPU (all their processes), SIPp's failed calls and the
// folder of SIPp's traces.
func kamailioRelayRun(t *testing.T, dir string, r relayRun) (float64, int, string) {
	t.Helper()
	port := freeUDPPort(t)
	agentPort := freeUDPPort(t)
	k := &kamailio{Port: port, AgentAddr: fmt.Sprintf("127.0.0.1:%d", agentPort)}
	kdir := filepath.Join(dir, "kamailio")
	os.Mkdir(kdir, 0o700)
	var engine *mediatest.RTPEngine
	if _, err := exec.LookPath("rtpengine"); err == nil {
		n := max(400, 2*r.concurrent+40) // port pairs: a leg's RTP and RTCP, two legs a call, and room
		lo := freeMediaPorts(t, n)
		log := &syncBuffer{}
		engine = mediatest.StartRTPEngine(t, lo, lo+2*n-2, log)
		t.Cleanup(func() { os.WriteFile(filepath.Join(kdir, "rtpengine.log"), []byte(log.String()), 0o600) })
		k.RTPEngine = engine.Ctl.String()
	}
	pid := startKamailioFrom(t, kdir, "testdata/kamailio-relay.cfg.tmpl", k)
	agentCmd, cancel := sippCmd(t, kdir, r.agent, "-p", strconv.Itoa(agentPort), "-mp", strconv.Itoa(freeMediaPorts(t, r.concurrent+20)),
		"-m", strconv.Itoa(r.calls), "-trace_msg", "-recv_timeout", waitBye(r.talk))
	defer cancel()
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	cpu := func() float64 {
		if engine == nil {
			return treeCPU(pid)
		}
		return treeCPU(pid) + engine.CPU().Seconds()
	}
	cpu0 := cpu()
	measured := make(chan struct{})
	go func() {
		defer close(measured)
		if r.during != nil {
			r.during(engine)
		}
	}()
	_, out := sipp(t, kdir, r.caller, fmt.Sprintf("127.0.0.1:%d", port), "-s", "peer", "-m", strconv.Itoa(r.calls),
		"-r", strconv.Itoa(r.rate), "-l", strconv.Itoa(r.concurrent), "-mp", strconv.Itoa(freeMediaPorts(t, r.concurrent+10)),
		"-d", strconv.Itoa(int(r.talk.Milliseconds())), "-trace_msg")
	sippResult(t, kdir, r.agent, agentCmd, agentCmd.Wait())
	<-measured
	failed := sippFailed(out)
	return cpu() - cpu0, failed, kdir
}

// waitBye is SIPp's -recv_timeout for calls that talk this long: a phone
// waits for the BYE as long as the call lasts.
func waitBye(talk time.Duration) string {
	return fmt.Sprintf("%ds", int((talk + 20*time.Second).Seconds()))
}

// treeCPU is the CPU time (seconds) of pid and its children, from /proc.
func treeCPU(pid int) float64 {
	var total time.Duration
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		self, _ := strconv.Atoi(strings.Split(f, "/")[2])
		ppid, cpu, err := mediatest.ProcStat(self)
		if err == nil && (self == pid || ppid == pid) {
			total += cpu
		}
	}
	return total.Seconds()
}
