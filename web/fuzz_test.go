package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzOverrideBody sends arbitrary bodies to close: the answer is 200 or a 4xx in
// the API's error shape, never a 500 and never a broken body.
func FuzzOverrideBody(f *testing.F) {
	e := newEnv(f)
	for _, s := range []string{`{"reason":"x"}`, `{"reason":"x","until":"2026-11-24T10:00:00+01:00"}`, `{`, `[]`, `{"until":null}`, `{"reason":"\u0000"}`, ``} {
		f.Add(s)
	}
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", e.url+"/api/v1/lines/peer/close", strings.NewReader(body))
		req.RequestURI = ""
		req.Header.Set("Authorization", "Bearer "+e.token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatalf("%q: body is not JSON: %v", body, err)
		}
		if res.StatusCode == 200 {
			return
		}
		eb, _ := out["error"].(map[string]any)
		if res.StatusCode >= 500 || res.StatusCode < 400 || eb["code"] == nil || eb["message"] == "" {
			t.Fatalf("%q: %d %v", body, res.StatusCode, out)
		}
	})
}
