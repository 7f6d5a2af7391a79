package web

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
)

// endings say how a bridged call ended, in Swedish.
var endings = map[string]string{"caller": "den som ringde lade på", "agent": "agenten lade på",
	"limit": "tidsgränsen", "end_key": "agentens avslutsknapp", "safety": "säkerhetsknappen",
	"stopped": "peerline stoppades", "interrupted": "avbrutet (peerline stannade)",
	"referred": "agenten lämnade den som ringde hos en hänvisning"}

func endingText(e string) string {
	if t, ok := endings[e]; ok {
		return t
	}
	return e
}

// callRow is one call as Samtal shows it: in words, never a number.
type callRow struct {
	line.Record
	AgentName string
	Answers   []string // "Typ av samtal: stöd"
	// Unfilled: an answered call without its wrap-up (46elks ends the agent's
	// leg with the call): the office may fill it in from what the agent says.
	Unfilled bool
}

// wrapupQuestion is a question of the wrap-up form on Samtal.
type wrapupQuestion struct {
	ID, Title string
	Answers   [][2]string // stored answer, label
}

// callsView is Samtal: the calls of a range (today by default), filtered by
// agent (?agent=) and outcome (?utfall=).
type callsView struct {
	From, To config.Date
	Agent    string
	Outcome  string
	Agents   map[string]string // id -> name, for the filter
	Outcomes map[line.Outcome]string
	Rows     []callRow
	Query    string // for the CSV link
	Wrapup   []wrapupQuestion
}

func (s *Server) callsPage(c echo.Context) error {
	return s.page(c, "samtal", func(l *line.Line) (any, error) {
		from := l.Calendar.Date(s.now())
		to := from
		var err error
		if raw := c.QueryParam("from"); raw != "" {
			if from, err = parseDate("from", raw); err != nil {
				return nil, err
			}
			to = from
		}
		if raw := c.QueryParam("to"); raw != "" {
			if to, err = parseDate("to", raw); err != nil {
				return nil, err
			}
		}
		v := callsView{From: from, To: to, Agent: c.QueryParam("agent"), Outcome: c.QueryParam("utfall"),
			Agents: map[string]string{}, Outcomes: outcomes}
		if agents, err := s.Agents.Agents(); err == nil {
			for _, a := range agents {
				v.Agents[a.ID] = a.Name
			}
		}
		recs, err := s.Lines.Records(l.Config.ID, from, to)
		for _, r := range recs {
			if (v.Agent != "" && r.Agent != v.Agent) || (v.Outcome != "" && string(r.Outcome) != v.Outcome) {
				continue
			}
			row := callRow{Record: r, AgentName: nameOf(r.Agent, v.Agents), Unfilled: l.WrapupOpen(r)}
			if r.Wrapup != nil {
				for _, q := range l.Config.Wrapup.Questions {
					if a := r.Wrapup.Answers[q.ID]; a != "" {
						row.Answers = append(row.Answers, q.Title()+": "+q.AnswerLabel(a))
					}
				}
			}
			v.Rows = append(v.Rows, row)
		}
		slices.Reverse(v.Rows) // newest first
		for _, q := range l.Config.Wrapup.Questions {
			wq := wrapupQuestion{ID: q.ID, Title: q.Title()}
			for _, k := range slices.Sorted(maps.Keys(q.Answers)) {
				wq.Answers = append(wq.Answers, [2]string{q.Answers[k], q.AnswerLabel(q.Answers[k])})
			}
			v.Wrapup = append(v.Wrapup, wq)
		}
		q := url.Values{"from": {from.String()}, "to": {to.String()}}
		v.Query = q.Encode()
		return v, err
	})
}

// wrapupForm fills in an answered call's wrap-up from Samtal.
func (s *Server) wrapupForm(c echo.Context) error {
	day := url.Values{"from": {c.FormValue("day")}}
	start, err := time.Parse(time.RFC3339Nano, c.FormValue("start"))
	if err != nil {
		return done(c, "/samtal", input.Errorf("start", "not a call's start"), "", day)
	}
	answers := map[string]string{}
	form, _ := c.FormParams()
	for k, v := range form {
		if id, ok := strings.CutPrefix(k, "q_"); ok && len(v) > 0 {
			answers[id] = v[0]
		}
	}
	_, err = s.Lines.FillWrapup(c.Request().Context(), c.Param("line"), c.Param("id"), start, answers)
	return done(c, "/samtal", err, "Efterarbetet är sparat.", day)
}

// minutes writes seconds as "3 min 05 s" or "45 s".
func minutes(sec float64) string {
	n := int(sec + .5)
	if n < 60 {
		return fmt.Sprintf("%d s", n)
	}
	return fmt.Sprintf("%d min %02d s", n/60, n%60)
}

// joinWords joins with ", ".
func joinWords(ss []string) string { return strings.Join(ss, ", ") }
