package notify_test

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock/clocktest"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/notify"
	"github.com/peerline/peerline/notify/notifytest"
	"github.com/peerline/peerline/pbx/sip/siptest"
	"github.com/peerline/peerline/roster"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

var office = audit.WithActor(context.Background(), audit.Actor{Kind: "token", Name: "test"})

// rig is an outbox with its planner, a real SMTP server and a 46elks stand-in.
type rig struct {
	db     *bolt.DB
	clock  *clocktest.Fake
	em     *event.Emitter
	p      *notify.Planner
	smtp   *notifytest.SMTPServer
	elks   *notifytest.Elks
	cfg    *config.Config
	stop   func()
	loc    *time.Location
	chans  map[string]notify.Channel
	sender *notify.Sender
}

func newRig(t *testing.T, now time.Time) *rig {
	t.Helper()
	dir := t.TempDir()
	_, _, pool, cert := siptest.SelfSigned(t, dir, "mail")
	r := &rig{clock: clocktest.New(now), elks: notifytest.NewElks(t)}
	r.smtp = notifytest.NewSMTPServer(t, cert, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	r.cfg = config.Default()
	r.cfg.Notify = config.Notify{
		SMTP: config.SMTP{Host: "127.0.0.1", Port: r.smtp.Port, Security: "starttls", Username: r.smtp.User,
			Password: r.smtp.Password, From: "Peer Support-linjen <linjen@example.org>"},
		SMS:        config.SMS{Provider: "46elks", URL: r.elks.URL, Username: r.elks.User, Password: r.elks.Password, From: "PeerLinjen"},
		Office:     []config.Contact{{Name: "Kansliet", Email: "kansliet@example.org", Phone: "070-555 00 00"}},
		QuietHours: config.QuietHours{From: config.TimeOfDay{Hour: 21}, To: config.TimeOfDay{Hour: 8}},
	}
	var err error
	if r.db, err = storage.Open(filepath.Join(dir, "data"), time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	audit.Open(r.db)
	if r.em, err = event.NewEmitter(r.db, nil); err != nil {
		t.Fatal(err)
	}
	if r.p, err = notify.NewPlanner(r.db, r.cfg); err != nil {
		t.Fatal(err)
	}
	r.em.AddSink(r.p)
	agents, err := roster.NewStore(r.db, r.clock, r.cfg.Lines[0].PIN, []string{"peer"}, r.em)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []roster.Agent{
		{ID: "klara", Name: "Klara", Phone: "070-174 06 05", Email: "klara@example.org", Notify: []string{"sms", "email"}, Active: true},
		{ID: "jim", Name: "Jim", Phone: "070-174 06 06", Active: true},
		{ID: "vera", Name: "Vera", Phone: "070-174 06 07", Email: "vera@invalid.example", Notify: []string{"email"}, Active: true},
	} {
		if _, err := agents.AddAgent(office, a); err != nil {
			t.Fatal(err)
		}
	}
	r.loc, _ = time.LoadLocation("Europe/Stockholm")
	r.chans = map[string]notify.Channel{
		notify.Email: notify.SMTPMail{Config: r.cfg.Notify.SMTP, TLS: r.smtp.TLS},
		notify.SMS:   notify.ElksSMS{Config: r.cfg.Notify.SMS},
	}
	r.start()
	return r
}

// start runs a sender (again, as after a restart).
func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.sender = notify.NewSender(r.db, r.clock, r.p, r.chans, r.loc, zerolog.Nop())
	done := make(chan struct{})
	go func() { r.sender.Run(ctx); close(done) }()
	r.stop = func() { cancel(); <-done }
}

func (r *rig) emit(t *testing.T, d event.Data) {
	t.Helper()
	if err := r.db.Update(func(tx *bolt.Tx) error { return r.em.Emit(tx, r.clock.Now(), "peer", d) }); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

func smsTo(sms []notifytest.SMS, to string) []notifytest.SMS {
	var out []notifytest.SMS
	for _, s := range sms {
		if s.To == to {
			out = append(out, s)
		}
	}
	return out
}

// numbers finds phone-number-like digit runs.
var numbers = regexp.MustCompile(`\+?\d{7,}`)

// TestAFlaggedCallReachesTheOfficeAtOnce: the safety key's event becomes an
// urgent SMS and e-mail to the office, in quiet hours too, and a short SMS
// and e-mail to the agent (her channels); nothing holds a number.
func TestAFlaggedCallReachesTheOfficeAtOnce(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 22, 30, 0, 0, time.UTC)) // 23:30 in Stockholm: quiet hours
	r.emit(t, event.Flag{Call: "C1", Agent: "klara", Start: r.clock.Now().Add(-13 * time.Minute), TalkSeconds: 720})
	waitFor(t, "the office's SMS and both e-mails", func() bool { return len(r.elks.Sent()) == 2 && len(r.smtp.Mails()) == 2 })
	sms := smsTo(r.elks.Sent(), "+46705550000")
	if len(sms) != 1 || sms[0].From != "PeerLinjen" || !strings.Contains(sms[0].Message, "Klara avbröt ett samtal med säkerhetsknappen kl. 23:17 (samtalstid 12 min)") {
		t.Errorf("the office's SMS: %+v", r.elks.Sent())
	}
	if s := smsTo(r.elks.Sent(), "+46701740605"); len(s) != 1 || !strings.Contains(s[0].Message, "Kansliet vet om samtalet") {
		t.Errorf("Klara's SMS: %+v", r.elks.Sent())
	}
	for _, m := range r.smtp.Mails() {
		if strings.Join(m.To, ",") == "kansliet@example.org" {
			if !strings.Contains(m.Subject, "Brådskande: Klara avbröt") || !strings.Contains(m.Body, "säkerhetsknappen") {
				t.Errorf("the office's e-mail: %q\n%s", m.Subject, m.Body)
			}
		}
		if n := numbers.FindString(m.Body + m.Subject); n != "" {
			t.Errorf("an e-mail holds the number %s", n)
		}
	}
	for _, s := range r.elks.Sent() {
		if n := numbers.FindString(s.Message); n != "" {
			t.Errorf("an SMS holds the number %s", n)
		}
	}
}

// TestQuietHoursHoldSMSUntilMorning: a lockout at night goes by e-mail at
// once; its SMS wait until 08:00.
func TestQuietHoursHoldSMSUntilMorning(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)) // 22:00 in Stockholm
	r.emit(t, event.Lockout{Agent: "jim", Name: "Jim", Lockout: 3, Held: true})
	waitFor(t, "the office's e-mail", func() bool { return len(r.smtp.Mails()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := len(r.elks.Sent()); n != 0 {
		t.Fatalf("%d SMS in quiet hours", n)
	}
	morning := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC) // 08:00 in Stockholm
	// The held SMS's timer is set before the clock moves to it.
	r.clock.WaitArmed(t, morning)
	r.clock.Set(morning)
	waitFor(t, "the held SMS", func() bool { return len(r.elks.Sent()) == 2 })
	if s := smsTo(r.elks.Sent(), "+46701740606"); len(s) != 1 || !strings.Contains(s[0].Message, "Kansliet häver spärren") {
		t.Errorf("Jim's SMS: %+v", r.elks.Sent())
	}
}

// TestAnOutageLosesNothing: with 46elks down, the SMS waits and is retried
// with growing pauses, across a restart, and arrives once when it is back;
// an address the mail server refuses fails for good until an admin resends.
func TestAnOutageLosesNothing(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r.elks.Status.Store(503)
	r.emit(t, event.AutoLogout{Agent: "jim", Missed: 3})
	waitFor(t, "the first attempt", func() bool { return r.elks.Requests.Load() == 1 })
	// The retry's timer is set before peerline stops.
	r.clock.WaitArmed(t, r.clock.Now().Add(5*time.Second))
	r.stop() // peerline stops while the SMS API is down
	r.elks.Status.Store(0)
	r.clock.Advance(10 * time.Second)
	r.start()
	waitFor(t, "the SMS after the restart", func() bool { return len(r.elks.Sent()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if s := r.elks.Sent(); len(s) != 1 || s[0].To != "+46701740606" || !strings.Contains(s[0].Message, "efter 3 missade samtal") {
		t.Errorf("after the outage: %+v", s)
	}
	msgs, _ := notify.Messages(r.db, 10)
	if len(msgs) != 1 || msgs[0].Status != notify.Sent || msgs[0].Attempts != 2 {
		t.Errorf("the outbox: %+v", msgs)
	}

	r.emit(t, event.AutoLogout{Agent: "vera", Missed: 3}) // her address is refused
	waitFor(t, "the refusal", func() bool {
		msgs, _ := notify.Messages(r.db, 10)
		return msgs[0].Status == notify.Failed
	})
	msgs, _ = notify.Messages(r.db, 10)
	if !strings.Contains(msgs[0].Error, "550") {
		t.Errorf("the failed message says %q", msgs[0].Error)
	}
	if err := notify.Resend(office, r.db, msgs[0].ID, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.sender.Kick()
	waitFor(t, "the resend's attempt", func() bool {
		msgs, _ := notify.Messages(r.db, 10)
		return msgs[0].Attempts == 1 && msgs[0].Status == notify.Failed
	})

	// Done messages are listed for 30 days, then forgotten.
	r.clock.Advance(31 * 24 * time.Hour)
	r.sender.Kick()
	waitFor(t, "the old messages forgotten", func() bool {
		msgs, _ := notify.Messages(r.db, 10)
		return len(msgs) == 0
	})
}

// TestADayWithoutCoverAsksTheFreeColleagues: day.uncovered goes to the
// colleagues it names, in their channels, and a copy to the office.
func TestADayWithoutCoverAsksTheFreeColleagues(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r.emit(t, event.Uncovered{Date: "2026-11-27", Expected: []string{}, Sick: []string{"vera"},
		Free: []event.Colleague{{ID: "jim", Name: "Jim"}, {ID: "klara", Name: "Klara"}}, Deadline: "11:00"})
	waitFor(t, "the questions", func() bool { return len(r.elks.Sent()) == 3 && len(r.smtp.Mails()) == 2 })
	s := smsTo(r.elks.Sent(), "+46701740606")
	want := "Hej Jim! Peer Support-linjen saknar täckning fredag 27 november: Vera är borta. Kan du ta dagen? Ring linjen, logga in och tryck 3."
	if len(s) != 1 || !strings.HasPrefix(s[0].Message, want) {
		t.Errorf("Jim's SMS: %+v\nwant %q", s, want)
	}
	for _, m := range r.smtp.Mails() {
		if strings.Join(m.To, ",") == "klara@example.org" && m.Subject != "Peer Support-linjen: kan du ta fredag 27 november?" {
			t.Errorf("Klara's e-mail subject: %q", m.Subject)
		}
	}
}

// TestTheDaysSummaryGoesToWhoAsked: line.day_summary reaches the office
// contacts who want it, by e-mail.
func TestTheDaysSummaryGoesToWhoAsked(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC))
	r.stop()
	r.cfg.Notify.Office = append(r.cfg.Notify.Office, config.Contact{Name: "Anna", Email: "anna@example.org", Summary: true})
	p, err := notify.NewPlanner(r.db, r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.em, _ = event.NewEmitter(r.db, nil)
	r.em.AddSink(p)
	r.p = p
	r.start()
	r.emit(t, event.Summary{Date: "2026-11-26", Calls: 7, Answered: 5, Missed: 1, Closed: 1, Flagged: 1, LimitHits: 2,
		TalkMean: 540, Wrapup: map[string]map[string]int{"call_type": {"kris": 2, "stod": 3}}})
	waitFor(t, "the summary", func() bool { return len(r.smtp.Mails()) == 1 })
	m := r.smtp.Mails()[0]
	if m.To[0] != "anna@example.org" || m.Subject != "Peer Support-linjen: dagen torsdag 26 november" ||
		!strings.Contains(m.Body, "Besvarade:              5") || !strings.Contains(m.Body, "Typ av samtal: kris 2, stöd 3") {
		t.Errorf("the summary: %q\n%s", m.Subject, m.Body)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.elks.Sent()); n != 0 {
		t.Errorf("%d SMS for a summary", n)
	}
}

// TestMailOverImplicitTLSAndRefusedCredentials: port 465's TLS from the first
// byte works; 46elks refusing the credentials leaves the SMS pending with a
// clear reason (retried slowly until the config is mended).
func TestMailOverImplicitTLSAndRefusedCredentials(t *testing.T) {
	dir := t.TempDir()
	_, _, pool, cert := siptest.SelfSigned(t, dir, "mail465")
	srv := notifytest.NewSMTPServerTLS(t, cert, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	cfg := config.SMTP{Host: "127.0.0.1", Port: srv.Port, Security: "tls", Username: srv.User, Password: srv.Password,
		From: "Linjen <linjen@example.org>"}
	m := notify.Message{ID: "m1", Channel: notify.Email, To: "kansliet@example.org", Subject: "Prov: åäö", Body: "Hej från linjen."}
	if err := (notify.SMTPMail{Config: cfg, TLS: srv.TLS}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := srv.Mails(); len(got) != 1 || got[0].Subject != "Prov: åäö" || !strings.Contains(got[0].Body, "Hej från linjen.") {
		t.Errorf("over TLS: %+v", got)
	}
	cfg.Password = "fel"
	if err := (notify.SMTPMail{Config: cfg, TLS: srv.TLS}).Send(context.Background(), m); err == nil {
		t.Error("a wrong SMTP password was accepted")
	}

	r := newRig(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r.elks.Status.Store(401)
	r.emit(t, event.AutoLogout{Agent: "jim", Missed: 3})
	waitFor(t, "the refused attempt", func() bool {
		msgs, _ := notify.Messages(r.db, 10)
		return len(msgs) == 1 && msgs[0].Attempts == 1
	})
	msgs, _ := notify.Messages(r.db, 10)
	if msgs[0].Status != notify.Pending || !strings.Contains(msgs[0].Error, "check notify.sms.username and password") {
		t.Errorf("after a 401: %+v", msgs[0])
	}
}

// TestCoverTellsThoseWhoWereAsked: when Jim takes the day, the colleagues
// asked to cover it are told it is taken (not Jim, not someone never asked).
func TestCoverTellsThoseWhoWereAsked(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	r.emit(t, event.Uncovered{Date: "2026-11-27", Sick: []string{"vera"},
		Free: []event.Colleague{{ID: "jim", Name: "Jim"}, {ID: "klara", Name: "Klara"}}, Deadline: "11:00"})
	waitFor(t, "the questions", func() bool { return len(r.elks.Sent()) == 3 })
	r.emit(t, event.Cover{Date: "2026-11-27", Agent: "jim", Name: "Jim", DayCovered: true})
	waitFor(t, "the news", func() bool { return len(r.elks.Sent()) == 5 })
	time.Sleep(100 * time.Millisecond)
	got := r.elks.Sent()[3:]
	for _, s := range got {
		if s.To == "+46701740606" {
			t.Errorf("Jim was told of his own cover: %q", s.Message)
		}
	}
	if s := smsTo(got, "+46701740605"); len(s) != 1 || !strings.Contains(s[0].Message, "fredag 27 november är täckt av Jim") {
		t.Errorf("Klara's news: %+v", got)
	}
}

// TestAClosureForWantOfCover: line.closed for no cover tells the office;
// other closures tell nobody.
func TestAClosureForWantOfCover(t *testing.T) {
	r := newRig(t, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)) // 11:00 in Stockholm
	r.emit(t, event.LineChange{Closed: true, Reason: "office", Text: "Stängt av kansliet"})
	r.emit(t, event.LineChange{Closed: true, Reason: "no_cover", Text: "Stängt i dag: ingen täckning"})
	waitFor(t, "the office's SMS", func() bool { return len(r.elks.Sent()) == 1 && len(r.smtp.Mails()) == 1 })
	if s := r.elks.Sent()[0]; !strings.Contains(s.Message, "stängdes kl. 11:00 i dag, torsdag 26 november, eftersom ingen täckte dagen") {
		t.Errorf("the office's SMS: %q", s.Message)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.elks.Sent()); n != 1 {
		t.Errorf("%d SMS; the office's own closure should tell nobody", n)
	}
}
