package web_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

// threeCalls are two calls with nobody logged in and one while the office has
// the line closed, all on Monday 23 November at 13:00.
func threeCalls(t *testing.T, e *env) {
	t.Helper()
	for i, id := range []string{"c1", "c2", "c3"} {
		if i == 2 {
			e.do("POST", "/api/v1/lines/peer/close", `{"reason":"Utbildning"}`, nil)
		}
		if err := e.lines.Handle(context.Background(), "peer", linetest.NewCall(id, "+46701234567")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsAPI(t *testing.T) {
	e := newEnv(t)
	threeCalls(t, e)
	var st line.Stats
	if code := e.do("GET", "/api/v1/lines/peer/stats", "", &st); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if st.By != "day" || st.From.String() != "2026-10-25" || st.To.String() != "2026-11-23" || len(st.Buckets) != 30 {
		t.Errorf("the default range: %s..%s by %s, %d buckets", st.From, st.To, st.By, len(st.Buckets))
	}
	if f := st.Total; f.Calls != 3 || f.Closed != 1 || f.Missed != 2 || f.Outcomes["no_agents"] != 2 {
		t.Errorf("total: %+v", f)
	}
	if last := st.Buckets[29]; last.Key != "2026-11-23" || last.Calls != 3 {
		t.Errorf("today's bucket: %+v", last)
	}
	if code := e.do("GET", "/api/v1/lines/peer/stats?from=2026-11-23&to=2026-11-23&by=hour", "", &st); code != 200 ||
		len(st.Buckets) != 24 || st.Buckets[13].Calls != 3 || st.Buckets[12].Calls != 0 {
		t.Errorf("by hour: %d %+v", code, st.Buckets)
	}
	var eb errorBody
	if code := e.do("GET", "/api/v1/lines/peer/stats?by=week", "", &eb); code != 400 || eb.Error.Field != "by" {
		t.Errorf("by=week: %d %+v", code, eb)
	}
	if code := e.do("GET", "/api/v1/lines/peer/stats?from=2025-01-01&to=2026-11-23", "", &eb); code != 400 || eb.Error.Field != "to" {
		t.Errorf("two years: %d %+v", code, eb)
	}
	if code := e.do("GET", "/api/v1/lines/nope/stats", "", &eb); code != 404 {
		t.Errorf("unknown line: %d", code)
	}
	if code, _ := e.raw("", "GET", "/api/v1/lines/peer/stats", ""); code != 401 {
		t.Errorf("without a token: %d", code)
	}
}

func TestCSV(t *testing.T) {
	e := newEnv(t)
	threeCalls(t, e)
	code, body := e.raw(e.token, "GET", "/api/v1/lines/peer/calls.csv", "")
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if code != 200 || err != nil || len(rows) != 4 {
		t.Fatalf("calls.csv: %d %v\n%s", code, err, body)
	}
	want := "id,start,end,outcome,reason,seconds,wait_seconds,talk_seconds,agent,ended,limit_hit,flagged,callback,referral,referral_mode,referral_answered,wrapup_filled,Typ av samtal,Hänvisad vidare,Kansliet ska kontakta mig"
	if strings.Join(rows[0], ",") != want {
		t.Errorf("header: %v", rows[0])
	}
	if rows[1][0] != "c1" || rows[1][1] != "2026-11-23T13:00:00+01:00" || rows[1][3] != "no_agents" || rows[3][3] != "closed" || rows[3][4] != "office" {
		t.Errorf("rows: %v", rows[1:])
	}
	if strings.Contains(string(body), "701234567") {
		t.Error("the CSV holds the caller's number")
	}
	code, body = e.raw(e.token, "GET", "/api/v1/lines/peer/stats.csv?from=2026-11-22&to=2026-11-23", "")
	rows, err = csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if code != 200 || err != nil || len(rows) != 4 || rows[0][0] != "day" {
		t.Fatalf("stats.csv: %d %v\n%s", code, err, body)
	}
	if strings.Join(rows[2][:5], ",") != "2026-11-23,3,0,1,2" || rows[3][0] != "total" || rows[3][1] != "3" {
		t.Errorf("stats.csv rows: %v", rows[1:])
	}
}
