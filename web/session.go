package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/ratelimit"
	"github.com/peerline/peerline/internal/secret"
	"github.com/peerline/peerline/web/auth"
)

const (
	sessionCookie = "peerline_session"
	loginCookie   = "peerline_login" // the log-in form's CSRF token, before there is a session
	sessionIdle   = 8 * time.Hour    // a session unused this long ends
	csrfField     = "csrf"
)

// session is a logged-in office user. Sessions live in memory: a restart
// logs everybody out, and nothing of them is on disk.
type session struct {
	id, csrf string
	user     string // its role is read from the store at each request, so a change holds at once
	seen     time.Time
}

type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func (ss *sessions) start(u auth.User, now time.Time) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byID == nil {
		ss.byID = map[string]*session{}
	}
	for id, s := range ss.byID { // the map stays as small as the office
		if now.Sub(s.seen) > sessionIdle {
			delete(ss.byID, id)
		}
	}
	s := &session{id: secret.Token("s_"), csrf: secret.Token(""), user: u.Name, seen: now}
	ss.byID[s.id] = s
	return s
}

func (ss *sessions) get(id string, now time.Time) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok || now.Sub(s.seen) > sessionIdle {
		delete(ss.byID, id)
		return nil, false
	}
	s.seen = now
	c := *s
	return &c, true
}

// endUser ends the sessions of a user who was removed or got a new password,
// but keep (the session of the admin who made the change).
func (ss *sessions) endUser(name, keep string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.byID {
		if s.user == name && id != keep {
			delete(ss.byID, id)
		}
	}
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byID, id)
}

// throttle slows down guessing. After loginFreeTries failed log-ins in a row
// for a user name from one address, or from an address for any user names,
// that pair (or address) waits loginPause, doubling with each further failure up
// to loginMaxPause. A user is never paused as such, so that nobody elsewhere can
// lock a named person out; guessing from many addresses meets a slower global
// limit instead: once globalFailBurst failures are spent (refilled at one per
// globalFailEvery), only addresses the user has logged in from before may try
// until the budget refills.
type throttle struct {
	mu      sync.Mutex
	fails   map[string]*failures
	global  ratelimit.Bucket    // failures still allowed from anywhere
	trusted map[string][]string // user -> addresses of their last log-ins
}

type failures struct {
	n     int
	until time.Time
}

const (
	loginFreeTries  = 5
	loginPause      = 30 * time.Second
	loginMaxPause   = 15 * time.Minute
	globalFailBurst = 50
	globalFailEvery = 10 * time.Second
	trustedAddrs    = 5
	maxFailKeys     = 100000 // the map is emptied of old entries beyond this
)

// loginKeys are the throttle's keys for a try by user from ip.
func loginKeys(user, ip string) []string { return []string{"pair:" + ip + "\x00" + user, "ip:" + ip} }

// wait is how long user at ip must still wait before a try; 0: now.
func (t *throttle) wait(now time.Time, user, ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range loginKeys(user, ip) {
		if f := t.fails[k]; f != nil && f.until.After(now) {
			d = max(d, f.until.Sub(now))
		}
	}
	if w := t.global.Wait(now); w > 0 && !slices.Contains(t.trusted[user], ip) {
		d = max(d, w)
	}
	return d
}

func (t *throttle) failed(now time.Time, user, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fails == nil {
		t.fails = map[string]*failures{}
	}
	if len(t.fails) > maxFailKeys {
		t.forget(now)
	}
	t.global.Spend(now)
	for _, k := range loginKeys(user, ip) {
		f := t.fails[k]
		if f == nil {
			f = &failures{}
			t.fails[k] = f
		}
		f.n++
		if over := f.n - loginFreeTries; over >= 0 {
			f.until = now.Add(min(loginPause<<min(over, 10), loginMaxPause))
		}
	}
}

// forget drops the failures whose pause is over.
func (t *throttle) forget(now time.Time) {
	for k, f := range t.fails {
		if !f.until.After(now) {
			delete(t.fails, k)
		}
	}
}

func (t *throttle) succeeded(user, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range loginKeys(user, ip) {
		delete(t.fails, k)
	}
	if t.trusted == nil {
		t.trusted = map[string][]string{}
	}
	addrs := slices.DeleteFunc(t.trusted[user], func(a string) bool { return a == ip })
	t.trusted[user] = append(addrs[max(0, len(addrs)-trustedAddrs+1):], ip)
}

// errBadCSRF refuses a form posted without its session's token.
var errBadCSRF = errorf(http.StatusForbidden, "bad_csrf", "the form has expired or did not come from peerline; reload the page")

// requireSession lets a logged-in office user through, with the user as the
// audit actor and their role as it is now, and checks every POST's CSRF token.
// Others, and users removed meanwhile, go to the log-in page.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		var sess *session
		ok := false
		if err == nil {
			sess, ok = s.sessions.get(ck.Value, s.now())
		}
		var u auth.User
		if ok {
			if u, err = s.Users.User(sess.user); errors.Is(err, auth.ErrNotFound) {
				s.sessions.end(sess.id)
				ok = false
			} else if err != nil {
				return err
			}
		}
		if !ok {
			if c.Request().Method != http.MethodGet {
				return errorf(http.StatusUnauthorized, "unauthorized", "log in again")
			}
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		if c.Request().Method == http.MethodPost && !sameToken(c.FormValue(csrfField), sess.csrf) {
			return errBadCSRF
		}
		c.Set("session", sess)
		c.Set(roleKey, u.Role)
		actor := audit.Actor{Kind: "user", Name: sess.user, Remote: c.RealIP()}
		c.SetRequest(c.Request().WithContext(audit.WithActor(c.Request().Context(), actor)))
		return next(c)
	}
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// cookie is a cookie of ours: HttpOnly, SameSite=Strict, Secure over TLS.
func cookie(c echo.Context, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"}
}

func (s *Server) loginPage(c echo.Context) error {
	token := secret.Token("")
	c.SetCookie(cookie(c, loginCookie, token, 3600))
	d := pageData{CSRF: token, Error: c.QueryParam("fel")}
	if users, err := s.Users.Users(); err == nil && len(users) == 0 {
		d.Data = "first" // nobody can log in yet: the page says how the first admin is made
	}
	return s.render(c, http.StatusOK, "login", d)
}

// login checks the user's password, slowed down after failures, and starts a session.
func (s *Server) login(c echo.Context) error {
	now := s.now()
	ck, err := c.Cookie(loginCookie)
	if err != nil || !sameToken(c.FormValue(csrfField), ck.Value) {
		return errBadCSRF
	}
	name := c.FormValue("user")
	ip := c.RealIP()
	if d := s.throttle.wait(now, name, ip); d > 0 {
		s.log.Warn().Str("user", name).Str("remote", c.RealIP()).Msg("log-in refused: too many failures")
		return s.render(c, http.StatusTooManyRequests, "login", pageData{CSRF: ck.Value,
			Error: "För många felaktiga försök. Vänta " + waitText(d) + " och försök igen."})
	}
	u, err := s.Users.CheckPassword(name, c.FormValue("password"))
	if errors.Is(err, auth.ErrBadLogin) {
		s.throttle.failed(now, name, ip)
		s.log.Warn().Str("user", name).Str("remote", c.RealIP()).Msg("log-in failed")
		return s.render(c, http.StatusUnauthorized, "login", pageData{CSRF: ck.Value, Error: "Fel användarnamn eller lösenord."})
	}
	if err != nil {
		return err
	}
	s.throttle.succeeded(name, ip)
	sess := s.sessions.start(u, now)
	c.SetCookie(cookie(c, sessionCookie, sess.id, 0))
	c.SetCookie(cookie(c, loginCookie, "", -1))
	s.log.Info().Str("user", u.Name).Str("remote", c.RealIP()).Msg("logged in")
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) logout(c echo.Context) error {
	sess := c.Get("session").(*session)
	s.sessions.end(sess.id)
	c.SetCookie(cookie(c, sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/login")
}

// waitText is d in Swedish, rounded up: "30 sekunder", "2 minuter".
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d sekunder", int((d+time.Second-1)/time.Second))
	}
	return fmt.Sprintf("%d minuter", int((d+time.Minute-1)/time.Minute))
}
