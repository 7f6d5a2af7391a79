package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/roster"
	"go.yaml.in/yaml/v3"
)

// agentView is an agent as the office sees it: never a PIN or its hash.
type agentView struct {
	roster.Agent
	PINSet   bool           `json:"pin_set"`
	Locked   *lockView      `json:"locked"`
	Presence *line.Presence `json:"presence"` // null when not logged in
}

type lockView struct {
	Until *string `json:"until,omitempty"`
	Held  bool    `json:"held"` // only the office can unlock
}

func (s *Server) agentView(a roster.Agent) agentView {
	set, locked := s.Agents.PINStatus(a.ID)
	v := agentView{Agent: a, PINSet: set}
	if p, ok := s.Lines.AgentPresence(a.ID); ok {
		v.Presence = &p
	}
	if le, ok := locked.(*roster.LockedError); ok {
		v.Locked = &lockView{Held: le.Held}
		if !le.Held {
			u := le.Until.Format("2006-01-02T15:04:05Z07:00")
			v.Locked.Until = &u
		}
	}
	return v
}

// agentRequest is the body of create and update; absent fields keep their value.
type agentRequest struct {
	ID     *string   `json:"id"`
	Name   *string   `json:"name"`
	Phone  *string   `json:"phone"`
	SIPURI *string   `json:"sip_uri"`
	Lines  *[]string `json:"lines"`
	Active *bool     `json:"active"`
	Email  *string   `json:"email"`
	Notify *[]string `json:"notify"`
}

func (r agentRequest) apply(a *roster.Agent) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&a.ID, r.ID)
	set(&a.Name, r.Name)
	set(&a.Phone, r.Phone)
	set(&a.SIPURI, r.SIPURI)
	if r.Lines != nil {
		a.Lines = *r.Lines
	}
	if r.Active != nil {
		a.Active = *r.Active
	}
	set(&a.Email, r.Email)
	if r.Notify != nil {
		a.Notify = *r.Notify
	}
}

func (s *Server) listAgents(c echo.Context) error {
	all, err := s.Agents.Agents()
	if err != nil {
		return err
	}
	out := make([]agentView, len(all))
	for i, a := range all {
		out[i] = s.agentView(a)
	}
	return c.JSON(http.StatusOK, map[string]any{"agents": out})
}

func (s *Server) createAgent(c echo.Context) error {
	var req agentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a := roster.Agent{Active: true}
	req.apply(&a)
	a, err := s.Agents.AddAgent(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.agentView(a))
}

func (s *Server) getAgent(c echo.Context) error {
	a, err := s.Agents.Agent(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.agentView(a))
}

func (s *Server) updateAgent(c echo.Context) error {
	a, err := s.Agents.Agent(c.Param("id"))
	if err != nil {
		return err
	}
	var req agentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != nil && *req.ID != a.ID {
		return input.Errorf("id", "an agent's id cannot change")
	}
	req.apply(&a)
	if a, err = s.Agents.UpdateAgent(c.Request().Context(), a); err != nil {
		return err
	}
	if err := s.offLinesNotServed(c, a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.agentView(a))
}

func (s *Server) deleteAgent(c echo.Context) error {
	if err := s.Agents.DeleteAgent(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	if err := s.offTheLine(c, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// offLinesNotServed logs out an agent who was paused or taken off a line they
// are logged in to.
func (s *Server) offLinesNotServed(c echo.Context, a roster.Agent) error {
	p, in := s.Lines.AgentPresence(a.ID)
	if !in {
		return nil
	}
	for _, l := range p.Lines {
		if !a.Serves(l) {
			return s.offTheLine(c, a.ID)
		}
	}
	return nil
}

// offTheLine logs out an agent who was paused or removed, if logged in.
func (s *Server) offTheLine(c echo.Context, id string) error {
	if err := s.Lines.Logout(c.Request().Context(), id); err != nil && !errors.Is(err, line.ErrNotLoggedIn) {
		return err
	}
	return nil
}

func (s *Server) setPIN(c echo.Context) error {
	var req struct {
		PIN string `json:"pin"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.Agents.SetPIN(c.Request().Context(), c.Param("id"), req.PIN); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) unlockAgent(c echo.Context) error {
	if err := s.Agents.Unlock(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return s.getAgent(c)
}

// loginRequest is the body of an office log-in; no line means every line the
// agent serves that is open.
type loginRequest struct {
	Line string `json:"line"`
}

func (s *Server) loginAgent(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if _, err := s.Lines.Login(c.Request().Context(), c.Param("id"), req.Line); err != nil {
		return err
	}
	return s.getAgent(c)
}

func (s *Server) logoutAgent(c echo.Context) error {
	if _, err := s.Agents.Agent(c.Param("id")); err != nil {
		return err
	}
	if err := s.Lines.Logout(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return s.getAgent(c)
}

// shiftJSON is a shift as the API writes it; strings so that errors name the field.
type shiftJSON struct {
	Agent string   `json:"agent"`
	Days  []string `json:"days"`
	From  string   `json:"from,omitempty"`
	To    string   `json:"to,omitempty"`
}

func (s *Server) getSchedule(c echo.Context) error {
	if _, err := s.Lines.Get(c.Param("line")); err != nil {
		return err
	}
	shifts, err := s.Agents.Schedule(c.Param("line"))
	if err != nil {
		return err
	}
	out := make([]shiftJSON, len(shifts))
	for i, sh := range shifts {
		out[i] = shiftJSON{Agent: sh.Agent, Days: []string{}}
		for _, d := range sh.Days {
			out[i].Days = append(out[i].Days, d.String())
		}
		if sh.From != nil {
			out[i].From = sh.From.String()
		}
		if sh.To != nil {
			out[i].To = sh.To.String()
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"shifts": out})
}

func (s *Server) putSchedule(c echo.Context) error {
	if _, err := s.Lines.Get(c.Param("line")); err != nil {
		return err
	}
	var req struct {
		Shifts []shiftJSON `json:"shifts"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	shifts := make([]roster.Shift, len(req.Shifts))
	for i, sj := range req.Shifts {
		sh, err := sj.parse(fmt.Sprintf("shifts[%d]", i))
		if err != nil {
			return err
		}
		shifts[i] = sh
	}
	if _, err := s.Lines.SetSchedule(c.Request().Context(), c.Param("line"), shifts); err != nil {
		return err
	}
	return s.getSchedule(c)
}

func (sj shiftJSON) parse(path string) (roster.Shift, error) {
	sh := roster.Shift{Agent: sj.Agent}
	for j, d := range sj.Days {
		var w config.Weekday
		if err := w.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: d}); err != nil {
			return sh, input.Errorf(fmt.Sprintf("%s.days[%d]", path, j), "%v", err)
		}
		sh.Days = append(sh.Days, w)
	}
	for _, f := range []struct {
		name, v string
		dst     **config.Date
	}{{"from", sj.From, &sh.From}, {"to", sj.To, &sh.To}} {
		if f.v == "" {
			continue
		}
		d, err := config.ParseDate(f.v)
		if err != nil {
			return sh, input.Errorf(path+"."+f.name, "%v", err)
		}
		*f.dst = &d
	}
	return sh, nil
}

// exceptionRequest is the body of sick and cover.
type exceptionRequest struct {
	Agent string `json:"agent"`
	Date  string `json:"date"`
}

func (s *Server) addException(kind roster.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.Lines.Get(c.Param("line")); err != nil {
			return err
		}
		var req exceptionRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if req.Agent == "" {
			return input.Errorf("agent", "name the agent by id")
		}
		d, err := parseDate("date", req.Date)
		if err != nil {
			return err
		}
		ctx, line := c.Request().Context(), c.Param("line")
		var day any
		if kind == roster.Sick {
			day, err = s.Lines.ReportSick(ctx, line, req.Agent, d)
		} else {
			day, err = s.Lines.TakeCover(ctx, line, req.Agent, d)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, day)
	}
}

func (s *Server) removeException(kind roster.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := parseDate("date", c.Param("date"))
		if err != nil {
			return err
		}
		day, err := s.Lines.RemoveException(c.Request().Context(), c.Param("line"), c.Param("agent"), d, kind)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, day)
	}
}

// rosterDays is how many days the roster shows when to is not given.
const rosterDays = 14

func (s *Server) getRoster(c echo.Context) error {
	l, from, to, err := s.dateRange(c, rosterDays)
	if err != nil {
		return err
	}
	days, err := s.Lines.Roster(l.Config.ID, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"line": l.Config.ID, "days": days})
}

// dateRange reads the line and ?from=&to= (local dates; from defaults to today,
// to to days-1 after from).
func (s *Server) dateRange(c echo.Context, days int) (l *line.Line, from, to config.Date, err error) {
	if l, err = s.Lines.Get(c.Param("line")); err != nil {
		return
	}
	from = l.Calendar.Date(s.now())
	if raw := c.QueryParam("from"); raw != "" {
		if from, err = parseDate("from", raw); err != nil {
			return
		}
	}
	to = from.AddDays(days - 1)
	if raw := c.QueryParam("to"); raw != "" {
		to, err = parseDate("to", raw)
	}
	return
}

func parseDate(field, s string) (config.Date, error) {
	d, err := config.ParseDate(s)
	if err != nil {
		return d, input.Errorf(field, "%v", err)
	}
	return d, nil
}
