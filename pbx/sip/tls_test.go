package sip_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/pbx/media"
	psip "github.com/peerline/peerline/pbx/sip"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestACallOverTLS: a trunk calling over TLS is answered over TLS, hears the
// announcement, and gets peerline's BYE over TLS at its own listener; strangers
// on the TLS port (plain bytes, a client that gives up on the handshake, junk
// after one) change nothing for the call. A renewed certificate is served to
// new connections after ReloadCertificates.
func TestACallOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, peerlineCA, _ := siptest.SelfSigned(t, dir, "peerline")
	_, _, _, phoneCert := siptest.SelfSigned(t, dir, "trunk")
	// peerline trusts the trunk's certificate for the connection back to it.
	ca := filepath.Join(dir, "trunk.pem")
	r := startRigWith(t, saturday, func(cfg *config.Config) {
		cfg.SIP.Listen = []string{"udp:127.0.0.1:0", "tls:127.0.0.1:0"}
		cfg.SIP.TLS = config.TLS{Cert: cert, Key: key, CA: ca}
	})
	var tlsAddr string
	for _, a := range r.addrs {
		if rest, ok := strings.CutPrefix(a, "tls:"); ok {
			tlsAddr = rest
		}
	}
	if tlsAddr == "" {
		t.Fatalf("no TLS listener in %v", r.addrs)
	}
	phone := siptest.NewPhoneTLS(t, "+46701234567", media.PCMU,
		&tls.Config{Certificates: []tls.Certificate{phoneCert}}, &tls.Config{RootCAs: peerlineCA})

	// Strangers first, and while the call runs.
	disturb := func() {
		if c, err := net.Dial("tcp", tlsAddr); err == nil { // plain SIP on the TLS port
			c.Write([]byte("INVITE sip:peer@127.0.0.1 SIP/2.0\r\n\r\n"))
			c.Close()
		}
		if c, err := tls.Dial("tcp", tlsAddr, &tls.Config{ServerName: "wrong.example", RootCAs: x509.NewCertPool()}); err == nil {
			c.Close()
			t.Error("a client that trusts nothing completed a handshake")
		}
		if c, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: peerlineCA}); err == nil {
			c.Write([]byte("\x00\x01junk\r\n\r\n"))
			c.Close()
		}
	}
	disturb()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	go func() { time.Sleep(100 * time.Millisecond); disturb() }()
	call, err := phone.Call(ctx, "peer", tlsAddr)
	if err != nil || call.Status != 200 {
		t.Fatalf("call over TLS: %v %+v", err, call)
	}
	if !strings.Contains(strings.Join(phone.Received(), ""), "transport=tls") {
		t.Errorf("peerline's Contact does not ask for TLS:\n%s", strings.Join(phone.Received(), "\n"))
	}
	if !phone.WaitBye(10 * time.Second) {
		t.Fatal("no BYE over TLS after the announcement")
	}
	if !phone.Media.Hears(1000, 0) {
		t.Error("the caller did not hear the announcement")
	}

	// A renewed certificate reaches new connections.
	newCert, newKey, newCA, _ := siptest.SelfSigned(t, t.TempDir(), "peerline")
	os.Rename(newCert, cert)
	os.Rename(newKey, key)
	if err := r.server.ReloadCertificates(); err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: newCA})
	if err != nil {
		t.Fatalf("the renewed certificate: %v", err)
	}
	c.Close()
}

// agentOverTLS is a rig with a TLS listener and Klara on duty at a phone that
// speaks SIP over TLS with its own certificate, which peerline trusts or not.
func agentOverTLS(t *testing.T, trusted bool) (*rig, *siptest.Agent) {
	dir := t.TempDir()
	cert, key, _, _ := siptest.SelfSigned(t, dir, "peerline")
	agentCA, _, _, agentCert := siptest.SelfSigned(t, dir, "agent")
	ca := agentCA
	if !trusted {
		ca = cert // trusts only itself
	}
	r := startRigWith(t, tuesday, func(cfg *config.Config) {
		cfg.SIP.Listen = []string{"udp:127.0.0.1:0", "tls:127.0.0.1:0"}
		cfg.SIP.TLS = config.TLS{Cert: cert, Key: key, CA: ca}
	})
	agent := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{TLS: &tls.Config{Certificates: []tls.Certificate{agentCert}}})
	r.onDuty(t, agent.URI)
	return r, agent
}

// TestAnAgentOverTLS: an agent whose SIP address says ;transport=tls is called
// over TLS, checked against sip.tls.ca, and the two sides hear each other.
func TestAnAgentOverTLS(t *testing.T) {
	r, agent := agentOverTLS(t, true)
	phone, call := callLine(t, r, media.PCMU)
	inv := agent.WaitInvite(5 * time.Second)
	if inv == nil || !strings.EqualFold(inv.Transport(), "tls") {
		t.Fatalf("the agent's INVITE: %v", inv)
	}
	siptest.HearEachOther(t, phone, call, agent)
	call.Hangup(context.Background())
	if !agent.WaitBye(5 * time.Second) {
		t.Error("no BYE to the agent over TLS")
	}
}

// TestAnAgentWithAnUntrustedCertificateIsNotCalled: a TLS peer whose
// certificate sip.tls.ca did not sign gets no INVITE, and the failed dial
// counts as the agent's miss, with the reason.
func TestAnAgentWithAnUntrustedCertificateIsNotCalled(t *testing.T) {
	r, agent := agentOverTLS(t, false)
	callLine(t, r, media.PCMU)
	if inv := agent.WaitInvite(2 * time.Second); inv != nil {
		t.Errorf("an untrusted peer got the INVITE: %v", inv)
	}
	// Not merely never dialled: the dial failed on the certificate, a miss.
	waitFor(t, func() bool {
		p, _ := r.lines.AgentPresence("klara")
		return p.Missed > 0 && strings.Contains(p.Unreachable, "certificate")
	}, "no miss for the untrusted certificate")
}

// TestCheckTLSNamesTheFilesServeWouldRefuse: config check loads the TLS files
// as serve does, and says which one is wrong.
func TestCheckTLSNamesTheFilesServeWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	cert, key, _, _ := siptest.SelfSigned(t, dir, "peerline")
	cfg := config.Default()
	cfg.SIP.TLS = config.TLS{Cert: cert, Key: key, CA: cert}
	if es := psip.CheckTLS(cfg); len(es) != 0 {
		t.Errorf("good files: %v", es)
	}
	cfg.SIP.TLS = config.TLS{Cert: filepath.Join(dir, "missing.pem"), Key: key, CA: key}
	es := psip.CheckTLS(cfg)
	if len(es) != 2 || es[0].Path != "sip.tls.cert" || es[1].Path != "sip.tls.ca" || !strings.Contains(es[1].Msg, "no PEM certificate") {
		t.Errorf("bad files: %v", es)
	}
}
