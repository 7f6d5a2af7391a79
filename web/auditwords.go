package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/peerline/peerline/internal/audit"
)

// auditLine is one entry of Logg in words.
type auditLine struct {
	Time     time.Time
	Who      string // "Anna", "API-nyckeln kansliet", "root på servern", "peerline"
	What     string // "sjukanmälde Klara för 2026-05-20"
	Remote   string
	Kind     string // the actor's kind, for the filter
	Name     string // the actor's name, for the filter
	Original string // the action's code, for whoever searches for it
}

// actorKinds name the kinds of actors for the filter, in Swedish.
var actorKinds = map[string]string{"user": "användare", "token": "API-nyckel", "cli": "servern (kommandorad)",
	"agent": "agent per telefon", "system": "peerline självt"}

// who names an actor as the office knows them.
func who(a audit.Actor, names map[string]string) string {
	switch a.Kind {
	case "token":
		return "API-nyckeln " + a.Name
	case "cli":
		return a.Name + " på servern"
	case "agent":
		return nameOf(a.Name, names) + " (per telefon)"
	case "system":
		return "peerline"
	}
	return a.Name
}

func nameOf(id string, names map[string]string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

// auditWords says what an entry did, in Swedish; an action it does not know
// is shown by its code.
func auditWords(e audit.Entry, names map[string]string, loc *time.Location) string {
	kind, id, _ := strings.Cut(e.Target, "/")
	name := nameOf(id, names)
	d := func(k string) string { return fmt.Sprint(e.Detail[k]) }
	has := func(k string) bool { v, ok := e.Detail[k]; return ok && v != nil && v != "" }
	when := func() string {
		if !has("until") {
			return ""
		}
		if t, err := time.Parse(time.RFC3339, d("until")); err == nil {
			return " till " + t.In(loc).Format("2006-01-02 15:04")
		}
		return ""
	}
	switch e.Action {
	case "agent.add":
		return "lade till agenten " + name
	case "agent.update":
		return "ändrade uppgifterna för " + name
	case "agent.delete":
		return "tog bort agenten " + name
	case "agent.login":
		return "loggade in " + name
	case "agent.logout":
		return "loggade ut " + name
	case "agent.auto_logout":
		return fmt.Sprintf("loggade ut %s efter %s missade samtal i rad", name, d("missed"))
	case "agent.locked":
		return "spärrade koden för " + name + " efter för många fel"
	case "agent.unlock":
		return "hävde spärren för " + name
	case "agent.pin.set":
		return "satte en ny kod för " + name
	case "line.open":
		reason := ""
		if has("reason") && d("reason") != "öppnad av kansliet" {
			reason = " (" + d("reason") + ")"
		}
		return "öppnade linjen" + reason + when()
	case "line.close":
		return "stängde linjen: " + d("reason") + when()
	case "line.override.delete":
		return "lät linjen följa schemat igen"
	case "roster.sick", "roster.cover", "roster.sick.delete", "roster.cover.delete":
		format := map[string]string{"roster.sick": "sjukanmälde %s för %s", "roster.cover": "lät %s täcka %s",
			"roster.sick.delete": "tog tillbaka sjukanmälan för %s %s", "roster.cover.delete": "tog tillbaka täckningen för %s %s"}
		return fmt.Sprintf(format[e.Action], nameOf(d("agent"), names), d("date"))
	case "schedule.set":
		agents, _ := e.Detail["agents"].([]any)
		if len(agents) == 0 {
			return "ändrade veckoschemat"
		}
		who := make([]string, len(agents))
		for i, a := range agents {
			who[i] = nameOf(fmt.Sprint(a), names)
		}
		return "ändrade veckoschemat för " + strings.Join(who, ", ")
	case "incident.update":
		return fmt.Sprintf("satte uppföljningen av %ss samtal till %s (var %s)", nameOf(d("agent"), names), d("to"), d("from"))
	case "call.wrapup":
		return fmt.Sprintf("fyllde i efterarbetet för %ss samtal", nameOf(d("agent"), names))
	case "token.create":
		return "skapade API-nyckeln " + id
	case "token.revoke":
		return "tog bort API-nyckeln " + id
	case "user.add":
		return fmt.Sprintf("lade till användaren %s (%s)", id, roleWord(d("role")))
	case "user.delete":
		return "tog bort användaren " + id
	case "user.password":
		return "bytte lösenord för " + id
	case "user.role":
		return fmt.Sprintf("gav %s rollen %s", id, roleWord(d("role")))
	case "backup":
		return "tog en säkerhetskopia av databasen"
	case "notification.resend":
		return "skickade ett meddelande igen"
	}
	if kind != "" {
		return e.Action + " " + e.Target
	}
	return e.Action
}

func roleWord(r string) string {
	if r == "admin" {
		return "administratör"
	}
	return "kansli"
}
