package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestWarmReferralThreeWay runs a warm referral against the built binary: a
// sipgo UAS plays the operator's trunk and answers for the service. Caller,
// agent and service each send their own tone (1, 2 and 3 kHz): in the
// three-way part each hears the other two and not itself; after the agent
// leaves with #, caller and service hear each other alone. The service's
// INVITE carries the line's number, never the agent's or the caller's.
func TestWarmReferralThreeWay(t *testing.T) {
	dir := t.TempDir()
	service := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{}) // the trunk, answering for 90101
	agent := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{})
	prompts := shortPrompts(t, dir)
	for name, freq := range map[string]float64{"ref-kort": 500, "referral-ringing": 0} {
		os.WriteFile(filepath.Join(prompts, name+".wav"), mediatest.ToneWAV(freq, 200*time.Millisecond), 0o600)
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "46000-46998", trunk: {proxy: "sip:%s"}}
lines:
  - id: peer
    name: Stödlinjen
    numbers: [peer]
    caller_id: "+46850001000"
    prompts: %s
    wrapup: {questions: [], cooldown: 0s}
    referrals: [{key: "*1", name: Självmordslinjen, number: "90101", prompt: ref-kort}]
`, filepath.Join(dir, "data"), service.Addr, prompts))
	s, token := serveOpen(t, dir, cfg)
	body := fmt.Sprintf(`{"id":"klara","name":"Klara","phone":"070-174 06 05","sip_uri":%q,"lines":["peer"]}`, agent.URI)
	for _, r := range []struct{ method, path, body string }{{"POST", "/api/v1/agents", body}, {"POST", "/api/v1/agents/klara/login", ""}} {
		if code, out := s.request(r.method, r.path, token, r.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, code, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	caller := siptest.NewPhone(t, "+46701234567", media.PCMU)
	call, err := caller.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("the caller: %v %+v", err, call)
	}
	siptest.HearEachOther(t, caller, call, agent)

	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "*1")
	inv := service.WaitInvite(10 * time.Second)
	if inv == nil {
		t.Fatalf("the service was not called\npeerline:\n%s", tail(s.stderr.String(), 3000))
	}
	if inv.Recipient.User != "90101" || !strings.Contains(inv.From().Address.User, "46850001000") {
		t.Errorf("the service's INVITE: to %s from %s", inv.Recipient.User, inv.From().Address.User)
	}
	for _, n := range []string{"701740605", "174 06 05", "701234567"} {
		if strings.Contains(inv.String(), n) {
			t.Errorf("the service's INVITE holds %s:\n%s", n, inv)
		}
	}
	time.Sleep(300 * time.Millisecond) // the three-way part starts as the service answers

	type party struct {
		name  string
		media *mediatest.Phone
		freq  float64
		send  func(freq float64, frames int)
	}
	parties := []party{
		{"caller", caller.Media, 1000, func(f float64, n int) { caller.Media.Send(call.Remote(), f, n) }},
		{"agent", agent.Media, 2000, func(f float64, n int) { agent.Media.Send(agent.Remote(), f, n) }},
		{"service", service.Media, 3000, func(f float64, n int) { service.Media.Send(service.Remote(), f, n) }},
	}
	speak := func(who []party) {
		for _, p := range parties {
			p.media.Reset()
		}
		var wg sync.WaitGroup
		for _, p := range who {
			wg.Go(func() { p.send(p.freq, 40) })
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond)
	}
	hears := func(p party, others []party) {
		t.Helper()
		h := p.media.Heard()
		if len(h) < 3200 {
			t.Errorf("the %s heard only %d samples", p.name, len(h))
			return
		}
		h = h[len(h)/3:]
		if own := media.Level(h, p.freq); own > 0.05 {
			t.Errorf("the %s hears itself (%.2f)", p.name, own)
		}
		for _, o := range others {
			if l := media.Level(h, o.freq); l < 0.25 {
				t.Errorf("the %s hears the %s's %v Hz at only %.2f", p.name, o.name, o.freq, l)
			}
		}
	}
	speak(parties)
	hears(parties[0], []party{parties[1], parties[2]})
	hears(parties[1], []party{parties[0], parties[2]})
	hears(parties[2], []party{parties[0], parties[1]})

	agent.Media.SendKeys(agent.Remote(), media.DefaultDTMF, "#")
	if !agent.WaitBye(5 * time.Second) {
		t.Fatal("the agent's leg was not hung up after #")
	}
	speak([]party{parties[0], parties[2]})
	hears(parties[0], []party{parties[2]})
	hears(parties[2], []party{parties[0]})

	call.Hangup(ctx)
	if !service.WaitBye(5 * time.Second) {
		t.Error("the service's leg stayed up after the caller hung up")
	}
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.Referral != nil })
	if rec.Ended != line.EndedReferred || !rec.Referral.Answered || rec.Referral.Name != "Självmordslinjen" {
		t.Errorf("the record: %+v %+v", rec, rec.Referral)
	}
}

// TestReferralPromptTexts: config prompts prints what generate.sh --config
// says for each referral, into its line's folder, with the service's name.
func TestReferralPromptTexts(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
lines:
  - id: peer
    numbers: [peer]
    prompts: %s
    referrals:
      - {key: "*1", name: Självmordslinjen, number: "90101"}
      - {key: "*3", name: "112", mode: tell, prompt: referral-112}
      - {key: "#4", name: Jourhavande medmänniska, number: "08-702 16 80", mode: tell}
`, filepath.Join(dir, "data"), dir))
	out, code := peerline(t, dir, "", "config", "prompts", "--config", cfg)
	want := dir + "|referral-star1|Jag kopplar dig vidare till Självmordslinjen, nummer 9 0 1 0 1. Stanna kvar i luren.\n" +
		dir + "|referral-hash4|Du kan ringa Jourhavande medmänniska på nummer 0 8 7 0 2 1 6 8 0. Jag upprepar: 0 8 7 0 2 1 6 8 0.\n"
	if code != 0 || out != want {
		t.Errorf("config prompts: %d\n%s\nwant\n%s", code, out, want)
	}
}
