package elks

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardRefusesAllButTheSecretPath(t *testing.T) {
	var seen []string
	h := Guard{Secret: "s3cretpathsegment"}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
	}))
	for path, want := range map[string]int{
		"/pbx/elks/s3cretpathsegment/calls": 200,
		"/pbx/elks/wrong/calls":             404,
		"/pbx/elks/calls":                   404,
		"/pbx/elks/s3cretpathsegmentX/x":    404,
		"/pbx/elks/":                        404,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader("")))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
	if len(seen) != 1 || seen[0] != "/calls" {
		t.Errorf("the handler saw %v", seen)
	}
	if rec := httptest.NewRecorder(); true {
		Guard{}.Wrap(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("POST", "/pbx/elks//calls", nil))
		if rec.Code != 404 {
			t.Errorf("an empty secret let a request through: %d", rec.Code)
		}
	}
}

func TestGuardChecksBasicAuthAndSources(t *testing.T) {
	g := Guard{Secret: "s3cretpathsegment", User: "elks", Password: "pw", Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	try := func(remote, user, pw string) int {
		r := httptest.NewRequest("POST", "/pbx/elks/s3cretpathsegment/calls", nil)
		r.RemoteAddr = remote
		if user != "" {
			r.SetBasicAuth(user, pw)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if c := try("192.0.2.7:4000", "elks", "pw"); c != 200 {
		t.Errorf("46elks: %d", c)
	}
	if c := try("198.51.100.1:4000", "elks", "pw"); c != 401 {
		t.Errorf("another source: %d", c)
	}
	if c := try("192.0.2.7:4000", "elks", "nope"); c != 401 {
		t.Errorf("a wrong password: %d", c)
	}
	if c := try("192.0.2.7:4000", "", ""); c != 401 {
		t.Errorf("no basic auth: %d", c)
	}
}
