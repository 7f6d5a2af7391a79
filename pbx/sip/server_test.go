package sip_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/media/mediatest"
	"github.com/peerline/peerline/pbx/prompts"
	psip "github.com/peerline/peerline/pbx/sip"
	"github.com/peerline/peerline/pbx/sip/siptest"
	"github.com/peerline/peerline/roster"
	"github.com/rs/zerolog"
)

type rig struct {
	stop   func()   // stops the server and waits for it
	addr   string   // udp host:port of peerline
	addrs  []string // every listener, as "tls:127.0.0.1:5061"
	server *psip.Server
	lines  *line.Lines
	roster *roster.Store
	clock  *clocktest.Fake
	dir    string
}

// startRig runs peerline's SIP side on 127.0.0.1 with a fake clock at now.
func startRig(t *testing.T, now time.Time, allow ...string) *rig {
	return startRigWith(t, now, func(cfg *config.Config) {
		if len(allow) > 0 {
			cfg.SIP.Trunk.Allow = allow
		}
	})
}

// startRigWith is startRig with changes to the config.
func startRigWith(t *testing.T, now time.Time, change func(*config.Config)) *rig {
	t.Helper()
	dir := t.TempDir()
	promptDir := filepath.Join(dir, "prompts")
	os.Mkdir(promptDir, 0o700)
	for _, name := range []string{"closed-hours", "closed-today", "closed-holiday", "no-agents"} {
		if err := os.WriteFile(filepath.Join(promptDir, name+".wav"), mediatest.ToneWAV(1000, 600*time.Millisecond), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A short greeting and queue prompts, each of its own tone, so tests can tell
	// by ear what a caller heard; silence for hold music.
	for name, freq := range map[string]float64{"greeting": 300, "queue-hold": 500, "queue-first": 700, "queue-timeout": 900, "queue-music": 0} {
		if err := os.WriteFile(filepath.Join(promptDir, name+".wav"), mediatest.ToneWAV(freq, 200*time.Millisecond), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.SIP.Listen = []string{"udp:127.0.0.1:0"}
	cfg.SIP.RTPPorts = "33000-33998"
	cfg.Lines[0].Prompts = promptDir
	// No wrap-up form and no cooldown unless a test asks: agents are free the
	// moment a call ends.
	cfg.Lines[0].Wrapup.Questions, cfg.Lines[0].Wrapup.Cooldown = nil, 0
	change(cfg)
	lines, agents, clk := linetest.Lines(t, cfg, cfg.Lines, now)
	addrs, stop, srv := serveAll(t, cfg, lines, clk)
	return &rig{stop: stop, addr: strings.TrimPrefix(addrs[0], "udp:"), addrs: addrs, server: srv, lines: lines, roster: agents, clock: clk, dir: dir}
}

// serve runs a SIP server for cfg whose calls go to h, and returns its UDP
// address and a stop that waits for it.
func serve(t *testing.T, cfg *config.Config, h psip.Handler, clk clock.Clock) (string, func()) {
	t.Helper()
	addrs, stop, _ := serveAll(t, cfg, h, clk)
	return strings.TrimPrefix(addrs[0], "udp:"), stop
}

// serveAll is serve returning every listener's address ("udp:127.0.0.1:5060").
func serveAll(t *testing.T, cfg *config.Config, h psip.Handler, clk clock.Clock) ([]string, func(), *psip.Server) {
	t.Helper()
	sounds, err := prompts.LoadLines(cfg.Lines)
	if err != nil {
		t.Fatal(err)
	}
	if ls, ok := h.(*line.Lines); ok { // as serve does: the folder's own recordings play whole
		ls.SetOwnPrompts(func(line, name string) bool { return sounds[line].Own(name) })
	}
	srv, err := psip.New(cfg, sounds, h, clk, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []string, 1)
	done := make(chan struct{})
	go func() { srv.Serve(ctx, cfg.SIP.Listen, func(a []string) { ready <- a }); close(done) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return <-ready, stop, srv
}

var saturday = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestClosedLineAnswersPlaysAndHangsUp(t *testing.T) {
	r := startRig(t, saturday)
	phone := siptest.NewPhone(t, "+46701234567", media.PCMA)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := phone.Call(ctx, "peer", r.addr)
	if err != nil || call.Status != 200 {
		t.Fatalf("call: %v, %+v", err, call)
	}
	if !phone.WaitBye(5 * time.Second) {
		t.Fatal("peerline did not hang up after the announcement")
	}
	if !phone.Media.Hears(1000, 0) || len(phone.Media.Heard()) < 4000 {
		t.Errorf("the caller did not hear the announcement (%d samples)", len(phone.Media.Heard()))
	}
	// The record is written once our BYE is answered.
	day := config.Date{Year: 2026, Month: 11, Day: 28}
	var recs []line.Record
	for i := 0; i < 100 && len(recs) == 0; i++ {
		time.Sleep(20 * time.Millisecond)
		recs, _ = r.lines.Records("peer", day, day)
	}
	if len(recs) != 1 || recs[0].Outcome != line.OutcomeClosed || recs[0].Reason != hours.ReasonWeekend {
		t.Errorf("records: %+v", recs)
	}
}

func TestUnknownNumberAndForeignSource(t *testing.T) {
	r := startRig(t, saturday)
	phone := siptest.NewPhone(t, "+46701234567", media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if call, err := phone.Call(ctx, "nobody", r.addr); call == nil || call.Status != 404 {
		t.Errorf("unknown number: %+v %v", call, err)
	}
	closedToUs := startRig(t, saturday, "192.0.2.10/32")
	if call, err := phone.Call(ctx, "peer", closedToUs.addr); call == nil || call.Status != 403 {
		t.Errorf("source outside the allow-list: %+v %v", call, err)
	}
}

func TestOptionsAndReinviteAreAnswered(t *testing.T) {
	r := startRig(t, saturday)
	phone := siptest.NewPhone(t, "+46701234567", media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := phone.Options(ctx, r.addr)
	if err != nil || res.StatusCode != 200 || res.GetHeader("Allow") == nil {
		t.Fatalf("OPTIONS: %v %v", res, err)
	}
	call, err := phone.Call(ctx, "peer", r.addr)
	if err != nil || call.Status != 200 {
		t.Fatalf("call: %v %+v", err, call)
	}
	res, err = call.Reinvite(ctx, phone)
	if err != nil || res.StatusCode != 200 || res.Contact() == nil {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	if got, want := string(res.Body()), string(call.Session.InviteResponse.Body()); got != want {
		t.Errorf("re-INVITE answer has another SDP:\n%s\nwant\n%s", got, want)
	}
	if !phone.WaitBye(5 * time.Second) {
		t.Error("the call did not end after the re-INVITE")
	}
}
