package web

import (
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
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
