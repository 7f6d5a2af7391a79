package web_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/line/linetest"
	"github.com/peerline/peerline/web"
	bolt "go.etcd.io/bbolt"
)

// browser is an HTTP client with cookies, as a browser uses the office pages.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string // the last page's form token
}

func newBrowser(t *testing.T, e *env) *browser { return newBrowserFrom(t, e, "127.0.0.1") }

// newBrowserFrom is a browser whose connections come from ip (on 127.0.0.0/8).
func newBrowserFrom(t *testing.T, e *env, ip string) *browser {
	if _, err := e.users.CheckPassword(officeUser, officePassword); err != nil {
		e.addOfficeUser()
	}
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, Transport: &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and remembers its form token.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	res, err := b.c.Get(b.e.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfInput.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(body)
}

// post sends a form with the page's token (unless form sets csrf itself); for a
// redirect it returns the Location.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	res, err := b.c.PostForm(b.e.url+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(body)
}

func (b *browser) login(user, password string) (int, string) {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"user": {user}, "password": {password}})
}

func TestPagesNeedALogIn(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	for _, p := range []string{"/", "/linjen", "/schema", "/agenter", "/statistik", "/logg", "/linjer/peer/samtal.csv"} {
		if code, loc := b.get(p); code != http.StatusSeeOther || loc != "/login" {
			t.Errorf("%s without a session: %d %s", p, code, loc)
		}
	}
	if code, _ := b.post("/linjen/peer/stang", url.Values{"reason": {"x"}}); code != http.StatusUnauthorized {
		t.Errorf("a form without a session: %d", code)
	}
	if code, body := b.get("/login"); code != 200 || !strings.Contains(body, "Logga in") || !strings.Contains(body, `lang="sv"`) {
		t.Errorf("log-in page: %d", code)
	}
}

func TestLogInCloseAndOpenTheLine(t *testing.T) {
	e := newEnv(t)
	threeCalls(t, e) // leaves the line closed by the office
	e.do("DELETE", "/api/v1/lines/peer/override", "", nil)
	b := newBrowser(t, e)
	if code, loc := b.login(officeUser, officePassword); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("log-in: %d %s", code, loc)
	}
	code, body := b.get("/linjen")
	if code != 200 || !strings.Contains(body, "Öppen") || !strings.Contains(body, "Stäng linjen") {
		t.Fatalf("Linjen: %d\n%s", code, body)
	}
	code, loc := b.post("/linjen/peer/stang", url.Values{"reason": {"Personalmöte"}, "until": {"2026-11-23T16:00"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/linjen?") {
		t.Fatalf("close: %d %s", code, loc)
	}
	if _, body = b.get(loc); !strings.Contains(body, "Stängd") || !strings.Contains(body, "Personalmöte") || !strings.Contains(body, "Linjen är stängd.") {
		t.Errorf("after closing:\n%s", body)
	}
	var audit struct {
		Entries []struct {
			Action string
			Actor  struct{ Kind, Name string }
		}
	}
	e.do("GET", "/api/v1/audit?limit=1", "", &audit)
	if a := audit.Entries[0]; a.Action != "line.close" || a.Actor.Kind != "user" || a.Actor.Name != officeUser {
		t.Errorf("audit: %+v", audit.Entries)
	}
	b.post("/linjen/peer/schema", url.Values{})
	if _, body = b.get("/linjen"); !strings.Contains(body, "Öppen") {
		t.Error("back to the schedule did not open the line")
	}
	for _, p := range []string{"/schema", "/agenter", "/statistik", "/statistik?by=hour", "/logg", "/linjen/live?line=peer"} {
		code, body := b.get(p)
		if code != 200 || strings.Contains(body, "701234567") {
			t.Errorf("%s: %d (or a caller's number)", p, code)
		}
	}
	if _, body = b.get("/statistik?from=2026-11-23&to=2026-11-23"); !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, `<dd id="calls">3</dd>`) ||
		!strings.Contains(body, "<caption>Typ av samtal</caption>") || !strings.Contains(body, "stöd <small>(tangent 1)</small>") {
		t.Errorf("Statistik:\n%s", body)
	}
	if code, body = b.get("/linjer/peer/samtal.csv?from=2026-11-23"); code != 200 || !strings.HasPrefix(body, "id,start") || strings.Contains(body, "701234567") {
		t.Errorf("CSV with a session: %d %s", code, body)
	}
	if code, loc = b.post("/logout", url.Values{}); code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("log-out: %d %s", code, loc)
	}
	if code, _ = b.get("/linjen"); code != http.StatusSeeOther {
		t.Error("the session outlived the log-out")
	}
}

func TestFormsWithoutTheirTokenAreRefused(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	b.get("/linjen")
	for _, tok := range []string{"", "forged"} {
		if code, body := b.post("/linjen/peer/stang", url.Values{"reason": {"x"}, "csrf": {tok}}); code != http.StatusForbidden || !strings.Contains(body, "bad_csrf") {
			t.Errorf("csrf %q: %d %s", tok, code, body)
		}
	}
	var got struct {
		Status struct{ State string }
	}
	if e.do("GET", "/api/v1/lines/peer", "", &got); got.Status.State != "open" {
		t.Errorf("a refused form changed the line: %s", got.Status.State)
	}
	// The log-in form has its own token.
	other := newBrowser(t, e)
	if code, _ := other.post("/login", url.Values{"user": {officeUser}, "password": {officePassword}, "csrf": {"x"}}); code != http.StatusForbidden {
		t.Errorf("a log-in without the form's token: %d", code)
	}
}

func TestWrongPasswordsAreSlowedDown(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	for i := range 5 {
		if code, body := b.login(officeUser, "fel-lösenord"); code != http.StatusUnauthorized || !strings.Contains(body, "Fel användarnamn eller lösenord") {
			t.Fatalf("wrong password %d: %d", i+1, code)
		}
	}
	if code, body := b.login(officeUser, officePassword); code != http.StatusTooManyRequests || !strings.Contains(body, "För många") {
		t.Fatalf("the right password after five wrong ones: %d", code)
	}
	e.clock.Advance(29 * time.Second)
	if code, _ := b.login(officeUser, officePassword); code != http.StatusTooManyRequests {
		t.Errorf("after 29 s: %d", code)
	}
	e.clock.Advance(time.Second)
	if code, _ := b.login(officeUser, "fel-igen"); code != http.StatusUnauthorized {
		t.Errorf("after 30 s a try is heard: %d", code)
	}
	e.clock.Advance(59 * time.Second) // the sixth failure doubled the pause
	if code, _ := b.login(officeUser, officePassword); code != http.StatusTooManyRequests {
		t.Errorf("59 s after the sixth failure: %d", code)
	}
	e.clock.Advance(time.Second)
	if code, loc := b.login(officeUser, officePassword); code != http.StatusSeeOther || loc != "/" {
		t.Errorf("after the pause, the right password: %d %s", code, loc)
	}
	// A guesser moving to another user name from the same address is slowed too.
	for range 5 {
		b.login("nobody", "x")
	}
	if code, _ := b.login(officeUser, officePassword); code != http.StatusTooManyRequests {
		t.Errorf("from an address with five failures: %d", code)
	}
}

// TestNobodyElsewhereLocksAUserOut: wrong passwords for a user from another
// address pause that address, not the user; guessing from many addresses meets
// the global limit, which still lets the user in from where they logged in before.
func TestNobodyElsewhereLocksAUserOut(t *testing.T) {
	e := newEnv(t)
	office := newBrowser(t, e)
	if code, _ := office.login(officeUser, officePassword); code != http.StatusSeeOther {
		t.Fatalf("log-in: %d", code)
	}
	stranger := newBrowserFrom(t, e, "127.0.0.5")
	for range 20 {
		stranger.login(officeUser, "gissning")
	}
	if code, _ := stranger.login(officeUser, officePassword); code != http.StatusTooManyRequests {
		t.Errorf("the guessing address is not paused: %d", code)
	}
	if code, _ := newBrowser(t, e).login(officeUser, officePassword); code != http.StatusSeeOther {
		t.Fatalf("the user was locked out by a stranger: %d", code)
	}
	// Many addresses, one guess each: the global budget runs out.
	for i := range 60 {
		newBrowserFrom(t, e, fmt.Sprintf("127.0.1.%d", i+1)).login(officeUser, "gissning")
	}
	if code, _ := newBrowserFrom(t, e, "127.0.2.1").login(officeUser, officePassword); code != http.StatusTooManyRequests {
		t.Errorf("a new address while the global budget is spent: %d", code)
	}
	if code, _ := newBrowser(t, e).login(officeUser, officePassword); code != http.StatusSeeOther {
		t.Errorf("the user's own address while the global budget is spent: %d", code)
	}
	e.clock.Advance(10 * time.Second)
	if code, _ := newBrowserFrom(t, e, "127.0.2.1").login(officeUser, officePassword); code != http.StatusSeeOther {
		t.Errorf("a new address once the budget refilled: %d", code)
	}
}

// A bad date in a page's query sends the page back without it, saying why.
func TestABadDateOnAPageSaysWhy(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	code, loc := b.get("/statistik?from=igår")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/statistik?") || !strings.Contains(loc, "fel=") {
		t.Fatalf("a bad date: %d %s", code, loc)
	}
	code, body := b.get(loc)
	if code != http.StatusOK || !strings.Contains(body, "Datumet ska skrivas som 2026-11-23") || !strings.Contains(body, "Ringde") {
		t.Errorf("the page after a bad date: %d\n%s", code, body)
	}
}

// TestLinjenSaysWhenAnAgentCannotBeRung: an agent whose phone could not even
// be called is marked on Linjen, with the reason, and no number.
func TestLinjenSaysWhenAnAgentCannotBeRung(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`, nil)
	e.do("POST", "/api/v1/agents/klara/login", "", nil)
	c := linetest.NewCall("u1", "+46701234567")
	c.Answerer = func(context.Context, line.Target, line.DialOptions) (*linetest.Call, error) {
		return nil, fmt.Errorf("%w: agent klara: SIP URI: no host in sip:+46701740605@", line.ErrUnreachable)
	}
	done := make(chan error, 1)
	go func() { done <- e.lines.Handle(context.Background(), "peer", c) }()
	for i := 0; i < 2000; i++ { // one attempt is enough
		if p, _ := e.lines.AgentPresence("klara"); p.Missed > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.CallerHangsUp()
	<-done
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	_, body := b.get("/linjen/live?line=peer")
	if !strings.Contains(body, "går inte att ringa") || !strings.Contains(body, "SIP URI") || strings.Contains(body, "1740605") {
		t.Errorf("Linjen:\n%s", body)
	}
}

// TestLinjenSaysWhatThePBXCannotDo: with 46elks, Linjen lists what the line
// loses (Deps.Limits), outside the live part.
func TestLinjenSaysWhatThePBXCannotDo(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	if _, body := b.get("/linjen?line=peer"); !strings.Contains(body, "Det här går inte med 46elks") || !strings.Contains(body, testLimit) {
		t.Errorf("Linjen:\n%s", body)
	}
}

// TestLinjenWarnsWhileTheTrunkIsNotRegistered: the office sees at once that
// calls to the line's number may not arrive, and /healthz says why.
func TestLinjenWarnsWhileTheTrunkIsNotRegistered(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	e.trunk.Store(&trunkState{ok: true})
	if _, body := b.get("/linjen/live?line=peer"); strings.Contains(body, "inte registrerad") {
		t.Error("a warning while registered")
	}
	e.trunk.Store(&trunkState{detail: "trunk registration failed: 401 Unauthorized"})
	if _, body := b.get("/linjen/live?line=peer"); !strings.Contains(body, "Linjen är inte registrerad hos operatören") {
		t.Errorf("no warning:\n%s", body)
	}
	var h map[string]string
	if code := e.do("GET", "/healthz", "", &h); code != 200 || h["trunk"] != "not registered" || !strings.Contains(h["trunk_detail"], "401") {
		t.Errorf("healthz: %d %v", code, h)
	}
}

// TestASickReportTakenBackOnSchema: Schema offers "Ta tillbaka" beside a sick
// report; taking it back makes the day covered again.
func TestASickReportTakenBackOnSchema(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	if code := e.do("PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["tue"]}]}`, nil); code != 200 {
		t.Fatalf("schedule: %d", code)
	}
	if code := e.do("POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"2026-11-24"}`, nil); code != 201 {
		t.Fatalf("sick: %d", code)
	}
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	if _, page := b.get("/schema"); !strings.Contains(page, `Ta tillbaka sjukanmälan för Klara 2026-11-24`) {
		t.Fatalf("Schema has no way to take the sick report back:\n%s", page)
	}
	form := url.Values{"kind": {"sick"}, "agent": {"klara"}, "date": {"2026-11-24"}}
	if code, loc := b.post("/schema/peer/ta-tillbaka", form); code != http.StatusSeeOther || !strings.Contains(loc, "ok=") {
		t.Fatalf("take back: %d %s", code, loc)
	}
	var days struct {
		Days []struct {
			Date      string   `json:"date"`
			Sick      []string `json:"sick"`
			Uncovered bool     `json:"uncovered"`
		} `json:"days"`
	}
	e.do("GET", "/api/v1/lines/peer/roster?from=2026-11-24&to=2026-11-24", "", &days)
	if len(days.Days) != 1 || len(days.Days[0].Sick) != 0 || days.Days[0].Uncovered {
		t.Errorf("the day after taking the report back: %+v", days)
	}
	if code, loc := b.post("/schema/peer/ta-tillbaka", form); code != http.StatusSeeOther || !strings.Contains(loc, "fel=") {
		t.Errorf("taking it back twice: %d %s", code, loc)
	}
}

// TestLoggInWordsAndFiltered: Logg says what happened in Swedish sentences,
// and filters by the kind of actor and by name.
func TestLoggInWordsAndFiltered(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	e.do("PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["tue"]}]}`, nil)
	e.do("POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"2026-11-24"}`, nil)
	e.do("POST", "/api/v1/lines/peer/close", `{"reason":"Personalmöte"}`, nil)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	_, page := b.get("/logg")
	for _, want := range []string{"API-nyckeln kansliet", "sjukanmälde Klara för 2026-11-24", "stängde linjen: Personalmöte till 2026-11-24 00:00",
		"lade till agenten Klara", "ändrade veckoschemat"} {
		if !strings.Contains(page, want) {
			t.Errorf("Logg lacks %q", want)
		}
	}
	if _, page = b.get("/logg?typ=user"); strings.Contains(page, "API-nyckeln kansliet") {
		t.Error("the filter by kind lets tokens' entries through")
	}
	if _, page = b.get("/logg?vem=nobody"); !strings.Contains(page, "Inget att visa.") {
		t.Error("the filter by name shows entries of others")
	}
}

// TestLinjenShowsTheDayAsPlanned: beside who is logged in, Linjen shows who
// is expected today, who of them is not logged in, who is logged in without a
// shift, and the warnings that need someone.
func TestLinjenShowsTheDayAsPlanned(t *testing.T) {
	e := newEnv(t) // Monday 23 November, 13:00
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	e.do("POST", "/api/v1/agents", `{"id":"jim","name":"Jim","phone":"070-174 06 06"}`, nil)
	e.do("PUT", "/api/v1/lines/peer/schedule", `{"shifts":[{"agent":"klara","days":["mon"]}]}`, nil)
	if code := e.do("POST", "/api/v1/agents/jim/login", "", nil); code != 200 {
		t.Fatalf("log-in: %d", code)
	}
	e.notices.list = []web.Notice{{ID: "m1", Status: "failed", To: "Kansliet", Channel: "sms"}}
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	_, page := b.get("/linjen")
	for _, want := range []string{"I dag enligt schemat", "Förväntade: Klara", `id="absent">Inte inloggade: Klara`,
		`id="extra">Inloggade utan pass i dag: Jim`, "1 meddelande till personer har inte gått fram"} {
		if !strings.Contains(page, want) {
			t.Errorf("Linjen lacks %q", want)
		}
	}
	e.do("POST", "/api/v1/lines/peer/sick", `{"agent":"klara","date":"2026-11-23"}`, nil)
	if _, page = b.get("/linjen/live?line=peer"); !strings.Contains(page, "sjuka: Klara") || !strings.Contains(page, `id="uncovered"`) {
		t.Errorf("a sick report today is not on Linjen:\n%s", page)
	}
	if strings.Contains(page, "+4670") {
		t.Error("Linjen shows a number")
	}
}

// TestIncidentsOnLinjen: a flagged call waits on Linjen under "Att följa
// upp" until the office has contacted the agent and closed it; a note with a
// number is refused; the API lists and moves incidents.
func TestIncidentsOnLinjen(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	// As line writes it when a call cut with the safety key ends (line's own
	// test covers that; the SIP e2e test the whole way).
	if err := e.db.Update(func(tx *bolt.Tx) error {
		return storage.Put(tx.Bucket([]byte("line.incidents")), []byte("c1"),
			line.Incident{ID: "c1", Line: "peer", Agent: "klara", Start: monday1300, Reason: "safety", State: line.IncidentNew})
	}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	if _, page := b.get("/statistik?from=2026-11-23&to=2026-11-23"); !strings.Contains(page, `<dd id="incidents">1 (1 ej avslutade)</dd>`) {
		t.Errorf("Statistik does not count the incident")
	}
	if _, page := b.get("/linjen"); !strings.Contains(page, "Att följa upp (1)") || !strings.Contains(page, "<strong>Klara</strong>, samtal 2026-11-23 13:00: säkerhetsknappen") {
		t.Fatalf("Linjen:\n%s", page)
	}
	if code, loc := b.post("/linjen/uppfoljning/c1", url.Values{"state": {"kontaktad"}, "note": {"ring 0701234567"}}); code != http.StatusSeeOther || !strings.Contains(loc, "fel=") {
		t.Errorf("a note with a number: %d %s", code, loc)
	}
	b.post("/linjen/uppfoljning/c1", url.Values{"state": {"kontaktad"}, "note": {"Pratade med Klara"}})
	var out struct{ Incidents []line.Incident }
	if e.do("GET", "/api/v1/incidents?state=kontaktad", "", &out); len(out.Incidents) != 1 || out.Incidents[0].Handler != officeUser || out.Incidents[0].Note != "Pratade med Klara" {
		t.Errorf("after contact: %+v", out)
	}
	var in line.Incident
	if code := e.do("PATCH", "/api/v1/incidents/c1", `{"state":"avslutad"}`, &in); code != 200 || in.State != "avslutad" || in.Note != "Pratade med Klara" {
		t.Errorf("closed by the API: %d %+v", code, in)
	}
	if _, page := b.get("/linjen"); strings.Contains(page, "Att följa upp") {
		t.Error("a closed incident is still on Linjen")
	}
	if code := e.do("PATCH", "/api/v1/incidents/nope", `{"state":"avslutad"}`, nil); code != 404 {
		t.Errorf("an unknown incident: %d", code)
	}
}

// TestSamtal: the day's calls in words (outcome, wait, talk, agent, how it
// ended, wrap-up answers by their labels), newest first, filtered by agent and
// outcome; never a number.
func TestSamtal(t *testing.T) {
	e := newEnv(t)
	threeCalls(t, e) // two with nobody logged in, one while closed
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	r := line.Record{ID: "c4", Line: "peer", Start: monday1300.Add(30 * time.Minute), Outcome: line.OutcomeAnswered,
		Agent: "klara", Wait: 12, Talk: 605, Ended: "limit", LimitHit: true,
		Wrapup:   &line.Wrapup{Answers: map[string]string{"call_type": "stod", "referred": "ja"}, Filled: true},
		Referral: &line.Referred{Key: "*1", Name: "Självmordslinjen", Mode: "warm", Answered: true, Seconds: 300}}
	putRecord(t, e, r)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	code, page := b.get("/samtal")
	if code != 200 {
		t.Fatalf("Samtal: %d", code)
	}
	for _, want := range []string{"besvarade", "10 min 05 s – nådde tidsgränsen", "12 s", "Klara", "tidsgränsen",
		"Typ av samtal: stöd, Hänvisad vidare: ja", "ingen inloggad", "linjen stängd", "hänvisad till Självmordslinjen (svarade)"} {
		if !strings.Contains(page, want) {
			t.Errorf("Samtal lacks %q", want)
		}
	}
	table := func(page string) string { _, rows, _ := strings.Cut(page, "<tbody>"); return rows }
	if rows := table(page); strings.Index(rows, "Klara") > strings.Index(rows, "ingen inloggad") {
		t.Error("the newest call is not first")
	}
	if _, page = b.get("/samtal?agent=klara"); strings.Contains(table(page), "ingen inloggad") {
		t.Error("the agent filter lets other calls through")
	}
	if _, page = b.get("/samtal?utfall=closed"); strings.Contains(table(page), "Klara") || !strings.Contains(table(page), "linjen stängd") {
		t.Error("the outcome filter")
	}
	if strings.Contains(page, "701234567") {
		t.Error("Samtal shows the caller's number")
	}
	if _, page = b.get("/statistik?from=2026-11-23&to=2026-11-23"); !strings.Contains(page, "<td>Självmordslinjen</td><td>1 (1 svarade)</td>") {
		t.Error("Statistik does not count the referral")
	}
	if _, csv := b.get("/linjer/peer/samtal.csv?from=2026-11-23&to=2026-11-23"); !strings.Contains(csv, ",Självmordslinjen,warm,yes,") {
		t.Errorf("the calls CSV lacks the referral:\n%s", csv)
	}
}

// TestWeeklyScheduleOnSchema: the office adds, edits and removes shifts on the
// page; a mistake shows the form again as typed; an edit from a page drawn
// before someone else's change is refused instead of overwriting it; the
// no-cover rule looks at today again (Monday 13:00, after the deadline).
func TestWeeklyScheduleOnSchema(t *testing.T) {
	e := newEnv(t) // Monday 23 November 2026, 13:00
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	e.do("POST", "/api/v1/agents", `{"id":"jim","name":"Jim","phone":"070-174 06 06"}`, nil)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	_, page := b.get("/schema")
	version := regexp.MustCompile(`name="version" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if version == nil || !strings.Contains(page, "Linjen har inget veckoschema") {
		t.Fatalf("Schema without a weekly schedule:\n%s", page)
	}
	add := url.Values{"version": {version[1]}, "index": {"-1"}, "do": {"spara"}, "agent": {"klara"},
		"dag": {"mon", "wed"}, "from": {"2026-11-01"}}
	if code, loc := b.post("/schema/peer/veckoschema", add); code != http.StatusSeeOther || !strings.Contains(loc, "ok=") {
		t.Fatalf("add a shift: %d %s", code, loc)
	}
	if st := e.status(); st.State != hours.Open {
		t.Errorf("Klara works Mondays: the line is %s", st.State)
	}

	// A shift without a day: the form again with the agent and the date kept.
	_, page = b.get("/schema")
	version = regexp.MustCompile(`name="version" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	bad := url.Values{"version": {version[1]}, "index": {"-1"}, "do": {"spara"}, "agent": {"jim"}, "from": {"2026-12-01"}}
	code, page := b.post("/schema/peer/veckoschema", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Kryssa i minst en veckodag.") ||
		!strings.Contains(page, `value="2026-12-01"`) || !strings.Contains(page, `<option value="jim" selected>`) {
		t.Errorf("a shift without days: %d\n%s", code, page)
	}
	bad.Set("from", "1 dec")
	bad["dag"] = []string{"fri"}
	if code, page = b.post("/schema/peer/veckoschema", bad); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Datumet ska skrivas som 2026-11-23.") || !strings.Contains(page, `value="1 dec"`) {
		t.Errorf("a bad date: %d", code)
	}

	// Klara stops working Mondays: today is uncovered after the deadline and closes.
	edit := url.Values{"version": {version[1]}, "index": {"0"}, "do": {"spara"}, "agent": {"klara"}, "dag": {"wed"}, "from": {"2026-11-01"}}
	if code, loc := b.post("/schema/peer/veckoschema", edit); code != http.StatusSeeOther || !strings.Contains(loc, "ok=") {
		t.Fatalf("edit: %d %s", code, loc)
	}
	if st := e.status(); st.State != hours.Closed || st.Reason != hours.ReasonNoCover {
		t.Errorf("after Monday left the schedule: %+v", st)
	}
	// The same page, posted again: its version is old now.
	edit["dag"] = []string{"thu"}
	if code, loc := b.post("/schema/peer/veckoschema", edit); code != http.StatusSeeOther || !strings.Contains(loc, "fel=") {
		t.Errorf("an edit from an old page: %d %s", code, loc)
	}
	var sched struct {
		Shifts []struct{ Days []string }
	}
	if e.do("GET", "/api/v1/lines/peer/schedule", "", &sched); len(sched.Shifts) != 1 || strings.Join(sched.Shifts[0].Days, ",") != "wed" {
		t.Errorf("schedule: %+v", sched)
	}
	_, page = b.get("/schema")
	version = regexp.MustCompile(`name="version" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	// A crafted removal of the new-shift form removes (or adds) nothing.
	crafted := url.Values{"version": {version[1]}, "index": {"-1"}, "do": {"ta-bort"}, "agent": {"jim"}, "dag": {"sat"}}
	if code, _ := b.post("/schema/peer/veckoschema", crafted); code != http.StatusUnprocessableEntity {
		t.Errorf("removing the new form's shift: %d", code)
	}
	remove := url.Values{"version": {version[1]}, "index": {"0"}, "do": {"ta-bort"}}
	if code, loc := b.post("/schema/peer/veckoschema", remove); code != http.StatusSeeOther || !strings.Contains(loc, "ok=") {
		t.Fatalf("remove: %d %s", code, loc)
	}
	if st := e.status(); st.State != hours.Open {
		t.Errorf("a line without a schedule does not close for want of cover: %+v", st)
	}
	if _, page = b.get("/logg"); !strings.Contains(page, "ändrade veckoschemat för Klara") {
		t.Error("Logg does not say whose shifts changed")
	}
}

func (e *env) status() hours.Status {
	e.t.Helper()
	st, err := e.lines.Status("peer")
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// TestAWrapupFilledOnSamtal: an answered call without its wrap-up (46elks
// ends the agent's leg with the call) gets a form on Samtal; the office fills
// it from what the agent says, a follow-up answer opens an incident, Logg says
// who did it, and the form is gone (a second one is refused).
func TestAWrapupFilledOnSamtal(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05"}`, nil)
	r := line.Record{ID: "c9", Line: "peer", Start: monday1300.Add(45 * time.Minute), Outcome: line.OutcomeAnswered,
		Agent: "klara", Talk: 300, Ended: "agent"}
	putRecord(t, e, r)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	_, page := b.get("/samtal")
	if !strings.Contains(page, "Spara efterarbetet") || !strings.Contains(page, `name="q_office_contact"`) {
		t.Fatalf("no wrap-up form on Samtal:\n%s", page)
	}
	form := url.Values{"start": {r.Start.UTC().Format(time.RFC3339Nano)}, "day": {"2026-11-23"},
		"q_call_type": {"kris"}, "q_office_contact": {"ja"}, "q_referred": {""}}
	if code, to := b.post("/samtal/peer/efterarbete/c9", form); code != 303 || !strings.Contains(to, "ok=") {
		t.Fatalf("fill: %d %s", code, to)
	}
	_, page = b.get("/samtal?from=2026-11-23")
	if !strings.Contains(page, "Typ av samtal: kris, Kansliet ska kontakta mig: ja") || strings.Contains(page, "Spara efterarbetet") {
		t.Errorf("Samtal after the form:\n%s", page)
	}
	if _, page := b.get("/linjen"); !strings.Contains(page, "Att följa upp") {
		t.Error("the follow-up answer opened no incident")
	}
	if _, page := b.get("/logg"); !strings.Contains(page, "fyllde i efterarbetet för Klaras samtal") {
		t.Errorf("Logg:\n%s", page)
	}
	refused := func(id, what, want string) {
		t.Helper()
		_, to := b.post("/samtal/peer/efterarbete/"+id, form)
		u, _ := url.Parse(to)
		if got := u.Query().Get("fel"); got != want {
			t.Errorf("%s: fel=%q, want %q", what, got, want)
		}
	}
	refused("c9", "a second fill", "Efterarbetet är redan ifyllt, eller samtalet besvarades inte.")
	refused("nope", "an unknown call", "Det finns inte (längre).")
	form.Set("q_call_type", "påhittat")
	refused("c9", "an answer that is none", "Välj ett av frågans svar.")
	form.Set("q_call_type", "kris")
	form.Set("q_nope", "ja")
	refused("c9", "a question that is none", "Frågan finns inte (längre) i efterarbetet.")
	form.Del("q_nope")

	// An agent cut off halfway through the form by phone: what they answered stays.
	half := line.Record{ID: "c10", Line: "peer", Start: monday1300.Add(50 * time.Minute), Outcome: line.OutcomeAnswered,
		Agent: "klara", Talk: 60, Ended: "caller", Wrapup: &line.Wrapup{Answers: map[string]string{"call_type": "stod"}}}
	putRecord(t, e, half)
	form = url.Values{"start": {half.Start.UTC().Format(time.RFC3339Nano)}, "day": {"2026-11-23"}, "q_referred": {"nej"}}
	if _, to := b.post("/samtal/peer/efterarbete/c10", form); !strings.Contains(to, "ok=") {
		t.Fatalf("fill c10: %s", to)
	}
	if _, page := b.get("/samtal?from=2026-11-23"); !strings.Contains(page, "Typ av samtal: stöd, Hänvisad vidare: nej") {
		t.Errorf("the phone's answer was lost:\n%s", page)
	}
}

// putRecord stores a call's record as line writes it.
func putRecord(t *testing.T, e *env, r line.Record) {
	t.Helper()
	if err := e.db.Update(func(tx *bolt.Tx) error {
		key := append(binary.BigEndian.AppendUint64(nil, uint64(r.Start.UnixNano())), r.ID...)
		return storage.Put(tx.Bucket([]byte("line.calls")), key, r)
	}); err != nil {
		t.Fatal(err)
	}
}
