package sip_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// srtpRig is a rig whose SRTP policies are trunk and agents.
func srtpRig(t *testing.T, trunk, agents media.Policy, change ...func(*config.Config)) *rig {
	return startRigWith(t, tuesday, func(c *config.Config) {
		c.SIP.SRTP = config.SRTP{Trunk: string(trunk), Agents: string(agents)}
		for _, f := range change {
			f(c)
		}
	})
}

// encryptedCaller calls the line from a phone with SRTP policy p.
func encryptedCaller(t *testing.T, r *rig, number string, p media.Policy, early string) (*siptest.Phone, *siptest.Call) {
	t.Helper()
	phone := siptest.NewPhone(t, number, media.PCMU)
	phone.SRTP, phone.EarlyKeys = p, early
	return dialLine(t, r, phone)
}

// TestSRTPBothLegs: with SRTP required for callers and agents, a caller's
// RTP/SAVP offer is answered with a key of peerline's own, the agent's leg is
// offered RTP/SAVP, audio crosses both ways encrypted, and the agent's
// warning is whispered on the encrypted leg alone.
func TestSRTPBothLegs(t *testing.T) {
	r := srtpRig(t, media.SRTPRequired, media.SRTPRequired, func(c *config.Config) {
		l := &c.Lines[0]
		l.Calls.Limit, l.Calls.Warnings = config.Duration(10*time.Minute), []config.Duration{config.Duration(30 * time.Second)}
		os.WriteFile(filepath.Join(l.Prompts, "call-warning.wav"), mediatest.ToneWAV(1500, 300*time.Millisecond), 0o600)
	})
	agent := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{SRTP: media.SRTPRequired})
	r.onDuty(t, agent.URI)
	phone, call := encryptedCaller(t, r, callerNumber, media.SRTPRequired, "")
	answer := string(call.Session.InviteResponse.Body())
	if !strings.Contains(answer, "RTP/SAVP") || !strings.Contains(answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Errorf("the caller's answer:\n%s", answer)
	}
	inv := agent.WaitInvite(5 * time.Second)
	if inv == nil || !strings.Contains(string(inv.Body()), "RTP/SAVP") || !strings.Contains(string(inv.Body()), "a=crypto:") {
		t.Fatalf("the agent's offer: %v", inv)
	}
	if strings.Contains(string(inv.Body()), answer[strings.Index(answer, "inline:"):][:20]) {
		t.Error("the agent's leg got the caller's leg's key")
	}
	siptest.HearEachOther(t, phone, call, agent)
	warnsAgentAlone(t, r, phone, agent)
	if n, m := phone.Media.Undecryptable(), agent.Media.Undecryptable(); n+m != 0 {
		t.Errorf("%d packets to the caller and %d to the agent were not their SRTP", n, m)
	}
	call.Hangup(context.Background())
	if !agent.WaitBye(5 * time.Second) {
		t.Error("the caller hung up but the agent's leg stayed up")
	}
}

// TestSRTPCallerPlainAgent: an encrypted caller (RTP/AVP with a key, as a
// phone whose SRTP is optional offers) and a plain agent over UDP, where
// optional offers no key: the bridge relays between SRTP and RTP.
func TestSRTPCallerPlainAgent(t *testing.T) {
	r := srtpRig(t, media.SRTPOptional, media.SRTPOptional)
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	r.onDuty(t, agent.URI)
	phone, call := encryptedCaller(t, r, callerNumber, media.SRTPOptional, "")
	if answer := string(call.Session.InviteResponse.Body()); !strings.Contains(answer, "RTP/AVP") || !strings.Contains(answer, "a=crypto:1 ") {
		t.Errorf("the caller's answer takes no key:\n%s", answer)
	}
	if inv := agent.WaitInvite(5 * time.Second); inv == nil || strings.Contains(string(inv.Body()), "crypto") {
		t.Fatalf("an optional agent leg over UDP was offered a key: %v", inv)
	}
	siptest.HearEachOther(t, phone, call, agent)
	call.Hangup(context.Background())
	agent.WaitBye(5 * time.Second)
}

// TestSRTPLogInByKeys: an agent's phone that requires SRTP logs in with its
// PIN by RFC 4733 events over SRTP.
func TestSRTPLogInByKeys(t *testing.T) {
	r := srtpRig(t, media.SRTPRequired, media.SRTPRequired)
	addKlara(t, r)
	phone, call := encryptedCaller(t, r, agentNumber, media.SRTPRequired, "")
	phone.Media.SendKeys(call.Remote(), media.DefaultDTMF, "*#275931#1")
	for i := 0; i < 750 && !r.loggedIn("klara"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !r.loggedIn("klara") {
		t.Fatal("not logged in by RFC 4733 events over SRTP")
	}
	call.Hangup(context.Background())
}

// TestSRTPOffersRefused: what a leg's policy cannot take gets 488, and so does
// an a=crypto that is malformed or that peerline cannot use on RTP/SAVP; an
// agent whose phone refuses the encrypted offer counts a miss.
func TestSRTPOffersRefused(t *testing.T) {
	const plain = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
	savp := strings.Replace(plain, "RTP/AVP", "RTP/SAVP", 1) + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
	call := func(r *rig, sdp string) int {
		phone := siptest.NewPhone(t, callerNumber, media.PCMU)
		phone.SDP = []byte(sdp)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := phone.Call(ctx, "peer", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == 200 {
			c.Hangup(ctx)
		}
		return c.Status
	}
	required := srtpRig(t, media.SRTPRequired, media.SRTPRequired)
	none := srtpRig(t, media.SRTPNone, media.SRTPNone)
	optional := srtpRig(t, media.SRTPOptional, media.SRTPOptional)
	for _, c := range []struct {
		name string
		r    *rig
		sdp  string
		want int
	}{
		{"plain offer, SRTP required", required, plain, 488},
		{"RTP/SAVP, SRTP off", none, savp, 488},
		{"malformed key", optional, strings.Replace(savp, "inline:PS1u", "inline:!!", 1), 488},
		{"only a suite peerline lacks", optional, strings.Replace(savp, "AES_CM_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80", 1), 488},
		{"RTP/SAVP, SRTP required", required, savp, 200},
		{"plain offer, SRTP optional", optional, plain, 200},
	} {
		if got := call(c.r, c.sdp); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}

	// An agent's plain phone refuses RTP/SAVP: a miss, and the call goes on.
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	required.onDuty(t, agent.URI)
	_, c := encryptedCaller(t, required, callerNumber, media.SRTPRequired, "")
	waitFor(t, func() bool { return agent.WaitInvite(50*time.Millisecond) != nil }, "the agent was not called")
	waitFor(t, func() bool { p, _ := required.lines.AgentPresence("klara"); return p.Missed > 0 }, "no miss for an agent who cannot take SRTP")
	c.Hangup(context.Background())
}
