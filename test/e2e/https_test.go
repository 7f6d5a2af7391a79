package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestHTTPSBehindAProxy: peerline serves HTTPS from its own certificate
// (renewed on SIGHUP) and believes X-Forwarded-For only from its trusted
// proxy: five wrong passwords from one client behind the proxy pause that
// client, not another one, and the audit log names the client, not the proxy.
// A missing certificate file fails config check.
func TestHTTPSBehindAProxy(t *testing.T) {
	dir := t.TempDir()
	bad := writeConfig(t, dir, "http: {tls: {cert: /nowhere/cert.pem, key: /nowhere/key.pem}}\n")
	if out, code := peerline(t, dir, "", "config", "check", bad); code == 0 || !strings.Contains(out, "http.tls.cert") {
		t.Errorf("config check of a missing certificate: %d %s", code, out)
	}
	cert, key, _, _ := siptest.SelfSigned(t, dir, "office")
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0, tls: {cert: %s, key: %s}, trusted_proxies: ["127.0.0.1/32"]}
sip: {listen: ["udp:127.0.0.1:0"]}
`, filepath.Join(dir, "data"), cert, key))
	token, _ := peerline(t, dir, "", "token", "create", "kansliet", "--config", cfg)
	token = strings.TrimSpace(token)
	peerline(t, dir, "rätt-lösenord-123\n", "user", "add", "anna", "--role", "admin", "--config", cfg)
	s := startServer(t, dir, "--config", cfg)
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("the banner's address is %s, want https", s.URL)
	}
	for range 5 {
		if code := s.login(t, "anna", "fel", "198.51.100.1"); code != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", code)
		}
	}
	if code := s.login(t, "anna", "fel", "198.51.100.1"); code != http.StatusTooManyRequests {
		t.Errorf("the sixth wrong password from the same client: %d, want 429", code)
	}
	if code := s.login(t, "anna", "rätt-lösenord-123", "198.51.100.2"); code != http.StatusSeeOther {
		t.Errorf("another client behind the same proxy: %d, want a log-in (303)", code)
	}
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/lines/peer/open", strings.NewReader(openForTest()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Forwarded-For", "203.0.113.50")
	if res, err := s.client().Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("open through the proxy: %v %v", res, err)
	}
	if _, body := s.request("GET", "/api/v1/audit", token, ""); !strings.Contains(body, `"remote":"203.0.113.50"`) {
		t.Errorf("the audit log does not name the client behind the proxy: %s", body)
	}
	renewedOnHangup(t, s, strings.TrimPrefix(s.URL, "https://"), cert, key)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login posts the log-in form as a browser behind the proxy at client would,
// and returns the status.
func (s *server) login(t *testing.T, user, password, client string) int {
	t.Helper()
	res, err := s.client().Get(s.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the log-in page")
	}
	form := url.Values{"csrf": {string(m[1])}, "user": {user}, "password": {password}}
	req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", client)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
