package web

import (
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/line"
)

// A cell a spreadsheet would run as a formula is quoted; numbers, also
// negative ones, are left as they are.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest("GET", "/x.csv", nil), rec)
	in := []string{"=HYPERLINK(\"x\")", "+1+2", "-3", "-2.5", "@SUM(A1)", "\tx", "vanlig", ""}
	if err := sendCSV(c, "x.csv", [][]string{in}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(rows) != 1 {
		t.Fatalf("%v %q", err, rec.Body.String())
	}
	want := []string{"'=HYPERLINK(\"x\")", "'+1+2", "-3", "-2.5", "'@SUM(A1)", "'\tx", "vanlig", ""}
	for i, cell := range rows[0] {
		if cell != want[i] {
			t.Errorf("cell %d: %q, want %q", i, cell, want[i])
		}
	}
	if got := rec.Header().Get("Content-Disposition"); got != `attachment; filename="x.csv"` {
		t.Errorf("Content-Disposition: %s", got)
	}
}

func TestWaitTextRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:          "30 sekunder",
		29*time.Second + 1:        "30 sekunder",
		time.Minute:               "60 sekunder",
		time.Minute + time.Second: "2 minuter",
		15 * time.Minute:          "15 minuter",
	} {
		if got := waitText(d); got != want {
			t.Errorf("waitText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseUntil(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Stockholm")
	now := time.Date(2026, 5, 20, 13, 0, 0, 0, loc)
	for raw, want := range map[string]string{
		"17:30":            "2026-05-20 17:30",
		"9:05":             "2026-05-20 09:05",
		"2026-05-21 08:00": "2026-05-21 08:00",
		"2026-05-21T08:00": "2026-05-21 08:00",
	} {
		got, err := parseUntil(raw, now)
		if err != nil || got.Format("2006-01-02 15:04") != want || got.Location() != loc {
			t.Errorf("%q: %v %v, want %s", raw, got, err, want)
		}
	}
	for _, raw := range []string{"05/21/2026 8:00 PM", "imorgon", "25:00"} {
		if _, err := parseUntil(raw, now); err == nil {
			t.Errorf("%q was taken", raw)
		}
	}
}

func TestEveryLengthBandHasWords(t *testing.T) {
	for _, b := range line.LengthBands() {
		if bandText(b) == b {
			t.Errorf("band %q has no words", b)
		}
	}
}

// TestBarListForAPhone: the phone's list names days and hours in full, keeps
// days without calls, leaves quiet hours out and scales the bars to the most.
func TestBarListForAPhone(t *testing.T) {
	days := string(barList([]line.Bucket{
		{Key: "2026-11-23", Figures: line.Figures{Calls: 4, Answered: 2}},
		{Key: "2026-11-24"},
	}))
	for _, want := range []string{">mån 23/11<", ">tis 24/11<", `<rect width="100.0" height="10" class="calls"/><rect width="50.0"`, "4 <span>(2 besvarade)</span>"} {
		if !strings.Contains(days, want) {
			t.Errorf("days lack %q:\n%s", want, days)
		}
	}
	hours := string(barList([]line.Bucket{{Key: "9"}, {Key: "13", Figures: line.Figures{Calls: 1}}}))
	if strings.Contains(hours, "09–10") || !strings.Contains(hours, ">13–14<") {
		t.Errorf("hours:\n%s", hours)
	}
}
