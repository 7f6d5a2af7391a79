package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/roster"
)

// The weekly schedule on Schema: one small form per shift and one for a new
// shift. Each form carries the version of the schedule it was drawn from, so
// that two people editing at once cannot overwrite each other's shifts by index.

// weekOrder is the office's week, Monday first.
var weekOrder = []config.Weekday{1, 2, 3, 4, 5, 6, 0}

// dayBox is one weekday's checkbox of a shift form.
type dayBox struct {
	Value, Name string
	On          bool
}

// shiftForm is one shift as the page shows and posts it; Index -1 is a new one.
type shiftForm struct {
	Index    int
	Agent    string
	Days     []dayBox
	From, To string
	Failed   bool // the form the error message is about
}

func newShiftForm(i int, sh roster.Shift) shiftForm {
	f := shiftForm{Index: i, Agent: sh.Agent}
	for _, w := range weekOrder {
		f.Days = append(f.Days, dayBox{Value: w.String(), Name: weekdays[w], On: slices.Contains(sh.Days, w)})
	}
	if sh.From != nil {
		f.From = sh.From.String()
	}
	if sh.To != nil {
		f.To = sh.To.String()
	}
	return f
}

// shiftArgs is what the "shift" template gets: the page and one form.
type shiftArgs struct {
	Page pageData
	Form shiftForm
}

// weekView is the weekly schedule part of Schema.
type weekView struct {
	Shifts  []shiftForm
	New     shiftForm
	Version string
}

func scheduleVersion(shifts []roster.Shift) string {
	b, _ := json.Marshal(shifts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func newWeekView(shifts []roster.Shift) weekView {
	v := weekView{New: newShiftForm(-1, roster.Shift{}), Version: scheduleVersion(shifts)}
	for i, sh := range shifts {
		v.Shifts = append(v.Shifts, newShiftForm(i, sh))
	}
	return v
}

// shiftFromForm reads a posted shift; errors name the page's fields.
func shiftFromForm(c echo.Context) (roster.Shift, error) {
	sh := roster.Shift{Agent: c.FormValue("agent")}
	if sh.Agent == "" {
		return sh, input.Errorf("agent", "choose an agent")
	}
	form, _ := c.FormParams()
	for _, v := range form["dag"] {
		var w config.Weekday
		if err := w.UnmarshalText([]byte(v)); err != nil {
			return sh, input.Errorf("days", "%v", err)
		}
		sh.Days = append(sh.Days, w)
	}
	for _, f := range []struct {
		name string
		dst  **config.Date
	}{{"from", &sh.From}, {"to", &sh.To}} {
		if v := c.FormValue(f.name); v != "" {
			d, err := parseDate(f.name, v)
			if err != nil {
				return sh, err
			}
			*f.dst = &d
		}
	}
	return sh, nil
}

// scheduleForm saves, adds or removes one shift of the weekly schedule. A
// mistake shows the page again with what was typed, not an empty form.
func (s *Server) scheduleForm(c echo.Context) error {
	id := c.Param("line")
	index, err := strconv.Atoi(c.FormValue("index"))
	if err != nil {
		return done(c, "/schema", input.Errorf("index", "not a shift"), "")
	}
	remove := c.FormValue("do") == "ta-bort"
	sh, err := shiftFromForm(c)
	if err == nil || remove {
		_, err = s.Lines.EditSchedule(c.Request().Context(), id, func(shifts []roster.Shift) ([]roster.Shift, error) {
			switch {
			case c.FormValue("version") != scheduleVersion(shifts):
				return nil, line.ErrScheduleChanged
			case index >= len(shifts) || index < -1 || remove && index < 0:
				return nil, input.Errorf("index", "no shift %d to change", index)
			case remove:
				return slices.Delete(shifts, index, index+1), nil
			case index < 0:
				return append(shifts, sh), nil
			}
			shifts[index] = sh
			return shifts, nil
		})
	}
	switch {
	case err == nil:
		msg := map[bool]string{false: "Veckoschemat är sparat.", true: "Passet är borttaget ur veckoschemat."}[remove]
		return done(c, "/schema", nil, msg)
	case errors.Is(err, line.ErrScheduleChanged):
		return done(c, "/schema", err, "")
	}
	ae := toAPIError(err)
	if ae == nil || ae.Status != http.StatusBadRequest {
		return done(c, "/schema", err, "")
	}
	f := newShiftForm(index, sh)
	f.From, f.To, f.Failed = c.FormValue("from"), c.FormValue("to"), true
	return s.rosterPageWith(c, http.StatusUnprocessableEntity, pageMessage(ae), &f)
}
