// Package web is the office's HTTP side: the JSON API under /api/v1, health and
// metrics, and (later) the office pages.
package web

import (
	"context"
	"html/template"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/ratelimit"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Lines is what the API needs of the lines.
type Lines interface {
	IDs() []string
	Get(id string) (*line.Line, error)
	Status(id string) (hours.Status, error)
	SetOverride(ctx context.Context, id string, state hours.State, reason string, until time.Time) (hours.Status, error)
	ClearOverride(ctx context.Context, id string) (hours.Status, error)
	ReportSick(ctx context.Context, id, agent string, date config.Date) (line.RosterDay, error)
	TakeCover(ctx context.Context, id, agent string, date config.Date) (line.RosterDay, error)
	RemoveException(ctx context.Context, id, agent string, date config.Date, kind roster.Kind) (line.RosterDay, error)
	Roster(id string, from, to config.Date) ([]line.RosterDay, error)
	SetSchedule(ctx context.Context, id string, shifts []roster.Shift) ([]roster.Shift, error)
	EditSchedule(ctx context.Context, id string, edit func([]roster.Shift) ([]roster.Shift, error)) ([]roster.Shift, error)
	Records(id string, from, to config.Date) ([]line.Record, error)
	Stats(id string, from, to config.Date, by string) (line.Stats, error)
	Login(ctx context.Context, agent, line string) (line.Presence, error)
	Logout(ctx context.Context, agent string) error
	Presence(line string) []line.Presence
	Queue(line string) []line.Queued
	AgentPresence(agent string) (line.Presence, bool)
	Incidents(line, state string) ([]line.Incident, error)
	UpdateIncident(ctx context.Context, id, state, note string) (line.Incident, error)
	FillWrapup(ctx context.Context, lineID, callID string, start time.Time, answers map[string]string) (line.Record, error)
}

// Agents is what the API needs of the roster.
type Agents interface {
	Agents() ([]roster.Agent, error)
	Agent(id string) (roster.Agent, error)
	AddAgent(ctx context.Context, a roster.Agent) (roster.Agent, error)
	UpdateAgent(ctx context.Context, a roster.Agent) (roster.Agent, error)
	DeleteAgent(ctx context.Context, id string) error
	SetPIN(ctx context.Context, id, pin string) error
	Unlock(ctx context.Context, id string) error
	PINStatus(id string) (set bool, locked error)
	Schedule(line string) ([]roster.Shift, error)
}

// AuditLog reads the audit log.
type AuditLog interface {
	List(before uint64, limit int) ([]audit.Entry, error)
}

// Deps is what the server is built from.
type Deps struct {
	Lines  Lines
	Agents Agents
	Tokens Tokens
	Users  Users // nil: no office pages
	Audit  AuditLog
	// Backup writes a consistent copy of the database (audited with the
	// request's actor); nil: no GET /api/v1/backup.
	Backup func(ctx context.Context, w io.Writer) error
	// Notifications are the e-mail and SMS to people; nil: no
	// /api/v1/notifications.
	Notifications Notifications
	// TrustedProxies are reverse proxies whose Forwarded / X-Forwarded-For
	// names the client (for throttling, the audit and the log).
	TrustedProxies []netip.Prefix
	Health         func() error // nil: always healthy
	// Trunk says whether peerline is registered at the operator's trunk (on:
	// registration is configured); nil: there is no trunk to watch.
	Trunk func() (on, registered bool, detail string)
	// Limits are, per line id, what the PBX cannot do there, in Swedish
	// (46elks: no warnings to the agent, no keys during the call); Linjen shows them.
	Limits map[string][]string
	Clock  clock.Clock // nil: the real clock; the roster's "today"
	Log    zerolog.Logger
}

// Server is the HTTP handler.
type Server struct {
	Deps
	e        *echo.Echo
	log      zerolog.Logger
	metrics  *metrics
	pages    map[string]*template.Template
	sessions sessions
	throttle throttle
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d, e: echo.New(), log: d.Log.With().Str("component", "web").Logger()}
	s.metrics = newMetrics(d.Lines)
	s.throttle.global = ratelimit.New(1/globalFailEvery.Seconds(), globalFailBurst)
	e := s.e
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(d.TrustedProxies) // the peer, unless it is a trusted proxy
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover(), s.logRequests, middleware.BodyLimit("1M"))

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))

	// Per-route middleware rather than a group's: a group catches every path under
	// it, which would answer a wrong method with 404 instead of 405.
	api := func(method, path string, h echo.HandlerFunc) { e.Add(method, "/api/v1"+path, h, s.requireToken) }
	api(http.MethodGet, "/lines", s.listLines)
	api(http.MethodGet, "/lines/:line", s.getLine)
	api(http.MethodPost, "/lines/:line/close", s.overrideLine(hours.Closed))
	api(http.MethodPost, "/lines/:line/open", s.overrideLine(hours.Open))
	api(http.MethodDelete, "/lines/:line/override", s.clearOverride)
	api(http.MethodGet, "/lines/:line/schedule", s.getSchedule)
	api(http.MethodPut, "/lines/:line/schedule", s.putSchedule)
	api(http.MethodGet, "/lines/:line/roster", s.getRoster)
	api(http.MethodGet, "/lines/:line/calls", s.listCalls)
	api(http.MethodGet, "/lines/:line/calls.csv", s.callsCSV)
	api(http.MethodGet, "/lines/:line/stats", s.getStats)
	api(http.MethodGet, "/lines/:line/stats.csv", s.statsCSV)
	api(http.MethodPost, "/lines/:line/sick", s.addException(roster.Sick))
	api(http.MethodPost, "/lines/:line/cover", s.addException(roster.Cover))
	api(http.MethodDelete, "/lines/:line/sick/:agent/:date", s.removeException(roster.Sick))
	api(http.MethodDelete, "/lines/:line/cover/:agent/:date", s.removeException(roster.Cover))
	api(http.MethodGet, "/agents", s.listAgents)
	api(http.MethodPost, "/agents", s.createAgent)
	api(http.MethodGet, "/agents/:id", s.getAgent)
	api(http.MethodPatch, "/agents/:id", s.updateAgent)
	api(http.MethodPut, "/agents/:id", s.updateAgent)
	api(http.MethodDelete, "/agents/:id", s.deleteAgent)
	api(http.MethodPut, "/agents/:id/pin", s.setPIN)
	api(http.MethodPost, "/agents/:id/unlock", s.unlockAgent)
	api(http.MethodPost, "/agents/:id/login", s.loginAgent)
	api(http.MethodPost, "/agents/:id/logout", s.logoutAgent)
	api(http.MethodGet, "/audit", s.listAudit)
	api(http.MethodGet, "/incidents", s.listIncidents)
	api(http.MethodPatch, "/incidents/:id", s.updateIncident)
	admin := func(method, path string, h echo.HandlerFunc) {
		e.Add(method, "/api/v1"+path, h, s.requireToken, requireAdmin)
	}
	if d.Backup != nil {
		admin(http.MethodGet, "/backup", s.backup)
	}
	if d.Notifications != nil {
		api(http.MethodGet, "/notifications", s.listNotifications)
		admin(http.MethodPost, "/notifications/:id/resend", s.resendNotification)
	}
	admin(http.MethodGet, "/tokens", s.listTokens)
	admin(http.MethodPost, "/tokens", s.createToken)
	admin(http.MethodDelete, "/tokens/:name", s.revokeToken)
	if d.Users != nil {
		admin(http.MethodGet, "/users", s.listUsers)
		admin(http.MethodPost, "/users", s.createUser)
		admin(http.MethodGet, "/users/:name", s.getUser)
		admin(http.MethodPatch, "/users/:name", s.updateUser)
		admin(http.MethodDelete, "/users/:name", s.deleteUser)
	}
	if d.Users != nil {
		s.pages = parsePages()
		s.routePages()
	}
	return s
}

func (s *Server) now() time.Time {
	if s.Clock != nil {
		return s.Clock.Now()
	}
	return time.Now()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// Registry is the server's Prometheus registry, for other packages' collectors.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (s *Server) healthz(c echo.Context) error {
	if s.Health != nil {
		if err := s.Health(); err != nil {
			s.log.Error().Err(err).Msg("health check failed")
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unhealthy"})
		}
	}
	// An unregistered trunk leaves peerline healthy (calls by SIP address and
	// from allowed sources work); the detail says why the trunk's may not arrive.
	out := map[string]string{"status": "ok"}
	switch on, ok, detail := s.trunk(); {
	case on && ok:
		out["trunk"] = "registered"
	case on:
		out["trunk"], out["trunk_detail"] = "not registered", detail
	}
	return c.JSON(http.StatusOK, out)
}

// trunk is the registration's state: on, registered, the last failure;
// nothing without a trunk to watch.
func (s *Server) trunk() (on, registered bool, detail string) {
	if s.Trunk == nil {
		return false, false, ""
	}
	return s.Trunk()
}

// requireToken lets a request through with a valid bearer token and puts the
// token's name and the client's address into the context for the audit log.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || raw == "" {
			return errorf(http.StatusUnauthorized, "unauthorized", "a bearer token is needed (Authorization: Bearer ...)")
		}
		tok, err := s.Tokens.Authenticate(strings.TrimSpace(raw))
		if err != nil {
			return errorf(http.StatusUnauthorized, "unauthorized", "the token is not valid")
		}
		c.Set(roleKey, tok.Role)
		actor := audit.Actor{Kind: "token", Name: tok.Name, Remote: c.RealIP()}
		c.SetRequest(c.Request().WithContext(audit.WithActor(c.Request().Context(), actor)))
		return next(c)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if ae := toAPIError(err); ae != nil {
			status = ae.Status
		} else if err != nil {
			status = http.StatusInternalServerError
		}
		s.metrics.requests.WithLabelValues(c.Request().Method, c.Path(), http.StatusText(status)).Inc()
		ev := s.log.Info()
		if c.Path() == "/healthz" || c.Path() == "/metrics" {
			ev = s.log.Debug()
		}
		ev.Str("method", c.Request().Method).Str("path", c.Request().URL.Path).Int("status", status).
			Dur("took", time.Since(start)).Str("remote", c.RealIP()).Msg("http")
		return err
	}
}
