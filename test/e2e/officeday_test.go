package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestTheOfficesDay walks the office's day in headless Chromium against the
// built binary: Linjen shows who is expected and absent and who works without
// a shift; a call cut over SIP with the safety key becomes an incident the
// office marks contacted (a note with a number refused) and then closed; a
// sick report is made and taken back; the weekly schedule gets a new shift;
// Logg tells it all in Swedish; Samtal and Statistik read at a phone's width.
// Every step is photographed at 390 and 1280 px.
func TestTheOfficesDay(t *testing.T) {
	dir := t.TempDir()
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	today := time.Now().In(stockholm).Format(time.DateOnly)
	agneta := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{})
	jim := siptest.NewAgent(t, media.PCMA, siptest.AgentOptions{})
	rosterFile := filepath.Join(dir, "roster.yaml")
	os.WriteFile(rosterFile, fmt.Appendf(nil, `agents:
  - {id: klara, name: Klara Berg, phone: "070-174 06 05", lines: [peer]}
  - {id: agneta, name: Agneta Lind, phone: "070-174 06 06", sip_uri: "%s", lines: [peer]}
  - {id: jim, name: Jim Ek, phone: "070-174 06 07", sip_uri: "%s", lines: [peer]}
schedule:
  peer:
    - {agent: klara, days: [mon, tue, wed, thu, fri, sat, sun], from: %s}
    - {agent: agneta, days: [mon, tue, wed, thu, fri, sat, sun], from: %s}
`, agneta.URI, jim.URI, today, today), 0o600)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "45000-45998"}
lines:
  - id: peer
    name: Stödlinjen
    numbers: [peer]
    prompts: %s
    hours: {days: [mon, tue, wed, thu, fri, sat, sun], holidays: none}
    wrapup: {cooldown: 0s}
`, filepath.Join(dir, "data"), shortPrompts(t, dir)))
	if out, code := peerline(t, dir, "", "agent", "import", rosterFile, "--config", cfg); code != 0 {
		t.Fatalf("import: %d %s", code, out)
	}
	if out, code := peerline(t, dir, "rätt-häftapparat-7\n", "user", "add", "kansliet", "--role", "admin", "--config", cfg); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	s, token := serveOpen(t, dir, cfg)
	if code, out := s.request("POST", "/api/v1/agents/agneta/login", token, ""); code != 200 {
		t.Fatalf("agneta's log-in: %d %s", code, out)
	}

	// The safety key over SIP: Agneta presses *9 and the caller's leg ends.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	caller := siptest.NewPhone(t, "+46701234567", media.PCMU)
	call, err := caller.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("the caller: %v %+v", err, call)
	}
	siptest.HearEachOther(t, caller, call, agneta)
	agneta.Media.SendKeys(agneta.Remote(), media.DefaultDTMF, "*9")
	if !caller.WaitBye(5 * time.Second) {
		t.Fatal("the safety key did not end the caller's leg")
	}
	agneta.Hangup(ctx)
	rec := waitCall(t, s, token, func(r line.Record) bool { return r.Flagged })
	// Jim logs in without a shift today.
	if code, out := s.request("POST", "/api/v1/agents/jim/login", token, ""); code != 200 {
		t.Fatalf("jim's log-in: %d %s", code, out)
	}

	b := newOfficeBrowser(t, s)
	b.run("log in", chromedp.Navigate(s.URL+"/linjen"), chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "kansliet"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "rätt-häftapparat-7"),
		chromedp.Click(chromedp.CSS(`form.login button`)), chromedp.WaitVisible(chromedp.CSS(`#today`)))
	if absent := b.read("#absent"); !strings.Contains(absent, "Klara Berg") || strings.Contains(absent, "Agneta") {
		t.Errorf("expected but absent: %q", absent)
	}
	if extra := b.read("#extra"); !strings.Contains(extra, "Jim Ek") {
		t.Errorf("logged in without a shift: %q", extra)
	}
	if inc := b.read("#incidents"); !strings.Contains(inc, "Agneta Lind") || !strings.Contains(inc, "säkerhetsknappen") || !strings.Contains(inc, "ny") {
		t.Errorf("the incident on Linjen: %q", inc)
	}
	b.photograph("dag-linjen")

	// A note with a number is refused and nothing is stored; then contacted, then closed.
	form := fmt.Sprintf(`form[action="/linjen/uppfoljning/%s"]`, rec.ID)
	b.submit(form, map[string]string{"note": "Ring henne på 070-123 45 67"})
	b.waitText("p.error", "Skriv inga telefonnummer")
	if _, body := s.request("GET", "/api/v1/incidents", token, ""); strings.Contains(body, "Ring henne") || strings.Contains(body, "123 45 67") || !strings.Contains(body, `"state":"ny"`) {
		t.Errorf("after the refused note: %s", body)
	}
	b.submit(form, map[string]string{"state": "kontaktad", "note": "Pratade med Agneta, hon mår bra"})
	b.waitText("p.notice", "Uppföljningen är sparad")
	if inc := b.read("#incidents"); !strings.Contains(inc, "kontaktad") || !strings.Contains(inc, "kansliet") {
		t.Errorf("after marking it contacted: %q", inc)
	}
	b.photograph("dag-uppfoljning")
	b.run("back to Linjen", chromedp.Navigate(s.URL+"/linjen"))
	b.submit(form, map[string]string{"state": "avslutad"})
	b.waitText("p.notice", "Uppföljningen är sparad")
	if _, body := s.request("GET", "/api/v1/incidents?state=avslutad", token, ""); !strings.Contains(body, rec.ID) || !strings.Contains(body, "hon mår bra") {
		t.Errorf("the closed incident: %s", body)
	}

	// Klara is reported sick for today, and the report is taken back.
	b.run("schema", chromedp.Navigate(s.URL+"/schema"), chromedp.WaitVisible(chromedp.CSS(`table.roster`)))
	b.run("report sick", chromedp.SetValue(chromedp.CSS(`form[action$="/sjuk"] select[name=agent]`), "klara"),
		chromedp.SetValue(chromedp.CSS(`form[action$="/sjuk"] input[name=date]`), today),
		chromedp.Click(chromedp.CSS(`form[action$="/sjuk"] button`)))
	b.waitText("p.notice", "Sjukanmälan är registrerad")
	row := fmt.Sprintf(`tr[data-date="%s"]`, today)
	if text := b.read(row + ` td[data-label="Sjuka"]`); !strings.Contains(text, "Klara Berg") {
		t.Errorf("today after the sick report: %q", text)
	}
	b.photograph("dag-sjuk")
	b.run("take it back", chromedp.Click(chromedp.CSS(row+` td[data-label="Sjuka"] button`)))
	b.waitText("p.notice", "Sjukanmälan är borttagen")
	if sick, expected := b.read(row+` td[data-label="Sjuka"]`), b.read(row+` td[data-label="Förväntade"]`); sick != "" || !strings.Contains(expected, "Klara Berg") {
		t.Errorf("today after taking the report back: sick %q, expected %q", sick, expected)
	}

	// Jim gets weekends in the weekly schedule.
	b.run("new shift", chromedp.SetValue(chromedp.CSS(`#nytt-pass select[name=agent]`), "jim"),
		chromedp.Click(chromedp.CSS(`#nytt-pass input[name=dag][value=sat]`)),
		chromedp.Click(chromedp.CSS(`#nytt-pass input[name=dag][value=sun]`)),
		chromedp.Click(chromedp.CSS(`#nytt-pass button[value=spara]`)))
	b.waitText("p.notice", "Veckoschemat är sparat")
	if _, body := s.request("GET", "/api/v1/lines/peer/schedule", token, ""); !strings.Contains(body, `{"agent":"jim","days":["sat","sun"]}`) {
		t.Errorf("the schedule after the new shift: %s", body)
	}
	b.photograph("dag-veckoschema")

	b.run("logg", chromedp.Navigate(s.URL+"/logg"), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	text := b.read("main")
	for _, want := range []string{"sjukanmälde Klara Berg för " + today, "tog tillbaka sjukanmälan för Klara Berg " + today,
		"ändrade veckoschemat för Jim Ek", "satte uppföljningen av Agneta Linds samtal till kontaktad (var ny)",
		"satte uppföljningen av Agneta Linds samtal till avslutad (var kontaktad)"} {
		if !strings.Contains(text, want) {
			t.Errorf("Logg lacks %q", want)
		}
	}
	if strings.Contains(text, "incident.update") || strings.Contains(text, "roster.sick") {
		t.Errorf("Logg shows codes: %s", tail(text, 800))
	}
	b.photograph("dag-logg")

	b.run("samtal", chromedp.Navigate(s.URL+"/samtal"), chromedp.WaitVisible(chromedp.CSS(`table.calls`)))
	if text := b.read("table.calls"); !strings.Contains(text, "säkerhetsknappen") || !strings.Contains(text, "Agneta Lind") {
		t.Errorf("Samtal: %s", tail(text, 500))
	}
	b.photograph("dag-samtal")

	// Statistik on a phone: the list with bars instead of the chart's tiny text.
	b.run("statistik", chromedp.Navigate(s.URL+"/statistik"), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
		chromedp.EmulateViewport(390, 844))
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#per-dag svg.chart, #per-dag table.bars")]
		.map(e => getComputedStyle(e).display).join(",")`))
	if err != nil || shown != "none,table" {
		t.Errorf("Statistik at 390 px shows chart,list as %q (%v)", shown, err)
	}
	if row := b.read("#per-dag table.bars tr:last-child"); !strings.Contains(row, "1 (1 besvarade)") {
		t.Errorf("today's row at 390 px: %q", row)
	}
	b.photograph("dag-statistik")

	for _, p := range []string{"/linjen", "/schema", "/samtal", "/statistik", "/logg"} {
		b.run("page "+p, chromedp.Navigate(s.URL+p))
		if html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "701234567") || strings.Contains(html, "174 06") {
			t.Errorf("%s shows a number", p)
		}
	}
}

// officeBrowser is headless Chromium on the office pages of s.
type officeBrowser struct {
	t     *testing.T
	ctx   context.Context
	s     *server
	shots string
}

func newOfficeBrowser(t *testing.T, s *server) *officeBrowser {
	return &officeBrowser{t: t, ctx: browserCtx(t), s: s, shots: artifactDir(t)}
}

func (b *officeBrowser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	step, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		b.t.Fatalf("%s: %v\npeerline:\n%s", what, err, tail(b.s.stderr.String(), 2000))
	}
}

// read is the text of the first element sel, read by script: node ids of
// chromedp's own queries go stale when a page is still settling after a form.
// It waits (bounded) for the element to be there.
func (b *officeBrowser) read(sel string) string {
	b.t.Helper()
	var err error
	for range 100 {
		step, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		var text *string
		text, err = chromedp.Run(step, chromedp.Evaluate[*string](fmt.Sprintf(`document.querySelector(%q)?.innerText ?? null`, sel)))
		cancel()
		if err == nil && text != nil {
			return *text
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("reading %s: not there (%v)", sel, err)
	return ""
}

func (b *officeBrowser) photograph(name string) { b.t.Helper(); photograph(b.t, b.ctx, b.shots, name) }

// waitText waits (bounded) until the first element sel holds want; the page
// may be loading meanwhile, so errors only count at the end.
func (b *officeBrowser) waitText(sel, want string) {
	b.t.Helper()
	var last string
	for range 100 {
		step, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		text, err := chromedp.Run(step, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel)))
		cancel()
		if err == nil && strings.Contains(text, want) {
			return
		}
		last = text
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s never said %q; last %q\npeerline:\n%s", sel, want, last, tail(b.s.stderr.String(), 2000))
}

// submit fills the fields of the first form sel and submits it, by script and
// with a bounded wait for the form: Linjen swaps its live part every 5 s, and
// chromedp's node ids of a page that changed meanwhile go stale.
func (b *officeBrowser) submit(sel string, fields map[string]string) {
	b.t.Helper()
	js, _ := json.Marshal(fields)
	script := fmt.Sprintf(`(() => { const f = document.querySelector(%q); if (!f) return false;
		for (const [k, v] of Object.entries(%s)) f.elements[k].value = v; f.requestSubmit(); return true; })()`, sel, js)
	for range 100 {
		step, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(step, chromedp.Evaluate[bool](script))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("no form %s to submit\npeerline:\n%s", sel, tail(b.s.stderr.String(), 2000))
}
