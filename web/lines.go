package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
)

// lineView is a line as the API shows it.
type lineView struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Numbers  []string        `json:"numbers"`
	Timezone string          `json:"timezone"`
	Hours    hoursView       `json:"hours"`
	Status   hours.Status    `json:"status"`
	Agents   []line.Presence `json:"agents"` // who is logged in, and what each is doing
	Queue    []line.Queued   `json:"queue"`  // callers on hold, first in line first; never a number
}

type hoursView struct {
	Days  []string `json:"days"`
	Open  string   `json:"open"`
	Close string   `json:"close"`
}

func (s *Server) lineView(id string) (lineView, error) {
	l, err := s.Lines.Get(id)
	if err != nil {
		return lineView{}, err
	}
	st, err := s.Lines.Status(id)
	if err != nil {
		return lineView{}, err
	}
	h := l.Config.Hours
	v := lineView{ID: id, Name: l.Config.Name, Numbers: l.Config.Numbers, Timezone: l.Config.Timezone, Status: st,
		Hours: hoursView{Open: h.Open.String(), Close: h.Close.String(), Days: []string{}}, Agents: s.Lines.Presence(id), Queue: s.Lines.Queue(id)}
	for _, d := range h.Days {
		v.Hours.Days = append(v.Hours.Days, d.String())
	}
	return v, nil
}

func (s *Server) listLines(c echo.Context) error {
	out := []lineView{}
	for _, id := range s.Lines.IDs() {
		v, err := s.lineView(id)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"lines": out})
}

func (s *Server) getLine(c echo.Context) error {
	v, err := s.lineView(c.Param("line"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// overrideRequest is the body of close and open.
type overrideRequest struct {
	Reason string `json:"reason"`
	Until  string `json:"until"` // RFC 3339; empty: the end of the local day
}

func (s *Server) overrideLine(state hours.State) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.Lines.Get(c.Param("line")); err != nil {
			return err
		}
		var req overrideRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		var until time.Time
		if req.Until != "" {
			var err error
			if until, err = time.Parse(time.RFC3339, req.Until); err != nil {
				return input.Errorf("until", "%q is not an RFC 3339 time like 2026-11-23T16:00:00+01:00", req.Until)
			}
		}
		st, err := s.Lines.SetOverride(c.Request().Context(), c.Param("line"), state, req.Reason, until)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, st)
	}
}

func (s *Server) clearOverride(c echo.Context) error {
	st, err := s.Lines.ClearOverride(c.Request().Context(), c.Param("line"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) listAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	entries, err := s.Audit.List(uint64(before), limit)
	if err != nil {
		return err
	}
	out := map[string]any{"entries": entries}
	if len(entries) == limit {
		out["next_before"] = entries[len(entries)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		return 0, input.Errorf(name, "%q is not a whole number from %d to %d", raw, lo, hi)
	}
	return v, nil
}
