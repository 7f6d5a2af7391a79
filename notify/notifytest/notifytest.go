// Package notifytest runs the far ends of notifications for tests: a real
// SMTP server (emersion/go-smtp, with STARTTLS and AUTH PLAIN) that keeps what
// it is given, and an HTTP server that checks requests the way 46elks's SMS
// API documents them and answers as it does.
package notifytest

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one delivered e-mail, decoded.
type Mail struct {
	From    string
	To      []string
	Subject string
	Body    string
	Raw     string
}

// SMTPServer is a mail server on 127.0.0.1 that requires STARTTLS and AUTH
// PLAIN with User and Password.
type SMTPServer struct {
	Addr           string
	Port           int
	User, Password string
	TLS            *tls.Config // a client config that trusts the server
	mu             sync.Mutex
	mails          []Mail
}

// NewSMTPServer starts one with certificate cert (for 127.0.0.1); client is
// a TLS config that trusts it, for the tests' clients.
func NewSMTPServer(t testing.TB, cert tls.Certificate, client *tls.Config) *SMTPServer {
	return newSMTPServer(t, cert, client, false)
}

// NewSMTPServerTLS is one that speaks TLS from the first byte (port 465's way).
func NewSMTPServerTLS(t testing.TB, cert tls.Certificate, client *tls.Config) *SMTPServer {
	return newSMTPServer(t, cert, client, true)
}

func newSMTPServer(t testing.TB, cert tls.Certificate, client *tls.Config, implicit bool) *SMTPServer {
	t.Helper()
	s := &SMTPServer{User: "linjen", Password: "smtp-hemlis", TLS: client}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.Port = l.Addr().String(), l.Addr().(*net.TCPAddr).Port
	if implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Mails are the e-mails delivered so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

type session struct {
	s    *SMTPServer
	auth bool
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != x.s.User || password != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.auth {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@invalid.example") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: x.from, To: x.to, Raw: string(b)}
	if msg, err := mail.ReadMessage(strings.NewReader(string(b))); err == nil {
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		bb, _ := io.ReadAll(body)
		m.Body = string(bb)
	}
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// SMS is one message 46elks accepted.
type SMS struct{ From, To, Message string }

// Elks stands in for 46elks's SMS API at URL (…/a1/sms): basic auth with
// User and Password, a form with from, to and message; 200 with the JSON it
// documents. Status, when set, is answered instead (a 503 outage, a 401).
type Elks struct {
	URL            string
	User, Password string
	Status         atomic.Int32
	Requests       atomic.Int32
	mu             sync.Mutex
	sms            []SMS
}

// NewElks starts the stand-in.
func NewElks(t testing.TB) *Elks {
	e := &Elks{User: "u1234", Password: "elks-hemlis"}
	srv := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/a1/sms"
	return e
}

func (e *Elks) serve(w http.ResponseWriter, r *http.Request) {
	e.Requests.Add(1)
	if st := e.Status.Load(); st != 0 {
		http.Error(w, http.StatusText(int(st)), int(st))
		return
	}
	u, p, ok := r.BasicAuth()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/a1/sms":
		http.Error(w, "not found", http.StatusNotFound)
		return
	case !ok || u != e.User || p != e.Password:
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		http.Error(w, "Missing key from", http.StatusBadRequest)
		return
	}
	r.ParseForm()
	s := SMS{From: r.PostForm.Get("from"), To: r.PostForm.Get("to"), Message: r.PostForm.Get("message")}
	switch {
	case s.From == "" || s.Message == "":
		http.Error(w, "Missing key from", http.StatusBadRequest)
		return
	case !strings.HasPrefix(s.To, "+") || len(s.To) < 8:
		http.Error(w, "Invalid to number", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.sms = append(e.sms, s)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "created", "direction": "outgoing", "from": s.From,
		"to": s.To, "message": s.Message, "created": time.Now().UTC().Format("2006-01-02T15:04:05.000000"),
		"parts": 1, "estimated_cost": 5200, "id": "s17a6dafb12d6b1cabc053d57dac2b9d8"})
}

// Sent are the SMS accepted so far.
func (e *Elks) Sent() []SMS {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]SMS(nil), e.sms...)
}
