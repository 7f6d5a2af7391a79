package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/line"
)

// statsDays is the range the statistics show when the query names none.
const statsDays = 30

// listCalls is the call records of ?from=&to= (today by default).
func (s *Server) listCalls(c echo.Context) error {
	l, recs, err := s.records(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"line": l.Config.ID, "calls": recs})
}

func (s *Server) records(c echo.Context) (*line.Line, []line.Record, error) {
	l, from, to, err := s.dateRange(c, 1)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.Lines.Records(l.Config.ID, from, to)
	return l, recs, err
}

// callsCSV is listCalls as CSV, one column per wrap-up question of the line.
func (s *Server) callsCSV(c echo.Context) error {
	l, recs, err := s.records(c)
	if err != nil {
		return err
	}
	loc := l.Calendar.Location()
	head := []string{"id", "start", "end", "outcome", "reason", "seconds", "wait_seconds", "talk_seconds",
		"agent", "ended", "limit_hit", "flagged", "callback", "referral", "referral_mode", "referral_answered", "wrapup_filled"}
	questions := l.Config.Wrapup.Questions
	for _, q := range questions {
		head = append(head, q.Title()) // the office's spreadsheet says "Typ av samtal", not call_type
	}
	rows := [][]string{head}
	for _, r := range recs {
		row := []string{r.ID, r.Start.In(loc).Format(time.RFC3339), r.End.In(loc).Format(time.RFC3339), string(r.Outcome),
			string(r.Reason), seconds(r.Seconds), seconds(r.Wait), seconds(r.Talk), r.Agent, r.Ended,
			yesNo(r.LimitHit), yesNo(r.Flagged), yesNo(r.Callback), "", "", "", ""}
		if x := r.Referral; x != nil {
			row[len(row)-4], row[len(row)-3], row[len(row)-2] = x.Name, x.Mode, yesNo(x.Answered)
		}
		if r.Wrapup != nil {
			row[len(row)-1] = yesNo(r.Wrapup.Filled)
		}
		for _, q := range questions {
			a := ""
			if r.Wrapup != nil && r.Wrapup.Answers[q.ID] != "" {
				a = q.AnswerLabel(r.Wrapup.Answers[q.ID])
			}
			row = append(row, a)
		}
		rows = append(rows, row)
	}
	return sendCSV(c, fmt.Sprintf("%s-calls.csv", l.Config.ID), rows)
}

// getStats is the line's figures for ?from=&to= (the last 30 days by default)
// by=day (default) or hour.
func (s *Server) getStats(c echo.Context) error {
	st, err := s.stats(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) stats(c echo.Context) (line.Stats, error) {
	l, err := s.Lines.Get(c.Param("line"))
	if err != nil {
		return line.Stats{}, err
	}
	from, to, err := s.statsRange(l, c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return line.Stats{}, err
	}
	by := c.QueryParam("by")
	if by == "" {
		by = "day"
	}
	return s.Lines.Stats(l.Config.ID, from, to, by)
}

// statsRange reads from and to; to defaults to today and from to 29 days before to.
func (s *Server) statsRange(l *line.Line, rawFrom, rawTo string) (from, to config.Date, err error) {
	to = l.Calendar.Date(s.now())
	if rawTo != "" {
		if to, err = parseDate("to", rawTo); err != nil {
			return
		}
	}
	from = to.AddDays(-(statsDays - 1))
	if rawFrom != "" {
		from, err = parseDate("from", rawFrom)
	}
	return
}

// statsCSV is the figures by bucket as CSV: a row a day or hour and the total.
func (s *Server) statsCSV(c echo.Context) error {
	st, err := s.stats(c)
	if err != nil {
		return err
	}
	bands := line.LengthBands()
	head := []string{st.By, "calls", "answered", "closed", "missed", "callbacks", "callbacks_reached",
		"talk_total_seconds", "talk_mean_seconds", "talk_median_seconds", "talk_max_seconds", "limit_hits", "flagged", "referrals", "referrals_answered"}
	for _, b := range bands {
		head = append(head, "talk_"+b)
	}
	rows := [][]string{head}
	for _, b := range append(st.Buckets, line.Bucket{Key: "total", Figures: st.Total}) {
		f := b.Figures
		row := []string{b.Key, strconv.Itoa(f.Calls), strconv.Itoa(f.Answered), strconv.Itoa(f.Closed), strconv.Itoa(f.Missed),
			strconv.Itoa(f.Callbacks), strconv.Itoa(f.CallbacksReached), seconds(f.Talk.Total), seconds(f.Talk.Mean),
			seconds(f.Talk.Median), seconds(f.Talk.Max), strconv.Itoa(f.LimitHits), strconv.Itoa(f.Flagged)}
		made, answered := 0, 0
		for _, n := range f.Referrals {
			made, answered = made+n.Made, answered+n.Answered
		}
		row = append(row, strconv.Itoa(made), strconv.Itoa(answered))
		for _, band := range bands {
			row = append(row, strconv.Itoa(f.Lengths[band]))
		}
		rows = append(rows, row)
	}
	return sendCSV(c, fmt.Sprintf("%s-stats-%s-%s.csv", st.Line, st.From, st.To), rows)
}

// sendCSV writes rows as a CSV download. A cell that a spreadsheet would take
// for a formula is quoted with a leading apostrophe.
func sendCSV(c echo.Context, name string, rows [][]string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	for _, row := range rows {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !isNumber(cell) {
				row[i] = "'" + cell
			}
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func seconds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
