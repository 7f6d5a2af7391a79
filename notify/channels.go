package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/wneessen/go-mail"
)

// A Channel delivers one message. An error wrapping ErrPermanent will not go
// away by retrying (a refused address); other errors are retried.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// ErrPermanent marks a delivery that retrying cannot mend.
var ErrPermanent = errors.New("permanent")

// SMTPMail sends e-mail through the office's mail server (go-mail: STARTTLS
// on 587, implicit TLS on 465, AUTH; the Swedish text as UTF-8).
type SMTPMail struct {
	Config config.SMTP
	TLS    *tls.Config // nil: the system's CAs and the host's name
}

func (s SMTPMail) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.Config.From); err != nil {
		return fmt.Errorf("%w: from: %w", ErrPermanent, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: to: %w", ErrPermanent, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@peerline")
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Body+"\n\n-- \nDetta meddelande skickades av peerline.\n")
	opts := []mail.Option{mail.WithPort(s.Config.Port), mail.WithTimeout(30 * time.Second)}
	switch s.Config.Security {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.TLS != nil {
		opts = append(opts, mail.WithTLSConfig(s.TLS))
	}
	if s.Config.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.Config.Username), mail.WithPassword(s.Config.Password))
	}
	c, err := mail.NewClient(s.Config.Host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err != nil && !msg.SendErrorIsTemp() && msg.HasSendError() {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return err
}

// ElksSMS sends SMS through 46elks's API: POST URL (…/a1/sms) with the form
// fields from, to and message, HTTP basic auth with the API username and
// password; 200 means accepted.
type ElksSMS struct {
	Config config.SMS
	Client *http.Client
}

func (s ElksSMS) Send(ctx context.Context, m Message) error {
	form := url.Values{"from": {s.Config.From}, "to": {m.To}, "message": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Config.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.Config.Username, s.Config.Password)
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	switch {
	case res.StatusCode == http.StatusOK:
		return nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		// The credentials are wrong: retried (slowly) until the config is mended.
		return fmt.Errorf("46elks refused the API credentials (%s): check notify.sms.username and password", res.Status)
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return fmt.Errorf("46elks: %s", res.Status)
	}
	return fmt.Errorf("%w: 46elks: %s: %s", ErrPermanent, res.Status, strings.TrimSpace(string(body)))
}
