package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/peerline/peerline/web/auth"
)

const (
	adminUser     = "anna"
	adminPassword = "anna-har-ett-långt-lösen"
)

func (e *env) adminToken() string {
	e.t.Helper()
	tok, err := e.users.CreateToken(context.Background(), "drift", auth.RoleAdmin)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// Users and tokens over the API: an admin's token only; no hash, ever; the
// last admin stays.
func TestUsersAPI(t *testing.T) {
	e := newEnv(t)
	e.addOfficeUser()
	admin := e.adminToken()
	for _, path := range []string{"/api/v1/users", "/api/v1/tokens"} {
		if code, body := e.raw(e.token, "GET", path, ""); code != http.StatusForbidden || !strings.Contains(string(body), `"forbidden"`) {
			t.Errorf("an office token on %s: %d %s", path, code, body)
		}
	}
	var u struct{ Name, Role string }
	if code := e.doWith(admin, "POST", "/api/v1/users", `{"name":"anna","role":"admin","password":"`+adminPassword+`"}`, &u); code != http.StatusCreated || u.Role != "admin" {
		t.Fatalf("create: %d %+v", code, u)
	}
	for body, want := range map[string]string{
		`{"name":"bo","password":"kort"}`:                       `"field":"password"`,
		`{"name":"b o","password":"långt nog lösenord"}`:        `"field":"name"`,
		`{"name":"bo","role":"chef","password":"långt nog ja"}`: `"field":"role"`,
		`{"name":"bo","pasword":"x"}`:                           `"field":"pasword"`,
		`{"name":"anna","password":"långt nog lösenord"}`:       `"exists"`,
	} {
		if code, got := e.raw(admin, "POST", "/api/v1/users", body); code/100 != 4 || !strings.Contains(string(got), want) {
			t.Errorf("%s: %d %s", body, code, got)
		}
	}
	code, list := e.raw(admin, "GET", "/api/v1/users", "")
	if code != http.StatusOK || !strings.Contains(string(list), `"name":"anna"`) || !strings.Contains(string(list), `"name":"kansliet"`) || strings.Contains(string(list), "hash") || strings.Contains(string(list), "argon") {
		t.Errorf("list: %d %s", code, list)
	}
	if code, body := e.raw(admin, "PATCH", "/api/v1/users/kansliet", `{"password":"ett helt nytt lösen"}`); code != http.StatusOK {
		t.Errorf("new password: %d %s", code, body)
	}
	if _, err := e.users.CheckPassword(officeUser, "ett helt nytt lösen"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	if code, body := e.raw(admin, "PATCH", "/api/v1/users/anna", `{"role":"office"}`); code != http.StatusConflict || !strings.Contains(string(body), "last_admin") {
		t.Errorf("the last admin made office: %d %s", code, body)
	}
	if code, body := e.raw(admin, "DELETE", "/api/v1/users/anna", ""); code != http.StatusConflict {
		t.Errorf("the last admin removed: %d %s", code, body)
	}
	if code, _ := e.raw(admin, "DELETE", "/api/v1/users/kansliet", ""); code != http.StatusNoContent {
		t.Errorf("remove: %d", code)
	}
	if code, _ := e.raw(admin, "GET", "/api/v1/users/kansliet", ""); code != http.StatusNotFound {
		t.Errorf("a removed user: %d", code)
	}

	var tok struct{ Name, Role, Token string }
	if code := e.doWith(admin, "POST", "/api/v1/tokens", `{"name":"skript"}`, &tok); code != http.StatusCreated || tok.Role != "office" || !strings.HasPrefix(tok.Token, "pl_") {
		t.Fatalf("new token: %d %+v", code, tok)
	}
	if code, _ := e.raw(tok.Token, "GET", "/api/v1/lines", ""); code != http.StatusOK {
		t.Errorf("the new token does not work: %d", code)
	}
	code, list = e.raw(admin, "GET", "/api/v1/tokens", "")
	if code != http.StatusOK || !strings.Contains(string(list), `"name":"skript"`) || strings.Contains(string(list), tok.Token) {
		t.Errorf("tokens: %d %s", code, list)
	}
	if code, _ := e.raw(admin, "DELETE", "/api/v1/tokens/skript", ""); code != http.StatusNoContent {
		t.Errorf("revoke: %d", code)
	}
	if code, _ := e.raw(tok.Token, "GET", "/api/v1/lines", ""); code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d", code)
	}
	if code, _ := e.raw(admin, "DELETE", "/api/v1/tokens/skript", ""); code != http.StatusNotFound {
		t.Errorf("revoking twice: %d", code)
	}
}

// Användare is an admin's page: add a user, give a new password (which ends
// that user's session), change a role, remove; an office user does not get it.
func TestAdminManagesUsersOnThePage(t *testing.T) {
	e := newEnv(t)
	if err := e.users.AddUser(context.Background(), adminUser, auth.RoleAdmin, adminPassword); err != nil {
		t.Fatal(err)
	}
	office, later := newBrowser(t, e), newBrowser(t, e)
	office.login(officeUser, officePassword)
	if _, body := office.get("/linjen"); strings.Contains(body, `href="/anvandare"`) {
		t.Error("an office user sees Användare in the menu")
	}
	if code, loc := office.get("/anvandare"); code != http.StatusSeeOther || !strings.Contains(loc, "fel=") {
		t.Errorf("an office user on Användare: %d %s", code, loc)
	}
	if code, _ := office.post("/anvandare", url.Values{"name": {"x"}, "role": {"admin"}, "password": {"ett långt lösenord"}}); code != http.StatusForbidden {
		t.Errorf("an office user adding a user: %d", code)
	}

	a := newBrowser(t, e)
	a.login(adminUser, adminPassword)
	if _, body := a.get("/linjen"); !strings.Contains(body, `href="/anvandare"`) {
		t.Error("an admin has no Användare in the menu")
	}
	if _, loc := a.post("/anvandare", url.Values{"name": {"bo"}, "role": {"office"}, "password": {"kort"}}); !strings.Contains(mustUnescape(t, loc), "Lösenordet ska ha minst 10 tecken") {
		t.Errorf("a short password: %s", loc)
	}
	a.post("/anvandare", url.Values{"name": {"bo"}, "role": {"office"}, "password": {"bos-långa-lösenord"}})
	code, body := a.get("/anvandare")
	if code != http.StatusOK || !strings.Contains(body, `id="user-bo"`) || !strings.Contains(body, `id="user-kansliet"`) || strings.Contains(body, "argon") {
		t.Fatalf("Användare: %d\n%s", code, body)
	}
	a.post("/anvandare/kansliet/losenord", url.Values{"password": {"kansliets-nya-lösen"}})
	if code, _ := office.get("/linjen"); code != http.StatusSeeOther {
		t.Errorf("the office user's session outlived the new password: %d", code)
	}
	if code, _ := later.login(officeUser, "kansliets-nya-lösen"); code != http.StatusSeeOther {
		t.Errorf("log-in with the new password: %d", code)
	}
	if _, loc := a.post("/anvandare/anna/roll", url.Values{"role": {"office"}}); !strings.Contains(mustUnescape(t, loc), "minst en administratör") {
		t.Errorf("the last admin made office: %s", loc)
	}
	a.post("/anvandare/anna/losenord", url.Values{"password": {"annas-andra-lösen"}})
	if code, _ := a.get("/anvandare"); code != http.StatusOK {
		t.Errorf("the admin's own session after her new password: %d", code)
	}
	if _, loc := a.post("/anvandare/anna/ta-bort", url.Values{}); !strings.Contains(mustUnescape(t, loc), "dig själv") {
		t.Errorf("removing oneself: %s", loc)
	}
	a.post("/anvandare/bo/ta-bort", url.Values{})
	if _, body := a.get("/anvandare"); strings.Contains(body, `id="user-bo"`) {
		t.Error("bo is still there")
	}
	if _, err := e.users.CheckPassword("bo", "bos-långa-lösenord"); err == nil {
		t.Error("a removed user can log in")
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Ändra on Agenter: name, phone and lines; a bad phone says so in Swedish and
// changes nothing; an edit that keeps her line keeps her logged in.
func TestEditAnAgentOnThePage(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	b.login(officeUser, officePassword)
	var klara struct{ ID string }
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara Berg","phone":"070-111 22 33","lines":["peer"]}`, &klara)
	if code, body := e.raw(e.token, "POST", "/api/v1/agents/klara/login", `{"line":"peer"}`); code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	if _, body := b.get("/agenter"); !strings.Contains(body, `action="/agenter/klara"`) || !strings.Contains(body, `value="Klara Berg"`) {
		t.Fatalf("no edit form for Klara:\n%s", body)
	}
	_, loc := b.post("/agenter/klara", url.Values{"name": {"Klara B"}, "phone": {"nej"}, "lines": {"peer"}})
	if msg := mustUnescape(t, loc); !strings.Contains(msg, "Telefonnumret ska se ut som") {
		t.Errorf("a bad phone: %s", msg)
	}
	_, loc = b.post("/agenter/klara", url.Values{"name": {"Klara Berg Lind"}, "phone": {"070-111 22 44"}, "sip_uri": {"sip:klara@pbx.example"}})
	if msg := mustUnescape(t, loc); !strings.Contains(msg, "Välj minst en") {
		t.Errorf("no line: %s", msg)
	}
	var a struct {
		Name, Phone string
		SIPURI      string `json:"sip_uri"`
	}
	e.do("GET", "/api/v1/agents/klara", "", &a)
	if a.Name != "Klara Berg" || a.Phone != "+46701112233" {
		t.Errorf("a refused edit changed Klara: %+v", a)
	}
	b.post("/agenter/klara", url.Values{"name": {"Klara Berg Lind"}, "phone": {"070-111 22 44"}, "sip_uri": {"sip:klara@pbx.example"}, "lines": {"peer"}})
	e.do("GET", "/api/v1/agents/klara", "", &a)
	if a.Name != "Klara Berg Lind" || a.Phone != "+46701112244" || a.SIPURI != "sip:klara@pbx.example" {
		t.Errorf("after the edit: %+v", a)
	}
	if _, in := e.lines.AgentPresence("klara"); !in {
		t.Error("an edit that kept her line logged Klara out")
	}
}

// A role holds from the user's next request, without logging in again; a
// removed user's session ends. Over the API, a refused password changes no role.
func TestRoleChangesHoldAtOnce(t *testing.T) {
	e := newEnv(t)
	if err := e.users.AddUser(context.Background(), adminUser, auth.RoleAdmin, adminPassword); err != nil {
		t.Fatal(err)
	}
	office := newBrowser(t, e)
	office.login(officeUser, officePassword)
	a := newBrowser(t, e)
	a.login(adminUser, adminPassword)
	a.get("/anvandare")
	a.post("/anvandare/kansliet/roll", url.Values{"role": {"admin"}})
	if code, body := office.get("/anvandare"); code != http.StatusOK || !strings.Contains(body, `id="user-anna"`) {
		t.Errorf("made admin, kansliet on Användare: %d", code)
	}
	admin := e.adminToken()
	if code, _ := e.raw(admin, "PATCH", "/api/v1/users/kansliet", `{"role":"office","password":"kort"}`); code != http.StatusBadRequest {
		t.Errorf("a short password with a role: %d", code)
	}
	if u, _ := e.users.User(officeUser); u.Role != auth.RoleAdmin {
		t.Errorf("a refused change changed the role to %s", u.Role)
	}
	a.post("/anvandare/kansliet/ta-bort", url.Values{})
	if code, loc := office.get("/linjen"); code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("a removed user's session: %d %s", code, loc)
	}
}
