package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	"github.com/peerline/peerline/web"
	"github.com/peerline/peerline/web/auth"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// The office user every env has.
const (
	officeUser     = "kansliet"
	officePassword = "rätt-häftapparat-7"
)

// fakeNotices is the outbox of messages to people as the pages see it.
type fakeNotices struct {
	list   []web.Notice
	resent []string
}

func (f *fakeNotices) Notices(limit int) ([]web.Notice, error) { return f.list, nil }

func (f *fakeNotices) Resend(_ context.Context, id string) error {
	for _, n := range f.list {
		if n.ID == id {
			f.resent = append(f.resent, id)
			return nil
		}
	}
	return web.ErrNoNotice
}

type env struct {
	db      *bolt.DB
	notices *fakeNotices
	t       testing.TB
	url     string
	token   string
	clock   *clocktest.Fake
	lines   *line.Lines
	users   *auth.Store
	trunk   atomic.Pointer[trunkState] // what the SIP side says of the trunk; nil: no registration
}

type trunkState struct {
	ok     bool
	detail string
}

func (e *env) trunkState() (bool, bool, string) {
	if s := e.trunk.Load(); s != nil {
		return true, s.ok, s.detail
	}
	return false, false, ""
}

// addOfficeUser adds officeUser, for the tests of the pages.
func (e *env) addOfficeUser() {
	if err := e.users.AddUser(context.Background(), officeUser, auth.RoleOffice, officePassword); err != nil {
		e.t.Fatal(err)
	}
}

// monday1300 is an ordinary open moment: Monday 23 November 2026, 13:00 in Stockholm.
var monday1300 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := storage.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clocktest.New(monday1300)
	log, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := line.New(db, clk, config.Default().Lines, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	agents, err := roster.NewStore(db, clk, config.Default().Lines[0].PIN, []string{"peer"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewStore(db, clk)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.CreateToken(context.Background(), "kansliet", auth.RoleOffice)
	if err != nil {
		t.Fatal(err)
	}
	env := &env{t: t, token: tok, clock: clk, users: tokens, db: db}
	env.lines = lines
	env.notices = &fakeNotices{}
	srv := httptest.NewServer(web.New(web.Deps{Lines: lines, Agents: agents, Tokens: tokens, Users: tokens, Audit: log, Clock: clk, Log: zerolog.Nop(),
		Trunk: env.trunkState, Notifications: env.notices, Limits: map[string][]string{"peer": {testLimit}}}))
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

// testLimit is what the env's PBX cannot do on the line (Deps.Limits).
const testLimit = "Samtalsledaren hör inga varningar om tiden"

// do sends a request with the env's token and decodes the JSON answer into out.
func (e *env) do(method, path, body string, out any) int {
	e.t.Helper()
	return e.doWith(e.token, method, path, body, out)
}

func (e *env) doWith(token, method, path, body string, out any) int {
	e.t.Helper()
	code, data := e.raw(token, method, path, body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, code, data, err)
		}
	}
	return code
}

// raw sends a request and returns the status and the body as sent.
func (e *env) raw(token, method, path, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

type errorBody struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func TestCloseOpenAndBackToTheCalendar(t *testing.T) {
	e := newEnv(t)
	var st hours.Status
	if code := e.do("POST", "/api/v1/lines/peer/close", `{"reason":"Personalmöte"}`, &st); code != 200 {
		t.Fatalf("close: %d", code)
	}
	if st.State != hours.Closed || st.Reason != hours.ReasonOffice || !strings.Contains(st.Text, "Personalmöte") {
		t.Fatalf("after close: %+v", st)
	}
	var v struct {
		ID     string
		Status hours.Status
	}
	e.do("GET", "/api/v1/lines/peer", "", &v)
	if v.ID != "peer" || v.Status.Reason != hours.ReasonOffice || v.Status.Override.By != "kansliet" {
		t.Fatalf("GET line: %+v", v)
	}

	until := "2026-11-23T18:00:00+01:00"
	st = hours.Status{}
	if code := e.do("POST", "/api/v1/lines/peer/open", `{"reason":"Extra kväll","until":"`+until+`"}`, &st); code != 200 ||
		st.State != hours.Open || st.ClosesAt.Format(time.RFC3339) != until {
		t.Fatalf("open: %d %+v", code, st)
	}
	e.clock.Set(time.Date(2026, 11, 23, 16, 30, 0, 0, time.UTC)) // 17:30 local
	if e.do("GET", "/api/v1/lines/peer", "", &v); v.Status.State != hours.Open {
		t.Fatalf("17:30 with the evening opening: %+v", v.Status)
	}
	st = hours.Status{}
	if code := e.do("DELETE", "/api/v1/lines/peer/override", "", &st); code != 200 || st.State != hours.Closed || st.Reason != hours.ReasonHours {
		t.Fatalf("delete override: %d %+v", code, st)
	}

	var list struct{ Lines []struct{ ID string } }
	if e.do("GET", "/api/v1/lines", "", &list); len(list.Lines) != 1 || list.Lines[0].ID != "peer" {
		t.Errorf("lines = %+v", list)
	}

	var log struct{ Entries []audit.Entry }
	e.do("GET", "/api/v1/audit", "", &log)
	want := []string{"line.override.delete", "line.open", "line.close", "token.create"}
	if len(log.Entries) != len(want) {
		t.Fatalf("audit: %+v", log.Entries)
	}
	for i, a := range want {
		got := log.Entries[i]
		if got.Action != a {
			t.Errorf("audit[%d] = %s, want %s", i, got.Action, a)
		}
		if a != "token.create" && (got.Actor.Name != "kansliet" || got.Actor.Kind != "token" || got.Actor.Remote != "127.0.0.1") {
			t.Errorf("audit[%d] actor = %+v", i, got.Actor)
		}
	}
	var page struct {
		Entries    []audit.Entry
		NextBefore uint64 `json:"next_before"`
	}
	e.do("GET", "/api/v1/audit?limit=2", "", &page)
	if len(page.Entries) != 2 || page.NextBefore != page.Entries[1].ID {
		t.Errorf("audit page: %+v", page)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed", "POST", "/api/v1/lines/peer/close", `{"reason":`, 400, "invalid_json", ""},
		{"syntax", "POST", "/api/v1/lines/peer/close", `{"reason" "x"}`, 400, "invalid_json", ""},
		{"two objects", "POST", "/api/v1/lines/peer/close", `{"reason":"a"}{}`, 400, "invalid_json", ""},
		{"unknown field", "POST", "/api/v1/lines/peer/close", `{"reason":"a","untill":"x"}`, 400, "unknown_field", "untill"},
		{"wrong type", "POST", "/api/v1/lines/peer/close", `{"reason":5}`, 400, "invalid_field", "reason"},
		{"bad until", "POST", "/api/v1/lines/peer/close", `{"reason":"a","until":"tomorrow"}`, 400, "invalid_field", "until"},
		{"past until", "POST", "/api/v1/lines/peer/close", `{"reason":"a","until":"2026-11-23T10:00:00+01:00"}`, 400, "invalid_field", "until"},
		{"no reason", "POST", "/api/v1/lines/peer/close", `{}`, 400, "invalid_field", "reason"},
		{"not an object", "POST", "/api/v1/lines/peer/open", `[1]`, 400, "invalid_field", ""},
		{"unknown line", "POST", "/api/v1/lines/nope/close", `{"reason":"a"}`, 404, "not_found", ""},
		{"unknown line get", "GET", "/api/v1/lines/nope", ``, 404, "not_found", ""},
		{"unknown route", "GET", "/api/v1/nothing", ``, 404, "not_found", ""},
		{"bad limit", "GET", "/api/v1/audit?limit=abc", ``, 400, "invalid_field", "limit"},
		{"wrong method", "PUT", "/api/v1/lines/peer/close", `{}`, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var eb errorBody
			code := e.do(tt.method, tt.path, tt.body, &eb)
			if code != tt.status || eb.Error.Code != tt.code || eb.Error.Field != tt.field || eb.Error.Message == "" {
				t.Errorf("%d %+v, want %d %s field %q", code, eb.Error, tt.status, tt.code, tt.field)
			}
			if tt.field != "" && !strings.HasPrefix(eb.Error.Message, tt.field+":") {
				t.Errorf("message %q does not start with the field", eb.Error.Message)
			}
		})
	}
	var st hours.Status
	if e.do("GET", "/api/v1/lines/peer", "", &struct{ Status *hours.Status }{&st}); st.State != hours.Open || st.Override != nil {
		t.Errorf("bad requests changed the line: %+v", st)
	}
	var log struct{ Entries []audit.Entry }
	if e.do("GET", "/api/v1/audit", "", &log); len(log.Entries) != 1 {
		t.Errorf("bad requests were audited: %+v", log.Entries)
	}
}

func TestTokensAreRequired(t *testing.T) {
	e := newEnv(t)
	for _, tok := range []string{"", "pl_wrong", e.token + "x"} {
		var eb errorBody
		if code := e.doWith(tok, "POST", "/api/v1/lines/peer/close", `{"reason":"x"}`, &eb); code != 401 || eb.Error.Code != "unauthorized" {
			t.Errorf("token %q: %d %+v", tok, code, eb)
		}
	}
	req, _ := http.NewRequest("GET", e.url+"/api/v1/lines", nil)
	req.Header.Set("Authorization", "Basic eDp5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("basic auth: %d %v", res.StatusCode, res.Header)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	var h map[string]string
	if code := e.doWith("", "GET", "/healthz", "", &h); code != 200 || h["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, h)
	}
	metrics := func() string {
		res, err := http.Get(e.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if m := metrics(); !strings.Contains(m, `peerline_line_open{line="peer"} 1`) ||
		!strings.Contains(m, `peerline_line_status{line="peer",reason="hours",state="open"} 1`) {
		t.Errorf("open line metrics:\n%s", grep(m, "peerline_"))
	}
	e.do("POST", "/api/v1/lines/peer/close", `{"reason":"x"}`, nil)
	if m := metrics(); !strings.Contains(m, `peerline_line_open{line="peer"} 0`) ||
		!strings.Contains(m, `peerline_http_requests_total{method="POST",route="/api/v1/lines/:line/close",status="OK"} 1`) {
		t.Errorf("closed line metrics:\n%s", grep(m, "peerline_"))
	}
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
