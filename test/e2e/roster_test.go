package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/event/eventtest"
)

// tuesdaysSchedule has Klara alone on Tuesdays and Jim on every other day:
// the only day a test uncovers is the Tuesday it reports Klara sick for,
// whatever day and hour it runs (after the 11:00 deadline an uncovered today
// is closed at once).
const tuesdaysSchedule = `{"shifts":[{"agent":"klara","days":["tue"]},{"agent":"jim","days":["mon","wed","thu","fri","sat","sun"]}]}`

// nextServiceTuesday is the date of the first Tuesday after today that the
// line's calendar opens, from the roster API: a Tuesday may be a holiday
// (6 June 2028).
func nextServiceTuesday(t *testing.T, s *server, token string) string {
	t.Helper()
	loc, _ := time.LoadLocation("Europe/Stockholm")
	from := time.Now().In(loc).AddDate(0, 0, 1)
	code, body := s.request("GET", "/api/v1/lines/peer/roster?from="+from.Format(time.DateOnly)+
		"&to="+from.AddDate(0, 0, 62).Format(time.DateOnly), token, "")
	var r struct {
		Days []struct {
			Date    string
			Service bool
		}
	}
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil {
		t.Fatalf("roster: %d %v %s", code, err, body)
	}
	for _, d := range r.Days {
		if day, err := time.Parse(time.DateOnly, d.Date); err == nil && day.Weekday() == time.Tuesday && d.Service {
			return d.Date
		}
	}
	t.Fatalf("no Tuesday the line opens in the roster: %s", body)
	return ""
}

func TestRosterImportSickCoverAndWebhooks(t *testing.T) {
	dir := t.TempDir()
	office := eventtest.New(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"]}
webhooks: [{url: %q, secret: %q}]
`, filepath.Join(dir, "data"), office.Hook.URL, office.Hook.Secret))
	example, _ := filepath.Abs("../../deploy/examples/roster.yaml")
	if out, code := peerline(t, dir, "", "agent", "import", example, "--config", cfg); code != 0 || !strings.Contains(out, "4 agent(s) added") {
		t.Fatalf("import: %d %s", code, out)
	}
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)

	s := startServer(t, dir, "--config", cfg)
	code, body := s.request("GET", "/api/v1/agents", token, "")
	if code != 200 || strings.Count(body, `"id":`) != 4 || !strings.Contains(body, `"phone":"+46701740605"`) {
		t.Fatalf("agents: %d %s", code, body)
	}
	code, body = s.request("GET", "/api/v1/lines/peer/schedule", token, "")
	if code != 200 || !strings.Contains(body, `"from":"2026-05-18"`) {
		t.Fatalf("imported schedule: %d %s", code, body)
	}
	// Klara alone on Tuesdays from now on.
	s.request("PUT", "/api/v1/lines/peer/schedule", token, tuesdaysSchedule)
	tuesday := nextServiceTuesday(t, s, token)
	code, body = s.request("POST", "/api/v1/lines/peer/sick", token, `{"agent":"klara","date":"`+tuesday+`"}`)
	if code != 201 || !strings.Contains(body, `"uncovered":true`) {
		t.Fatalf("sick: %d %s", code, body)
	}
	unc := office.WaitFor(t, event.DayUncovered)
	if unc.Data["date"] != tuesday || len(unc.Data["free"].([]any)) != 3 {
		t.Errorf("day.uncovered: %+v", unc)
	}

	// The office's receiver is down when Jim takes the day, and peerline restarts.
	office.SetDown(true)
	code, _ = s.request("POST", "/api/v1/lines/peer/cover", token, `{"agent":"jim","date":"`+tuesday+`"}`)
	if code != 201 {
		t.Fatalf("cover: %d", code)
	}
	for i := 0; office.Refused() == 0 && i < 300; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	s.stop()
	office.SetDown(false)
	s = startServer(t, dir, "--config", cfg)
	var taken eventtest.Event
	for i := 0; i < 300 && taken.ID == ""; i++ { // the retry is due 10 s after the failure
		for _, e := range office.Events() {
			if e.Type == event.CoverTaken {
				taken = e
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if taken.Data["name"] != "Jim" || taken.Data["day_covered"] != true {
		t.Fatalf("cover.taken after the restart: %+v (got %v)", taken, office.Types())
	}
	for id, n := range office.Seen() {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if office.Bad() != 0 {
		t.Errorf("%d deliveries with a bad signature", office.Bad())
	}
	for _, b := range office.Bodies() {
		// Not "070": an event id is random hex and may hold it.
		if strings.Contains(b, "+46") || strings.Contains(b, "701740") {
			t.Errorf("a webhook carries a phone number: %s", b)
		}
	}
	_, body = s.request("GET", "/api/v1/lines/peer/roster?from="+tuesday+"&to="+tuesday, token, "")
	var r struct{ Days []struct{ Uncovered bool } }
	if json.Unmarshal([]byte(body), &r); len(r.Days) != 1 || r.Days[0].Uncovered {
		t.Errorf("roster after cover: %s", body)
	}
	if logged := s.log(); strings.Contains(logged, "0701740605") || strings.Contains(logged, "+46701740605") {
		t.Error("the log holds an agent's number unmasked")
	}
}
