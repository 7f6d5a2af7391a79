package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/certs"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/connlimit"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/localapi"
	"github.com/peerline/peerline/internal/logging"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/pbx/elks"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/peerline/peerline/pbx/sip"
	"github.com/peerline/peerline/pbx/webhook"
	"github.com/peerline/peerline/web"
	bolt "go.etcd.io/bbolt"
)

// shutdownGrace is how long open HTTP requests get to finish on stop.
const shutdownGrace = 5 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("serve")
	if _, err := f.parse(args, 0); err != nil {
		return err
	}
	a, cfg, err := f.openApp()
	if err != nil {
		return err
	}
	defer a.Close()
	routes := cfg.Routes() // a line's own numbers are public: logged in full
	log, logQueue, err := logging.NewQueued(cfg.Log, stderr, func(n string) bool { _, ok := routes.Line(n); return ok })
	if err != nil {
		return err
	}
	defer logQueue.Close() // last: what the shutdown logs is written too

	// Whatever logs through log/slog, sipgo's package-level logger included,
	// goes through the masking, size-only and rate-limited bridge.
	slogger := logging.Slog(log)
	slog.SetDefault(slogger)
	sipgosip.SetDefaultLogger(slogger)
	clk := clock.Real{}
	sender := event.NewSender(a.db, clk, a.events, cfg.Webhooks, log)
	senderDone := make(chan struct{})
	defer func() { <-senderDone }() // the database closes after the sender's last write
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { sender.Run(ctx); close(senderDone) }()
	if err := startDebug(ctx, log); err != nil {
		return err
	}
	notifierDone := notifier(ctx, a, cfg, clk, log)
	defer func() { cancel(); <-notifierDone }() // the database closes after its last write
	// Calls a crash or kill interrupted are recorded as such, ending when the
	// last run was last known alive.
	if n, err := a.lines.CloseInterrupted(); err != nil {
		return err
	} else if n > 0 {
		log.Warn().Int("calls", n).Msg("calls interrupted when peerline last stopped without ending them: recorded as interrupted")
	}
	a.lines.RunAlive(ctx, func(err error) { log.Error().Err(err).Msg("noting that peerline runs") })
	// A deadline passed while peerline was down is applied now.
	if err := a.lines.CheckCover(); err != nil {
		return err
	}
	if err := a.lines.RunCoverJob(ctx, func(err error) { log.Error().Err(err).Msg("cover deadline") }); err != nil {
		return err
	}
	a.lines.RunClosingTime(ctx, func(err error) { log.Error().Err(err).Msg("closing time") })

	// The CLI's commands run here while peerline holds the database; the
	// database closes only after the last one.
	admin, err := localapi.Listen(cfg.DataDir)
	if err != nil {
		return err
	}
	adminDone := make(chan struct{})
	go func() {
		if err := localapi.Serve(ctx, admin, a.serveCommand); err != nil {
			log.Error().Err(err).Msg("admin socket")
		}
		close(adminDone)
	}()
	defer func() { cancel(); <-adminDone }()

	lineSounds, err := prompts.LoadLines(cfg.Lines)
	if err != nil {
		return err
	}
	a.lines.SetOwnPrompts(func(line, name string) bool { return lineSounds[line].Own(name) })
	phone, err := sip.New(cfg, lineSounds, a.lines, clk, log)
	if err != nil {
		return err
	}
	if len(cfg.PBX.Webhooks) == 0 && cfg.PBX.Elks == nil { // in webhook mode the PBX dials any number
		a.lines.SetReach(phone.CanCall)
	}
	handler := web.New(web.Deps{Lines: a.lines, Agents: a.roster, Tokens: a.auth, Users: a.auth, Audit: a.audit, Log: log, Clock: clk,
		Health: func() error { return a.db.View(func(*bolt.Tx) error { return nil }) }, Trunk: phone.TrunkState,
		Backup: a.backup, TrustedProxies: prefixes(cfg.HTTP.TrustedProxies), Notifications: notices{a.db, clk}, Limits: pbxLimits(cfg)})
	httpCerts, err := certs.Load("http.tls", cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key)
	if err != nil {
		return err
	}
	go reloadOnHangup(ctx, log, map[string]func() error{"SIP": phone.ReloadCertificates, "HTTPS": httpCerts.Reload})
	handler.Registry().MustRegister(phone.Collectors()...)
	handler.Registry().MustRegister(a.lines.Collectors()...)
	handler.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "peerline_webhook_outbox_pending",
		Help: "Webhook deliveries waiting in the outbox (not yet accepted by their receiver)."},
		func() float64 { return float64(sender.Pending()) }))
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	defer ln.Close() // for the error returns before the server owns it

	pbxCalls := webhook.New(ctx, cfg, lineSounds, a.lines, clk, log)
	defer func() { cancel(); pbxCalls.Wait() }() // the flows write their records before the database closes
	scheme := "http"
	if httpCerts.Configured() {
		scheme = "https"
	}
	if cfg.PBX.PublicURL == "" {
		pbxCalls.SetBase(scheme + "://" + ln.Addr().String())
	}
	var elksCalls *elks.Server
	if e := cfg.PBX.Elks; e != nil {
		elksCalls = elks.New(ctx, cfg, lineSounds, a.lines, clk, log, elks.Options{PublicURL: cfg.PBX.PublicURL,
			Guard: elks.Guard{Secret: e.Secret, User: e.User, Password: e.Password, Allow: prefixes(e.AllowFrom)}})
		defer func() { cancel(); elksCalls.Wait() }()
	}
	// Idle or slow clients cannot hold the office's pages: each connection has
	// time limits, and one address at most a share of them (a PBX long-polls a
	// request per call leg, a browser keeps a few).
	var webhookCalls *webhook.Server
	if len(cfg.PBX.Webhooks) > 0 {
		webhookCalls = pbxCalls
	}
	srv := &http.Server{Handler: withPBX(handler, webhookCalls, elksCalls),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: cfg.PBX.Poll.D() + 30*time.Second, IdleTimeout: 60 * time.Second}
	limited := connlimit.Listen(ln, connlimit.Limits{PerSource: 256, Total: 2048})
	limited.OnRefuse = func(why string) { slogger.Warn("HTTP: connection refused", "why", why) }
	httpLn := net.Listener(limited)
	if httpCerts.Configured() {
		httpLn = tls.NewListener(limited, httpCerts.ServerConfig())
	}
	sipReady := make(chan []string, 1)
	sipDone := make(chan error, 1)
	go func() { sipDone <- phone.Serve(ctx, cfg.SIP.Listen, func(addrs []string) { sipReady <- addrs }) }()
	var sipAddrs []string
	select {
	case sipAddrs = <-sipReady:
	case err := <-sipDone:
		return err
	}
	fmt.Fprintf(stdout, "peerline is running\n  web:      %s://%s/\n  sip:      %s\n  database: %s\n",
		scheme, ln.Addr(), strings.Join(sipAddrs, ", "), filepath.Join(cfg.DataDir, storage.FileName))
	if users, err := a.auth.Users(); err == nil && len(users) == 0 {
		fmt.Fprintf(stdout, "  No office user exists yet. Make the first admin (it asks for the password):\n    %s\n", firstAdmin(*f.config))
	}
	for _, id := range a.lines.IDs() {
		st, _ := a.lines.Status(id)
		log.Info().Str("line", id).Str("state", string(st.State)).Str("reason", string(st.Reason)).Msg(st.Text)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(httpLn) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case err := <-sipDone:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	// Calls in progress write their records; the database closes after them, or
	// after the grace period (a record then fails with a logged error).
	select {
	case <-sipDone:
	case <-sctx.Done():
		log.Warn().Msg("calls still in progress at shutdown")
	}
	return nil
}

// firstAdmin is the command that makes the first office user, with the
// config file this peerline runs on.
func firstAdmin(configFile string) string {
	c := "peerline user add NAME --role admin"
	if configFile != "" {
		c += " --config " + configFile
	}
	return c
}

// pbxLimits is what the PBX cannot do, per line, for Linjen.
func pbxLimits(cfg *config.Config) map[string][]string {
	_, swedish := elks.Limits(cfg)
	return swedish
}

// withPBX serves the PBX modes beside the office's pages and API: webhook
// mode's protocol under /pbx/v1/, 46elks's under /pbx/elks/; nil is a mode
// not configured.
func withPBX(office http.Handler, pbx *webhook.Server, elksCalls *elks.Server) http.Handler {
	if pbx == nil && elksCalls == nil {
		return office
	}
	mux := http.NewServeMux()
	if pbx != nil {
		mux.Handle(webhook.Prefix, pbx)
	}
	if elksCalls != nil {
		mux.Handle(elks.Prefix, elksCalls.Handler())
	}
	mux.Handle("/", office)
	return mux
}

// reloadOnHangup reads the TLS certificates again on each SIGHUP (renewed
// certificates, without hanging up calls) until ctx ends.
func reloadOnHangup(ctx context.Context, log zerolog.Logger, reload map[string]func() error) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			for what, r := range reload {
				if err := r(); err != nil {
					log.Error().Err(err).Str("for", what).Msg("SIGHUP: the TLS certificate was not reloaded; the old one stays in use")
				} else {
					log.Info().Str("for", what).Msg("SIGHUP: TLS certificate reloaded")
				}
			}
		}
	}
}

// prefixes parses address ranges config has validated.
func prefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
