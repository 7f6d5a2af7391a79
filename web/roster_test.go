package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

func TestAgentsAPI(t *testing.T) {
	e := newEnv(t)
	var a map[string]any
	if code := e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, &a); code != 201 ||
		a["phone"] != "+46701740605" || a["active"] != true || a["pin_set"] != false {
		t.Fatalf("create: %d %v", code, a)
	}
	if code := e.do("PUT", "/api/v1/agents/klara/pin", `{"pin":"862491"}`, nil); code != 204 {
		t.Fatalf("set PIN: %d", code)
	}
	if e.do("GET", "/api/v1/agents/klara", "", &a); a["pin_set"] != true || a["locked"] != nil {
		t.Errorf("after PIN: %v", a)
	}
	if code := e.do("PATCH", "/api/v1/agents/klara", `{"name":"Klara K","active":false}`, &a); code != 200 ||
		a["name"] != "Klara K" || a["active"] != false || a["phone"] != "+46701740605" {
		t.Errorf("patch: %d %v", code, a)
	}
	var list struct{ Agents []map[string]any }
	if e.do("GET", "/api/v1/agents", "", &list); len(list.Agents) != 1 {
		t.Errorf("list: %v", list)
	}
	if code := e.do("POST", "/api/v1/agents/klara/unlock", "", &a); code != 200 {
		t.Errorf("unlock: %d", code)
	}
	for _, path := range []string{"/api/v1/agents", "/api/v1/agents/klara", "/api/v1/audit"} {
		_, body := e.raw(e.token, "GET", path, "")
		if strings.Contains(string(body), "862491") || strings.Contains(string(body), "argon2") {
			t.Errorf("%s shows a PIN or its hash: %s", path, body)
		}
	}
	if code := e.do("DELETE", "/api/v1/agents/klara", "", nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	var eb errorBody
	if code := e.do("GET", "/api/v1/agents/klara", "", &eb); code != 404 || eb.Error.Code != "not_found" {
		t.Errorf("deleted agent: %d %+v", code, eb)
	}
}

func TestRosterAPIBadInput(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	e.do("POST", "/api/v1/agents", `{"id":"jim","name":"Jim","phone":"070-174 06 06"}`, nil)
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"duplicate id", "POST", "/api/v1/agents", `{"id":"klara","name":"K","phone":"070-174 06 09"}`, 400, "id"},
		{"bad phone", "POST", "/api/v1/agents", `{"id":"anna","name":"Anna","phone":"12"}`, 400, "phone"},
		{"taken phone", "POST", "/api/v1/agents", `{"id":"anna","name":"Anna","phone":"+46701740605"}`, 400, "phone"},
		{"unknown line", "POST", "/api/v1/agents", `{"id":"anna","name":"Anna","phone":"070-174 06 09","lines":["x"]}`, 400, "lines"},
		{"unknown field", "POST", "/api/v1/agents", `{"id":"anna","pin":"1"}`, 400, "pin"},
		{"rename id", "PATCH", "/api/v1/agents/klara", `{"id":"kl"}`, 400, "id"},
		{"trivial PIN", "PUT", "/api/v1/agents/klara/pin", `{"pin":"123456"}`, 400, "pin"},
		{"short PIN", "PUT", "/api/v1/agents/klara/pin", `{"pin":"8624"}`, 400, "pin"},
		{"PIN of unknown agent", "PUT", "/api/v1/agents/nobody/pin", `{"pin":"862491"}`, 404, ""},
		{"bad day", "PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["mon","funday"]}]}`, 400, "shifts[0].days[1]"},
		{"bad from", "PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["mon"],"from":"18 maj"}]}`, 400, "shifts[0].from"},
		{"unknown agent in schedule", "PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"x","days":["mon"]}]}`, 400, "shifts[0].agent"},
		{"to before from", "PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["mon"],"from":"2026-06-18","to":"2026-05-18"}]}`, 400, "shifts[0].to"},
		{"sick unknown agent", "POST", "/api/v1/lines/peer/sick", `{"agent":"nobody","date":"2026-11-24"}`, 400, "agent"},
		{"sick bad date", "POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"tisdag"}`, 400, "date"},
		{"sick no agent", "POST", "/api/v1/lines/peer/sick", `{"date":"2026-11-24"}`, 400, "agent"},
		{"sick not expected", "POST", "/api/v1/lines/peer/sick", `{"agent":"jim","date":"2026-11-24"}`, 400, "date"},
		{"cover already expected", "POST", "/api/v1/lines/peer/cover", `{"agent":"klara","date":"2026-11-24"}`, 400, "date"},
		{"sick unknown line", "POST", "/api/v1/lines/nope/sick", `{"agent":"klara","date":"2026-11-24"}`, 404, ""},
		{"delete missing sick", "DELETE", "/api/v1/lines/peer/sick/jim/2026-11-24", ``, 404, ""},
		{"delete bad date", "DELETE", "/api/v1/lines/peer/sick/jim/igår", ``, 400, "date"},
		{"roster bad from", "GET", "/api/v1/lines/peer/roster?from=x", ``, 400, "from"},
		{"roster too long", "GET", "/api/v1/lines/peer/roster?from=2026-01-01&to=2026-12-31", ``, 400, "to"},
	}
	if code := e.do("PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["tue"]}]}`, nil); code != 200 {
		t.Fatalf("schedule: %d", code)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var eb errorBody
			code := e.do(tt.method, tt.path, tt.body, &eb)
			if code != tt.status || eb.Error.Field != tt.field || eb.Error.Message == "" {
				t.Errorf("%d %+v, want %d on %q", code, eb.Error, tt.status, tt.field)
			}
		})
	}
}

func TestSickCoverAndRoster(t *testing.T) {
	e := newEnv(t) // Monday 23 November 2026, 13:00
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	e.do("POST", "/api/v1/agents", `{"id":"jim","name":"Jim","phone":"070-174 06 06"}`, nil)
	e.do("PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["tue","wed"],"from":"2026-11-01"}]}`, nil)
	var sched struct{ Shifts []map[string]any }
	if e.do("GET", "/api/v1/lines/peer/schedule", "", &sched); len(sched.Shifts) != 1 || sched.Shifts[0]["from"] != "2026-11-01" {
		t.Errorf("schedule: %+v", sched)
	}
	var day map[string]any
	if code := e.do("POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"2026-11-24"}`, &day); code != 201 || day["uncovered"] != true {
		t.Fatalf("sick: %d %v", code, day)
	}
	if code := e.do("POST", "/api/v1/lines/peer/cover", `{"agent":"jim","date":"2026-11-24"}`, &day); code != 201 || day["uncovered"] != false {
		t.Fatalf("cover: %d %v", code, day)
	}
	var r struct {
		Days []struct {
			Date      string
			Expected  []string
			Sick      []string
			Cover     []string
			Service   bool
			Uncovered bool
		}
	}
	e.do("GET", "/api/v1/lines/peer/roster?from=2026-11-23&to=2026-11-29", "", &r)
	if len(r.Days) != 7 || r.Days[1].Date != "2026-11-24" || len(r.Days[1].Cover) != 1 || r.Days[1].Uncovered ||
		!r.Days[2].Service || r.Days[2].Expected[0] != "klara" || !r.Days[0].Uncovered || r.Days[5].Service {
		t.Errorf("roster: %+v", r.Days)
	}
	if code := e.do("DELETE", "/api/v1/lines/peer/cover/jim/2026-11-24", "", &day); code != 200 || day["uncovered"] != true {
		t.Errorf("delete cover: %d %v", code, day)
	}
	var def struct{ Days []struct{ Date string } }
	if e.do("GET", "/api/v1/lines/peer/roster", "", &def); len(def.Days) != 14 || def.Days[0].Date != "2026-11-23" {
		t.Errorf("default roster range: %+v", def.Days)
	}
	var log struct{ Entries []audit.Entry }
	e.do("GET", "/api/v1/audit", "", &log)
	var actions []string
	for _, en := range log.Entries {
		actions = append(actions, en.Action)
	}
	// Setting a schedule without Mondays on a Monday after the deadline closes
	// today at once: the rule looks at today whenever the roster changes.
	want := "roster.cover.delete roster.cover roster.sick line.no_cover schedule.set agent.add agent.add token.create"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit:\n got %s\nwant %s", strings.Join(actions, " "), want)
	}
}

func TestCallRecordsAPI(t *testing.T) {
	e := newEnv(t) // Monday 13:00, open, nobody logged in
	for _, id := range []string{"c1", "c2"} {
		if err := e.lines.Handle(context.Background(), "peer", linetest.NewCall(id, "+46701234567")); err != nil {
			t.Fatal(err)
		}
	}
	var out struct {
		Calls []struct{ ID, Outcome string }
	}
	if code := e.do("GET", "/api/v1/lines/peer/calls", "", &out); code != 200 || len(out.Calls) != 2 || out.Calls[0].Outcome != "no_agents" {
		t.Fatalf("calls: %d %+v", code, out)
	}
	_, body := e.raw(e.token, "GET", "/api/v1/lines/peer/calls?from=2026-11-01&to=2026-11-30", "")
	if strings.Contains(string(body), "701234567") || !strings.Contains(string(body), `"c2"`) {
		t.Errorf("calls body: %s", body)
	}
	var eb errorBody
	if code := e.do("GET", "/api/v1/lines/peer/calls?from=2026-11-30&to=2026-11-01", "", &eb); code != 400 || eb.Error.Field != "to" {
		t.Errorf("reversed range: %d %+v", code, eb)
	}
}

func TestOfficeLogsAgentsInAndOut(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`, nil)
	var a struct {
		Presence *line.Presence `json:"presence"`
	}
	if code := e.do("POST", "/api/v1/agents/klara/login", "", &a); code != 200 || a.Presence == nil ||
		a.Presence.Activity != line.Available || !a.Presence.Since.Equal(monday1300) {
		t.Fatalf("log-in: %d %+v", code, a.Presence)
	}
	var l struct{ Agents []line.Presence }
	if e.do("GET", "/api/v1/lines/peer", "", &l); len(l.Agents) != 1 || l.Agents[0].Agent != "klara" {
		t.Errorf("the line shows %+v", l.Agents)
	}
	if code := e.do("POST", "/api/v1/agents/klara/logout", "", &a); code != 200 || a.Presence != nil {
		t.Errorf("log-out: %d %+v", code, a.Presence)
	}
	var eb errorBody
	if code := e.do("POST", "/api/v1/agents/klara/logout", "", &eb); code != 409 || eb.Error.Code != "not_logged_in" {
		t.Errorf("second log-out: %d %+v", code, eb)
	}
	if code := e.do("POST", "/api/v1/agents/nobody/login", "", &eb); code != 404 {
		t.Errorf("unknown agent: %d %+v", code, eb)
	}
	if code := e.do("POST", "/api/v1/agents/klara/login", `{"line":"other"}`, &eb); code != 404 {
		t.Errorf("unknown line: %d %+v", code, eb)
	}
	if code := e.do("POST", "/api/v1/agents/klara/login", `{"lines":"peer"}`, &eb); code != 400 || eb.Error.Field != "lines" {
		t.Errorf("unknown field: %d %+v", code, eb)
	}
	e.do("POST", "/api/v1/agents/klara/login", "", nil)
	if code := e.do("PATCH", "/api/v1/agents/klara", `{"active":false}`, &a); code != 200 || a.Presence != nil {
		t.Errorf("a paused agent stays logged in: %d %+v", code, a.Presence)
	}
	if code := e.do("POST", "/api/v1/agents/klara/login", "", &eb); code != 409 || eb.Error.Code != "not_allowed" {
		t.Errorf("log-in while paused: %d %+v", code, eb)
	}
	e.do("PATCH", "/api/v1/agents/klara", `{"active":true}`, nil)
	e.clock.Set(monday1300.Add(4 * time.Hour)) // 17:00: closed
	if code := e.do("POST", "/api/v1/agents/klara/login", "", &eb); code != 409 || eb.Error.Code != "line_closed" ||
		!strings.Contains(eb.Error.Message, "öppnar i morgon 12:45") {
		t.Errorf("log-in after closing: %d %+v", code, eb)
	}
}

// TestAnAgentWhoCannotBeCalledIsRefusedWithTheReason: the office's log-in of
// an agent peerline has no way to ring says so, and says what would help.
func TestAnAgentWhoCannotBeCalledIsRefusedWithTheReason(t *testing.T) {
	e := newEnv(t)
	e.lines.SetReach(func(tg line.Target) error {
		if tg.SIPURI == "" {
			return fmt.Errorf("%w: agent %s has no SIP address and sip.trunk.proxy is not set", line.ErrUnreachable, tg.Agent)
		}
		return nil
	})
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`, nil)
	var eb errorBody
	if code := e.do("POST", "/api/v1/agents/klara/login", "", &eb); code != 409 || eb.Error.Code != "cannot_be_called" ||
		!strings.Contains(eb.Error.Message, "sip.trunk.proxy") || strings.Contains(eb.Error.Message, "1740605") {
		t.Errorf("log-in: %d %+v", code, eb)
	}
}
