package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// artifactDir is where the browser test leaves its screenshots: $PEERLINE_ARTIFACTS,
// or test/e2e/artifacts (ignored by git).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("PEERLINE_ARTIFACTS")
	if dir == "" {
		dir, _ = filepath.Abs("artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserCtx starts headless Chromium with the flags this machine needs and a
// fresh profile; the context ends it.
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; `make check` installs Debian's chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// TestOfficeInTheBrowser drives the office pages of the built binary in headless
// Chromium: log in, close the line with a reason and open it again, add an
// agent, report a sick day and see it turn uncovered, and read the statistics
// with their chart. Every page is photographed at a phone's and a desk's width.
func TestOfficeInTheBrowser(t *testing.T) {
	dir := t.TempDir()
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	today := time.Now().In(stockholm)
	rosterFile := filepath.Join(dir, "roster.yaml")
	os.WriteFile(rosterFile, fmt.Appendf(nil, `agents:
  - {id: klara, name: Klara Berg, phone: "070-174 06 05", lines: [peer]}
schedule:
  peer:
    - {agent: klara, days: [mon, tue, wed, thu, fri], from: %s}
`, today.Format(time.DateOnly)), 0o600)
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "44000-44998"}
lines: [{id: peer, name: Stödlinjen, numbers: [peer], prompts: %s}]
`, filepath.Join(dir, "data"), shortPrompts(t, dir)))
	if out, code := peerline(t, dir, "", "agent", "import", rosterFile, "--config", cfg); code != 0 {
		t.Fatalf("import: %d %s", code, out)
	}
	if out, code := peerline(t, dir, "rätt-häftapparat-7\n", "user", "add", "kansliet", "--role", "admin", "--config", cfg); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	s, token := serveOpen(t, dir, cfg)
	for range 3 { // calls to the open line with nobody logged in, for the statistics
		phone := siptest.NewPhone(t, "+46701234567", media.PCMU)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if call, err := phone.Call(ctx, "peer", s.SIP); err != nil || call.Status != 200 {
			t.Fatalf("call: %v %+v", err, call)
		}
		phone.WaitBye(5 * time.Second)
		cancel()
	}
	waitCall(t, s, token, func(r line.Record) bool { return r.Outcome == "no_agents" })

	ctx := browserCtx(t)
	shots := artifactDir(t)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(step, steps...); err != nil {
			t.Fatalf("%s: %v\npeerline:\n%s", what, err, tail(s.stderr.String(), 2000))
		}
	}
	read := func(sel string) string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return text
	}
	var text string

	run("log in", chromedp.Navigate(s.URL+"/linjen"), chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "kansliet"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "rätt-häftapparat-7"),
		chromedp.Click(chromedp.CSS(`form.login button`)), chromedp.WaitVisible(chromedp.CSS(`#status`)))
	text = read("main")
	if !strings.Contains(text, "Öppen") {
		t.Fatalf("Linjen after log-in: %s", text)
	}
	photograph(t, ctx, shots, "linjen-oppen")

	run("close", chromedp.SendKeys(chromedp.CSS(`form[action$="/stang"] input[name=reason]`), "Personalmöte"),
		chromedp.Click(chromedp.CSS(`button.close`)), chromedp.WaitVisible(chromedp.CSS(`#status.closed`)))
	text = read("main")
	if !strings.Contains(text, "Stängd") || !strings.Contains(text, "Personalmöte") {
		t.Errorf("after closing: %s", text)
	}
	if _, st := s.request("GET", "/api/v1/lines/peer", token, ""); !strings.Contains(st, `"state":"closed"`) {
		t.Errorf("the API after closing in the browser: %s", st)
	}
	photograph(t, ctx, shots, "linjen-stangd")
	run("open", chromedp.SendKeys(chromedp.CSS(`form[action$="/oppna"] input[name=reason]`), "Extra pass"),
		chromedp.Click(chromedp.CSS(`button.open`)), chromedp.WaitVisible(chromedp.CSS(`#status.open`)))

	run("add an agent", chromedp.Navigate(s.URL+"/agenter"),
		chromedp.SendKeys(chromedp.CSS(`form.add input[name=id]`), "agneta"),
		chromedp.SendKeys(chromedp.CSS(`form.add input[name=name]`), "Agneta Lind"),
		chromedp.SendKeys(chromedp.CSS(`form.add input[name=phone]`), "070-174 06 07"),
		chromedp.Click(chromedp.CSS(`form.add button`)), chromedp.WaitVisible(chromedp.CSS(`#agent-agneta`)))
	text = read("main")
	if !strings.Contains(text, "Agneta Lind") || !strings.Contains(text, "Agenten Agneta Lind är tillagd.") {
		t.Errorf("Agenter after adding: %s", text)
	}
	photograph(t, ctx, shots, "agenter")
	run("edit an agent", chromedp.Navigate(s.URL+"/agenter"), chromedp.Click(chromedp.CSS(`#agent-agneta details.edit summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#agent-agneta form.edit-agent input[name=name]`)),
		chromedp.SetValue(chromedp.CSS(`#agent-agneta form.edit-agent input[name=name]`), "Agneta Lindqvist"),
		chromedp.Click(chromedp.CSS(`#agent-agneta form.edit-agent button`)), chromedp.WaitVisible(chromedp.CSS(`p.notice, p.error`)))
	if text = read("#agent-agneta"); !strings.Contains(text, "Agneta Lindqvist") || !strings.Contains(read("main > p"), "sparade") {
		t.Errorf("Agneta after the edit: %s", text)
	}

	// The first covered day after today: Klara's sick day leaves it without cover.
	run("schema", chromedp.Navigate(s.URL+"/schema"), chromedp.WaitVisible(chromedp.CSS(`table.roster`)))
	day, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("table.roster tbody tr")].slice(1)
			.find(r => r.querySelector("td.state").textContent.trim() === "täckt")?.dataset.date ?? ""`))
	if err != nil || day == "" {
		t.Fatal("no covered day in the next four weeks")
	}
	run("report sick", chromedp.SetValue(chromedp.CSS(`form[action$="/sjuk"] select[name=agent]`), "klara"),
		chromedp.SetValue(chromedp.CSS(`form[action$="/sjuk"] input[name=date]`), day),
		chromedp.Click(chromedp.CSS(`form[action$="/sjuk"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.notice, p.error`)))
	if msg := read("main > p"); !strings.Contains(msg, "Sjukanmälan är registrerad") {
		t.Fatalf("the sick day for %s: %s", day, msg)
	}
	text = read(fmt.Sprintf(`tr[data-date="%s"]`, day))
	if !strings.Contains(text, "saknar täckning") || !strings.Contains(text, "Klara Berg") {
		t.Errorf("%s after Klara's sick day: %s", day, text)
	}
	photograph(t, ctx, shots, "schema")

	run("statistics", chromedp.Navigate(s.URL+"/statistik"), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	bars, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#per-dag svg.chart rect.calls").length`))
	text = read("#calls")
	hours, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#per-timme svg.chart rect.calls").length`))
	if bars != 30 || hours != 24 || strings.TrimSpace(text) != "3" {
		t.Errorf("Statistik: %d day bars, %d hour bars, %q calls", bars, hours, text)
	}
	photograph(t, ctx, shots, "statistik")
	run("audit", chromedp.Navigate(s.URL+"/logg"), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	text = read("main")
	if !strings.Contains(text, "stängde linjen: ") || !strings.Contains(text, "sjukanmälde Klara Berg för ") ||
		!strings.Contains(text, "root på servern") || strings.Contains(text, "roster.sick") {
		t.Errorf("Logg does not read in Swedish: %s", tail(text, 800))
	}
	photograph(t, ctx, shots, "logg")

	run("add a user", chromedp.Navigate(s.URL+"/anvandare"),
		chromedp.SendKeys(chromedp.CSS(`form.add input[name=name]`), "bo"),
		chromedp.SendKeys(chromedp.CSS(`form.add input[name=password]`), "bos-långa-lösenord"),
		chromedp.Click(chromedp.CSS(`form.add button`)), chromedp.WaitVisible(chromedp.CSS(`#user-bo`)))
	photograph(t, ctx, shots, "anvandare")
	run("calls", chromedp.Navigate(s.URL+"/samtal"), chromedp.WaitVisible(chromedp.CSS(`table.calls`)))
	if text := read("table.calls"); !strings.Contains(text, "ingen inloggad") {
		t.Errorf("Samtal: %s", tail(text, 500))
	}
	photograph(t, ctx, shots, "samtal")

	for _, p := range []string{"/linjen", "/schema", "/agenter", "/samtal", "/statistik", "/logg", "/anvandare"} {
		run("page "+p, chromedp.Navigate(s.URL+p))
		if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "701234567") {
			t.Errorf("%s shows a caller's number", p)
		}
	}
}

// photograph saves the page at a phone's width (390 px) and a desk's (1280 px).
func photograph(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, w := range []int64{390, 1280} {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 844))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
}
