package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/peerline/peerline/web"
	"github.com/peerline/peerline/web/auth"
)

// TestMessagesThatDidNotGetThrough: Logg lists the messages to people that
// are pending or failed (by whom they were for, never the address), an admin
// resends one, and the API lists them for a token.
func TestMessagesThatDidNotGetThrough(t *testing.T) {
	e := newEnv(t)
	e.notices.list = []web.Notice{
		{ID: "m1", Event: "call.flagged", Channel: "sms", To: "Kansliet", Subject: "Brådskande", Status: "failed", Attempts: 1, Error: "46elks: 400 Invalid to number", Created: monday1300},
		{ID: "m2", Event: "day.uncovered", Channel: "email", To: "Jim", Subject: "Kan du ta fredag?", Status: "sent", Created: monday1300},
	}
	if err := e.users.AddUser(context.Background(), "anna", auth.RoleAdmin, "ett-långt-lösenord"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.login("anna", "ett-långt-lösenord")
	code, page := b.get("/logg")
	if code != 200 || !strings.Contains(page, "Meddelanden som inte har gått fram") || !strings.Contains(page, "Kansliet") ||
		!strings.Contains(page, "gick inte fram") || strings.Contains(page, "Kan du ta fredag?") {
		t.Fatalf("Logg: %d\n%s", code, page)
	}
	if code, loc := b.post("/logg/meddelanden/m1/skicka-igen", url.Values{}); code != http.StatusSeeOther || !strings.Contains(loc, "ok=") {
		t.Errorf("resend: %d %s", code, loc)
	}
	if len(e.notices.resent) != 1 || e.notices.resent[0] != "m1" {
		t.Errorf("resent: %v", e.notices.resent)
	}
	var out struct{ Notifications []web.Notice }
	if code := e.do("GET", "/api/v1/notifications", "", &out); code != 200 || len(out.Notifications) != 2 {
		t.Errorf("GET /api/v1/notifications: %d %+v", code, out)
	}
	if code := e.do("POST", "/api/v1/notifications/m1/resend", "", nil); code != http.StatusForbidden {
		t.Errorf("an office token's resend: %d, want 403", code)
	}
}
