package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	"github.com/peerline/peerline/web/auth"
)

//go:embed templates static
var assets embed.FS

// pageNames are the office pages; each is parsed with the layout.
var pageNames = []string{"login", "linjen", "schema", "agenter", "samtal", "statistik", "logg", "anvandare"}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"activity": activityText, "ago": agoText, "clock": clockText, "weekday": weekdayText,
		"chart": barChart, "bars": barList, "pct": pct, "outcome": outcomeText, "band": bandText,
		"ending": endingText, "minutes": minutes, "joinWords": joinWords,
		"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"shiftArgs": func(p pageData, f shiftForm) shiftArgs { return shiftArgs{p, f} },
	}
	out := map[string]*template.Template{}
	for _, p := range pageNames {
		out[p] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(assets, "templates/layout.html", "templates/live.html", "templates/"+p+".html"))
	}
	return out
}

// pageData is what every page template gets; Data is the page's own.
type pageData struct {
	Page   string
	User   string
	Admin  bool // the user manages users: Användare is in the menu
	CSRF   string
	Error  string
	Notice string
	Lines  []*line.Line
	Line   *line.Line // the line the page shows
	Data   any
}

func (s *Server) render(c echo.Context, status int, page string, d pageData) error {
	d.Page = page
	if sess, ok := c.Get("session").(*session); ok {
		d.User, d.CSRF, d.Admin = sess.user, sess.csrf, c.Get(roleKey) == auth.RoleAdmin
	}
	var b strings.Builder
	if err := s.pages[page].Execute(&b, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	return c.HTML(status, b.String())
}

// page renders a logged-in page for the line ?line= (the first by default),
// with ?fel= and ?ok= from the redirect after a form.
func (s *Server) page(c echo.Context, page string, data func(l *line.Line) (any, error)) error {
	return s.pageStatus(c, http.StatusOK, page, c.QueryParam("fel"), data)
}

// pageStatus is page with a status and an error message of its own: a form
// shown again with what was typed and what is wrong with it. The line is
// ?line=, or the form's :line.
func (s *Server) pageStatus(c echo.Context, status int, page, fel string, data func(l *line.Line) (any, error)) error {
	ids := s.Lines.IDs()
	id := c.QueryParam("line")
	if id == "" {
		id = c.Param("line")
	}
	if id == "" {
		id = ids[0]
	}
	l, err := s.Lines.Get(id)
	if err != nil {
		return err
	}
	d := pageData{Line: l, Error: fel, Notice: c.QueryParam("ok")}
	for _, id := range ids {
		x, _ := s.Lines.Get(id)
		d.Lines = append(d.Lines, x)
	}
	if d.Data, err = data(l); err != nil {
		if ae := toAPIError(err); ae != nil && ae.Status == http.StatusBadRequest && d.Error == "" {
			// A bad date in the query: the page again without it, saying why.
			q := url.Values{"line": {l.Config.ID}, "fel": {pageMessage(ae)}}
			return c.Redirect(http.StatusSeeOther, c.Request().URL.Path+"?"+q.Encode())
		}
		return err
	}
	return s.render(c, status, page, d)
}

// done redirects after a form to page, telling what happened or what was
// wrong; keep are query parameters the page keeps (a date shown).
func done(c echo.Context, page string, err error, ok string, keep ...url.Values) error {
	q := url.Values{}
	for _, k := range keep {
		maps.Copy(q, k)
	}
	if l := c.Param("line"); l != "" {
		q.Set("line", l)
	}
	if err != nil {
		ae := toAPIError(err)
		if ae == nil {
			return err
		}
		q.Set("fel", pageMessage(ae))
	} else {
		q.Set("ok", ok)
	}
	return c.Redirect(http.StatusSeeOther, page+"?"+q.Encode())
}

func (s *Server) routePages() {
	e := s.e
	static, _ := fs.Sub(assets, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	g := func(method, path string, h echo.HandlerFunc) { e.Add(method, path, h, s.requireSession) }
	g(http.MethodPost, "/logout", s.logout)
	g(http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/linjen") })
	g(http.MethodGet, "/linjen", s.linePage)
	g(http.MethodGet, "/linjen/live", s.liveFragment)
	g(http.MethodPost, "/linjen/:line/stang", s.overrideForm(hours.Closed))
	g(http.MethodPost, "/linjen/:line/oppna", s.overrideForm(hours.Open))
	g(http.MethodPost, "/linjen/:line/schema", s.clearOverrideForm)
	g(http.MethodPost, "/linjen/uppfoljning/:id", s.incidentForm)
	g(http.MethodGet, "/schema", s.rosterPage)
	g(http.MethodPost, "/schema/:line/sjuk", s.exceptionForm(roster.Sick))
	g(http.MethodPost, "/schema/:line/tackning", s.exceptionForm(roster.Cover))
	g(http.MethodPost, "/schema/:line/ta-tillbaka", s.undoExceptionForm)
	g(http.MethodPost, "/schema/:line/veckoschema", s.scheduleForm)
	g(http.MethodGet, "/agenter", s.agentsPage)
	g(http.MethodPost, "/agenter", s.addAgentForm)
	g(http.MethodPost, "/agenter/:id", s.editAgentForm)
	g(http.MethodPost, "/agenter/:id/aktiv", s.activeForm)
	g(http.MethodPost, "/agenter/:id/kod", s.pinForm)
	g(http.MethodPost, "/agenter/:id/logga-ut", s.logoutForm)
	g(http.MethodGet, "/samtal", s.callsPage)
	g(http.MethodPost, "/samtal/:line/efterarbete/:id", s.wrapupForm)
	g(http.MethodGet, "/statistik", s.statsPage)
	g(http.MethodGet, "/linjer/:line/samtal.csv", s.callsCSV)
	g(http.MethodGet, "/linjer/:line/statistik.csv", s.statsCSV)
	g(http.MethodGet, "/logg", s.auditPage)
	admin := func(method, path string, h echo.HandlerFunc) { e.Add(method, path, h, s.requireSession, adminPage) }
	admin(http.MethodGet, "/anvandare", s.usersPage)
	admin(http.MethodPost, "/anvandare", s.addUserForm)
	admin(http.MethodPost, "/anvandare/:name/roll", s.roleForm)
	admin(http.MethodPost, "/anvandare/:name/losenord", s.passwordForm)
	admin(http.MethodPost, "/anvandare/:name/ta-bort", s.removeUserForm)
	if s.Notifications != nil {
		admin(http.MethodPost, "/logg/meddelanden/:id/skicka-igen", s.resendForm)
	}
}

// liveLine is one line as Linjen shows it: no caller numbers, ever.
type liveLine struct {
	// TrunkDown is set while registration at the trunk is configured and has
	// not succeeded: callers through the trunk may not reach the line.
	TrunkDown bool
	Status    hours.Status
	Agents    []agentOnLine
	Queue     []line.Queued
	InCall    int
	Now       time.Time
	Today     *todayShift // the day as planned; nil on a day the line is not open by its calendar
	Failed    int         // messages to people that did not get through
}

// linePageView is Linjen: the live part, and the incidents to follow up (outside
// the live part, so that a note being typed is not refreshed away).
type linePageView struct {
	liveLine
	Incidents []openIncident
	Limits    []string // what the PBX cannot do on this line (Deps.Limits)
}

// todayShift is the day's plan beside who is there, by name.
type todayShift struct {
	line.RosterDay
	Expected, Sick, Cover []string // names
	Absent                []string // expected, not logged in
	Extra                 []string // logged in, not expected
}

type agentOnLine struct {
	Name string
	line.Presence
}

func (s *Server) liveLine(l *line.Line) (liveLine, error) {
	st, err := s.Lines.Status(l.Config.ID)
	if err != nil {
		return liveLine{}, err
	}
	v := liveLine{Status: st, Queue: s.Lines.Queue(l.Config.ID), Now: s.now()}
	on, ok, _ := s.trunk()
	v.TrunkDown = on && !ok
	in := map[string]bool{}
	for _, p := range s.Lines.Presence(l.Config.ID) {
		v.Agents = append(v.Agents, agentOnLine{Name: s.agentName(p.Agent), Presence: p})
		in[p.Agent] = true
		if p.Activity == line.Busy {
			v.InCall++
		}
	}
	today := l.Calendar.Date(v.Now)
	if days, err := s.Lines.Roster(l.Config.ID, today, today); err == nil && len(days) == 1 && days[0].Service {
		v.Today = s.shift(days[0], in)
	}
	if s.Notifications != nil {
		if all, err := s.Notifications.Notices(200); err == nil {
			for _, n := range all {
				if n.Status == "failed" {
					v.Failed++
				}
			}
		}
	}
	return v, nil
}

// shift is day's plan in names, with who of it is missing and who is extra.
func (s *Server) shift(day line.RosterDay, in map[string]bool) *todayShift {
	t := &todayShift{RosterDay: day}
	expected := map[string]bool{}
	for _, id := range day.Expected {
		expected[id] = true
		t.Expected = append(t.Expected, s.agentName(id))
		if !in[id] {
			t.Absent = append(t.Absent, s.agentName(id))
		}
	}
	for _, id := range day.Sick {
		t.Sick = append(t.Sick, s.agentName(id))
	}
	for _, id := range day.Cover {
		t.Cover = append(t.Cover, s.agentName(id))
	}
	for id := range in {
		if !expected[id] && len(day.Scheduled)+len(day.Cover) > 0 {
			t.Extra = append(t.Extra, s.agentName(id))
		}
	}
	slices.Sort(t.Extra)
	return t
}

func (s *Server) agentName(id string) string {
	if a, err := s.Agents.Agent(id); err == nil {
		return a.Name
	}
	return id
}

func (s *Server) linePage(c echo.Context) error {
	return s.page(c, "linjen", func(l *line.Line) (any, error) {
		live, err := s.liveLine(l)
		v := linePageView{liveLine: live, Limits: s.Limits[l.Config.ID]}
		ins, ierr := s.Lines.Incidents(l.Config.ID, "")
		for _, in := range ins {
			if in.State != line.IncidentClosed {
				v.Incidents = append(v.Incidents, openIncident{Incident: in, AgentName: s.agentName(in.Agent), Why: incidentReasons[in.Reason]})
			}
		}
		return v, errors.Join(err, ierr)
	})
}

// liveFragment is Linjen's live part, fetched every few seconds by the page.
func (s *Server) liveFragment(c echo.Context) error {
	l, err := s.Lines.Get(c.QueryParam("line"))
	if err != nil {
		return err
	}
	v, err := s.liveLine(l)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := s.pages["linjen"].ExecuteTemplate(&b, "live", pageData{Line: l, Data: v}); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, b.String())
}

// overrideForm opens or closes the line from Linjen's toggle, with a reason and
// an optional end (the line's local time).
func (s *Server) overrideForm(state hours.State) echo.HandlerFunc {
	return func(c echo.Context) error {
		l, err := s.Lines.Get(c.Param("line"))
		if err != nil {
			return err
		}
		var until time.Time
		if raw := strings.TrimSpace(c.FormValue("until")); raw != "" {
			if until, err = parseUntil(raw, s.now().In(l.Calendar.Location())); err != nil {
				return done(c, "/linjen", input.Errorf("until", "%q är varken TT:MM eller ÅÅÅÅ-MM-DD TT:MM", raw), "")
			}
		}
		_, err = s.Lines.SetOverride(c.Request().Context(), l.Config.ID, state, c.FormValue("reason"), until)
		msg := "Linjen är stängd."
		if state == hours.Open {
			msg = "Linjen är öppen."
		}
		return done(c, "/linjen", err, msg)
	}
}

// parseUntil reads the page's until: a time today ("17:30") or a date and a
// time ("2026-05-20 17:30", or with T as browsers write it), in now's zone.
func parseUntil(raw string, now time.Time) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, raw, now.Location()); err == nil {
			return t, nil
		}
	}
	t, err := time.ParseInLocation("15:04", raw, now.Location())
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location()), nil
}

func (s *Server) clearOverrideForm(c echo.Context) error {
	_, err := s.Lines.ClearOverride(c.Request().Context(), c.Param("line"))
	return done(c, "/linjen", err, "Linjen följer schemat igen.")
}

// rosterWeeks is how far ahead Schema shows the days.
const rosterWeeks = 4

type rosterView struct {
	Days   []line.RosterDay
	Agents []roster.Agent
	Names  map[string]string
	Today  string
	Week   weekView
}

func (s *Server) rosterPage(c echo.Context) error {
	return s.rosterPageWith(c, http.StatusOK, c.QueryParam("fel"), nil)
}

// rosterPageWith shows Schema; failed, when set, is a shift form shown again
// as it was posted, with fel saying what is wrong.
func (s *Server) rosterPageWith(c echo.Context, status int, fel string, failed *shiftForm) error {
	return s.pageStatus(c, status, "schema", fel, func(l *line.Line) (any, error) {
		today := l.Calendar.Date(s.now())
		days, err := s.Lines.Roster(l.Config.ID, today, today.AddDays(rosterWeeks*7-1))
		if err != nil {
			return nil, err
		}
		shifts, err := s.Agents.Schedule(l.Config.ID)
		if err != nil {
			return nil, err
		}
		v := rosterView{Days: days, Today: today.String(), Week: newWeekView(shifts)}
		switch {
		case failed == nil:
		case failed.Index < 0:
			v.Week.New = *failed
		case failed.Index < len(v.Week.Shifts):
			v.Week.Shifts[failed.Index] = *failed
		}
		v.Agents, v.Names, err = s.agentsOf(l.Config.ID)
		return v, err
	})
}

// agentsOf lists the agents who serve line id, and every agent's name by id.
func (s *Server) agentsOf(id string) ([]roster.Agent, map[string]string, error) {
	all, err := s.Agents.Agents()
	names := map[string]string{}
	var out []roster.Agent
	for _, a := range all {
		names[a.ID] = a.Name
		if a.Serves(id) {
			out = append(out, a)
		}
	}
	return out, names, err
}

func (s *Server) exceptionForm(kind roster.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := parseDate("date", c.FormValue("date"))
		if err != nil {
			return done(c, "/schema", err, "")
		}
		ctx, id, agent := c.Request().Context(), c.Param("line"), c.FormValue("agent")
		msg := "Sjukanmälan är registrerad."
		if kind == roster.Sick {
			_, err = s.Lines.ReportSick(ctx, id, agent, d)
		} else {
			_, err = s.Lines.TakeCover(ctx, id, agent, d)
			msg = "Passet är täckt."
		}
		return done(c, "/schema", err, msg)
	}
}

// undoExceptionForm takes a sick report or a cover back; the no-cover rule
// looks at the day again, as for the API's DELETE.
func (s *Server) undoExceptionForm(c echo.Context) error {
	d, err := parseDate("date", c.FormValue("date"))
	if err != nil {
		return done(c, "/schema", err, "")
	}
	kind, msg := roster.Sick, "Sjukanmälan är borttagen."
	if c.FormValue("kind") == "cover" {
		kind, msg = roster.Cover, "Täckningen är borttagen."
	}
	_, err = s.Lines.RemoveException(c.Request().Context(), c.Param("line"), c.FormValue("agent"), d, kind)
	return done(c, "/schema", err, msg)
}

type agentRow struct {
	roster.Agent
	PINSet   bool
	Locked   bool
	LoggedIn bool
	BySMS    bool // told by SMS
	ByEmail  bool // told by e-mail
}

func (s *Server) agentsPage(c echo.Context) error {
	return s.page(c, "agenter", func(*line.Line) (any, error) {
		all, err := s.Agents.Agents()
		var rows []agentRow
		for _, a := range all {
			set, locked := s.Agents.PINStatus(a.ID)
			_, in := s.Lines.AgentPresence(a.ID)
			ch := a.Channels()
			rows = append(rows, agentRow{Agent: a, PINSet: set, Locked: locked != nil, LoggedIn: in,
				BySMS: slices.Contains(ch, roster.ChannelSMS), ByEmail: slices.Contains(ch, roster.ChannelEmail)})
		}
		return rows, err
	})
}

func (s *Server) addAgentForm(c echo.Context) error {
	a := roster.Agent{ID: c.FormValue("id"), Name: c.FormValue("name"), Phone: c.FormValue("phone"),
		SIPURI: c.FormValue("sip_uri"), Email: c.FormValue("email"), Active: true, Lines: s.Lines.IDs()}
	_, err := s.Agents.AddAgent(c.Request().Context(), a)
	return done(c, "/agenter", err, "Agenten "+a.Name+" är tillagd.")
}

// editAgentForm changes an agent's name, numbers and lines. An agent taken off
// a line they are logged in to is logged out.
func (s *Server) editAgentForm(c echo.Context) error {
	a, err := s.Agents.Agent(c.Param("id"))
	if err != nil {
		return done(c, "/agenter", err, "")
	}
	a.Name, a.Phone, a.SIPURI, a.Email = c.FormValue("name"), c.FormValue("phone"), c.FormValue("sip_uri"), c.FormValue("email")
	form, _ := c.FormParams()
	if a.Notify = form["notify"]; len(a.Notify) == 0 {
		a.Notify = []string{roster.ChannelSMS} // nobody goes untold by unticking both
	}
	if a.Lines = form["lines"]; len(a.Lines) == 0 {
		return done(c, "/agenter", input.Errorf("lines", "name at least one line"), "")
	}
	if a, err = s.Agents.UpdateAgent(c.Request().Context(), a); err == nil {
		err = s.offLinesNotServed(c, a)
	}
	return done(c, "/agenter", err, "Ändringarna för "+a.Name+" är sparade.")
}

// activeForm pauses an agent (logged out of every line) or takes them back.
func (s *Server) activeForm(c echo.Context) error {
	a, err := s.Agents.Agent(c.Param("id"))
	if err != nil {
		return done(c, "/agenter", err, "")
	}
	a.Active = c.FormValue("active") == "1"
	if a, err = s.Agents.UpdateAgent(c.Request().Context(), a); err == nil {
		err = s.offLinesNotServed(c, a)
	}
	msg := a.Name + " är pausad."
	if a.Active {
		msg = a.Name + " är aktiv igen."
	}
	return done(c, "/agenter", err, msg)
}

func (s *Server) pinForm(c echo.Context) error {
	err := s.Agents.SetPIN(c.Request().Context(), c.Param("id"), c.FormValue("pin"))
	return done(c, "/agenter", err, "Den nya koden gäller från nu.")
}

func (s *Server) logoutForm(c echo.Context) error {
	err := s.Lines.Logout(c.Request().Context(), c.Param("id"))
	return done(c, "/agenter", err, "Agenten är utloggad.")
}

type statsView struct {
	line.Stats               // by day
	Hours      []line.Bucket // the same range by hour of the day
	Questions  []config.Question
	Bands      []string
	Query      string // from and to, for the CSV links
	// Incidents are the range's calls the office had to follow up, and how
	// many of them are not closed yet.
	Incidents, OpenIncidents int
}

// statsPage shows a range's figures with two charts: calls per day and per
// hour of the day.
func (s *Server) statsPage(c echo.Context) error {
	return s.page(c, "statistik", func(l *line.Line) (any, error) {
		from, to, err := s.statsRange(l, c.QueryParam("from"), c.QueryParam("to"))
		if err != nil {
			return nil, err
		}
		days, err := s.Lines.Stats(l.Config.ID, from, to, "day")
		if err != nil {
			return nil, err
		}
		hours, err := s.Lines.Stats(l.Config.ID, from, to, "hour")
		q := url.Values{"from": {from.String()}, "to": {to.String()}}
		v := statsView{Stats: days, Hours: hours.Buckets, Questions: l.Config.Wrapup.Questions,
			Bands: line.LengthBands(), Query: q.Encode()}
		if ins, ierr := s.Lines.Incidents(l.Config.ID, ""); ierr == nil {
			loc := l.Calendar.Location()
			for _, in := range ins {
				if d := config.DateOf(in.Start.In(loc)).String(); d >= from.String() && d <= to.String() {
					v.Incidents++
					if in.State != line.IncidentClosed {
						v.OpenIncidents++
					}
				}
			}
		}
		return v, err
	})
}

// auditPageSize is how many entries Logg shows.
const auditPageSize = 200

// logView is the Logg page: messages to people that need looking at (not yet
// delivered, or failed), then the audit log in words, filtered by the kind of
// actor (?typ=) and by a part of their name (?vem=).
type logView struct {
	Notices []Notice
	Audit   []auditLine
	Kinds   map[string]string
	Kind    string
	Who     string
}

func (s *Server) auditPage(c echo.Context) error {
	return s.page(c, "logg", func(l *line.Line) (any, error) {
		entries, err := s.Audit.List(0, auditPageSize)
		v := logView{Kinds: actorKinds, Kind: c.QueryParam("typ"), Who: strings.TrimSpace(c.QueryParam("vem"))}
		names := map[string]string{}
		if agents, aerr := s.Agents.Agents(); aerr == nil {
			for _, a := range agents {
				names[a.ID] = a.Name
			}
		}
		for _, e := range entries {
			al := auditLine{Time: e.Time, Who: who(e.Actor, names), What: auditWords(e, names, l.Calendar.Location()),
				Remote: e.Actor.Remote, Kind: e.Actor.Kind, Name: e.Actor.Name, Original: e.Action}
			if (v.Kind == "" || v.Kind == al.Kind) && (v.Who == "" || strings.Contains(strings.ToLower(al.Who), strings.ToLower(v.Who))) {
				v.Audit = append(v.Audit, al)
			}
		}
		if s.Notifications != nil && err == nil {
			all, nerr := s.Notifications.Notices(200)
			for _, n := range all {
				if n.Status != "sent" {
					v.Notices = append(v.Notices, n)
				}
			}
			err = nerr
		}
		return v, err
	})
}

// resendForm sends a message again (admins).
func (s *Server) resendForm(c echo.Context) error {
	err := s.Notifications.Resend(c.Request().Context(), c.Param("id"))
	if errors.Is(err, ErrNoNotice) {
		err = input.Errorf("id", "meddelandet finns inte längre")
	}
	return done(c, "/logg", err, "Meddelandet skickas igen.")
}

var activities = map[line.Activity]string{line.Available: "ledig", line.Ringing: "ringer", line.Busy: "i samtal", line.WrapUp: "efterarbete"}

func activityText(a line.Activity) string { return activities[a] }

var outcomes = map[line.Outcome]string{
	line.OutcomeAnswered: "besvarade", line.OutcomeClosed: "linjen stängd", line.OutcomeNoAgents: "ingen inloggad",
	line.OutcomeAbandonedQueue: "lade på innan svar", line.OutcomeQueueTimeout: "väntade för länge i kön",
	line.OutcomeAgentNoAnswer: "agenten svarade inte", line.OutcomeFailed: "tekniskt fel",
	line.OutcomeNotReached: "återuppringd, svarade inte", line.OutcomeInterrupted: "avbrutet av driftstopp",
}

// bands are the talk-time bands in words.
var bands = map[string]string{"0-5m": "under 5 min", "5-10m": "5–10 min", "10-15m": "10–15 min",
	"15-20m": "15–20 min", "20m+": "20 min eller mer"}

func bandText(b string) string {
	if t, ok := bands[b]; ok {
		return t
	}
	return b
}

func outcomeText(o line.Outcome) string {
	if t, ok := outcomes[o]; ok {
		return t
	}
	return string(o)
}

// agoText is how long since t, as "12 min" or "1 h 5 min".
func agoText(now, t time.Time) string {
	d := now.Sub(t).Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

func clockText(t time.Time, l *line.Line) string {
	return t.In(l.Calendar.Location()).Format("2006-01-02 15:04")
}

var weekdays = []string{"sön", "mån", "tis", "ons", "tor", "fre", "lör"}

func weekdayText(d config.Date) string { return weekdays[d.In(time.UTC).Weekday()] }

func pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%d %%", (n*100+of/2)/of)
}
