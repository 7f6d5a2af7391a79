package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
	bolt "go.etcd.io/bbolt"
)

// TestCLIBesideTheService: with peerline serving, every CLI command goes
// through its admin socket and works (the first admin, users, tokens, an
// import, a backup taken during a call); the same commands give the same
// output with the service stopped; another OS user is refused; restore
// refuses what is not a whole peerline database and, given the backup, brings
// back the roster, log-ins, the office's override, the call records and the
// webhook outbox.
func TestCLIBesideTheService(t *testing.T) {
	dir := t.TempDir()
	agent := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
	cfg := writeConfig(t, dir, fmt.Sprintf(`data_dir: %s
http: {listen: 127.0.0.1:0}
sip: {listen: ["udp:127.0.0.1:0"], rtp_ports: "44000-44998"}
webhooks: [{url: "http://127.0.0.1:9/unreachable", secret: hemligt-nog-for-test}]
lines: [{id: peer, numbers: [peer], prompts: %s, wrapup: {questions: [], cooldown: 0s}}]
`, filepath.Join(dir, "data"), shortPrompts(t, dir)))
	cli := func(stdin string, args ...string) string {
		t.Helper()
		out, code := peerline(t, dir, stdin, append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("peerline %s: exit %d: %s", strings.Join(args, " "), code, out)
		}
		return out
	}
	s := startServer(t, dir, "--config", cfg)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.stdout(), "--role admin") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.stdout(), "No office user exists yet") || !strings.Contains(s.stdout(), "peerline user add NAME --role admin --config "+cfg) {
		t.Errorf("the banner does not say how to make the first admin:\n%s", s.stdout())
	}
	if _, body := s.request("GET", "/login", "", ""); !strings.Contains(body, "Det finns ingen användare ännu") {
		t.Errorf("the log-in page does not say that nobody can log in yet:\n%s", body)
	}

	// Through the socket, while peerline serves.
	cli("hemligt-losenord-1\n", "user", "add", "anna", "--role", "admin")
	token := strings.TrimSpace(cli("", "token", "create", "kansliet", "--role", "admin"))
	roster := filepath.Join(dir, "roster.yaml")
	os.WriteFile(roster, []byte("agents:\n  - {id: klara, name: Klara, phone: \"070-174 06 05\", sip_uri: \""+agent.URI+"\", lines: [peer]}\n"), 0o600)
	if out := cli("", "agent", "import", roster); !strings.Contains(out, "1 agent(s) added") {
		t.Errorf("import: %s", out)
	}
	cli("hemligt-losenord-2\n", "user", "passwd", "anna")
	served := map[string]string{}
	for _, c := range [][]string{{"user", "list"}, {"token", "list"}} {
		served[c[0]] = cli("", c...)
	}
	if !strings.Contains(served["user"], "anna\tadmin") {
		t.Errorf("user list: %s", served["user"])
	}
	if _, body := s.request("GET", "/api/v1/audit", token, ""); !strings.Contains(body, `"kind":"cli"`) || !strings.Contains(body, `"name":"`+osUser(t)+`"`) {
		t.Errorf("the audit log does not name the CLI and the OS user %s: %s", osUser(t), body)
	}
	if code, out := s.request("POST", "/api/v1/lines/peer/open", token, openForTest()); code != 200 {
		t.Fatalf("open: %d %s", code, out)
	}
	if code, out := s.request("POST", "/api/v1/agents/klara/login", token, ""); code != 200 {
		t.Fatalf("log-in: %d %s", code, out)
	}
	refusedToOthers(t, dir, cfg)

	// A backup during a call, by the CLI and by the API.
	phone := siptest.NewPhone(t, "+46705550101", media.PCMU)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := phone.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("call: %v %+v", err, call)
	}
	siptest.HearEachOther(t, phone, call, agent)
	call.Hangup(ctx)
	waitCall(t, s, token, func(r line.Record) bool { return r.Outcome == line.OutcomeAnswered })
	call, err = phone.Call(ctx, "peer", s.SIP) // in progress while the copies are taken
	if err != nil || call.Status != 200 {
		t.Fatalf("second call: %v %+v", err, call)
	}
	backupFile := filepath.Join(dir, "backup.db")
	if out := cli("", "backup", backupFile); !strings.Contains(out, "backup.db written") {
		t.Errorf("backup: %s", out)
	}
	if code, apiCopy := s.request("GET", "/api/v1/backup", token, ""); code != 200 || len(apiCopy) < 4*4096 {
		t.Errorf("GET /api/v1/backup: %d, %d bytes", code, len(apiCopy))
	}
	if out, code := peerline(t, dir, "", "restore", backupFile, "--config", cfg); code == 0 || !strings.Contains(out, "stop it first") {
		t.Errorf("restore while serving: %d %s", code, out)
	}
	call.Hangup(ctx)
	s.stop()

	// The same commands with the service stopped, on the database itself.
	for _, c := range [][]string{{"user", "list"}, {"token", "list"}} {
		if out := cli("", c...); out != served[c[0]] {
			t.Errorf("%s stopped:\n%s\nserving:\n%s", strings.Join(c, " "), out, served[c[0]])
		}
	}
	badRestores(t, dir, cfg, backupFile)

	// Restored into a fresh data directory's place, the backup has it all.
	os.RemoveAll(filepath.Join(dir, "data"))
	if out := cli("", "restore", backupFile); !strings.Contains(out, "restored") {
		t.Errorf("restore: %s", out)
	}
	s = startServer(t, dir, "--config", cfg)
	for path, want := range map[string]string{
		"/api/v1/agents/klara":     `"lines":["peer"]`,
		"/api/v1/lines/peer":       `"override"`,
		"/api/v1/lines/peer/calls": `"outcome":"answered"`,
	} {
		if _, body := s.request("GET", path, token, ""); !strings.Contains(body, want) {
			t.Errorf("after restore, %s lacks %s: %s", path, want, body)
		}
	}
	if p := presence(t, s, token, "klara"); p == "null" {
		t.Error("after restore, Klara is not logged in")
	}
	if _, body := s.request("GET", "/metrics", "", ""); !strings.Contains(body, "peerline_webhook_outbox_pending") || strings.Contains(body, "peerline_webhook_outbox_pending 0") {
		t.Errorf("after restore, the outbox is empty: %s", grepLines(body, "outbox"))
	}
}

// osUser is the name the audit log should give the test's own OS user.
func osUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// refusedToOthers: an OS user other than the service's cannot use the admin
// socket, and the CLI does not fall back to the database then.
func refusedToOthers(t *testing.T, dir, cfg string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Log("not root: another user's CLI is not tried")
		return
	}
	// The stranger may run peerline and read the config (as a world-readable
	// one is) and see the data directory; the socket itself is 0600.
	for _, d := range []string{filepath.Dir(dir), dir, filepath.Join(dir, "data")} {
		os.Chmod(d, 0o755)
		defer os.Chmod(d, 0o700)
	}
	os.Chmod(cfg, 0o644)
	bin := filepath.Join(dir, "peerline")
	b, _ := os.ReadFile(peerlineBin)
	os.WriteFile(bin, b, 0o755)
	cmd := exec.Command(bin, "token", "list", "--config", cfg)
	cmd.Env = append(os.Environ(), "PEERLINE_CONFIG=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "permission denied") {
		t.Errorf("another OS user's token list: %v\n%s", err, out)
	}
}

// badRestores: a file that is not a database, a cut-short backup, a bbolt
// file that is not peerline's and one from a newer schema are each refused,
// and the database is left as it was.
func badRestores(t *testing.T, dir, cfg, good string) {
	t.Helper()
	db := filepath.Join(dir, "data", "peerline.db")
	before := fileSum(t, db)
	whole, _ := os.ReadFile(good)
	files := map[string][]byte{
		"not a database": []byte("just some text, no bbolt pages at all\n"),
		"cut short":      whole[:len(whole)/2],
	}
	for name, b := range files {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		os.WriteFile(p, b, 0o600)
		files[name] = []byte(p)
	}
	files["not peerline's"] = []byte(boltFile(t, dir, "other.db", nil))
	files["a newer schema"] = []byte(boltFile(t, dir, "newer.db", []byte("99")))
	for name, p := range files {
		out, code := peerline(t, dir, "", "restore", string(p), "--config", cfg)
		if code == 0 || !strings.Contains(out, "restore:") {
			t.Errorf("restore of %s: exit %d\n%s", name, code, out)
		}
		if fileSum(t, db) != before {
			t.Fatalf("restore of %s changed the database", name)
		}
	}
}

// boltFile makes a bbolt file with an unrelated bucket and, with schema set, a
// peerline schema record.
func boltFile(t *testing.T, dir, name string, schema []byte) string {
	p := filepath.Join(dir, name)
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("elsewhere"))
		b.Put([]byte("k"), []byte("v"))
		if schema != nil {
			m, _ := tx.CreateBucketIfNotExists([]byte("peerline"))
			m.Put([]byte("schema"), schema)
		}
		return nil
	})
	db.Close()
	return p
}

func fileSum(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
