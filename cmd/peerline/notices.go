package main

import (
	"context"
	"errors"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/notify"
	"github.com/peerline/peerline/web"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// notifier starts delivering the notify outbox through the configured
// channels until ctx ends; done is closed when it has.
func notifier(ctx context.Context, a *app, cfg *config.Config, clk clock.Clock, log zerolog.Logger) (done <-chan struct{}) {
	channels := map[string]notify.Channel{}
	if cfg.Notify.SMTP.Host != "" {
		channels[notify.Email] = notify.SMTPMail{Config: cfg.Notify.SMTP}
	}
	if cfg.Notify.SMS.Provider != "" {
		channels[notify.SMS] = notify.ElksSMS{Config: cfg.Notify.SMS}
	}
	loc, err := time.LoadLocation(cfg.Lines[0].Timezone)
	if err != nil {
		loc = time.Local
	}
	s := notify.NewSender(a.db, clk, a.notify, channels, loc, log)
	c := make(chan struct{})
	go func() { s.Run(ctx); close(c) }()
	return c
}

// notices is the outbox as the office's API shows it.
type notices struct {
	db  *bolt.DB
	clk clock.Clock
}

func (n notices) Notices(limit int) ([]web.Notice, error) {
	msgs, err := notify.Messages(n.db, limit)
	out := make([]web.Notice, len(msgs))
	for i, m := range msgs {
		out[i] = web.Notice{ID: m.ID, Event: m.Event, Channel: m.Channel, To: m.ToName, Subject: m.Subject,
			Status: m.Status, Attempts: m.Attempts, Error: m.Error, Created: m.Created, Sent: m.Sent}
		if m.Status == notify.Pending {
			next := m.Next
			out[i].Next = &next
		}
	}
	return out, err
}

func (n notices) Resend(ctx context.Context, id string) error {
	err := notify.Resend(ctx, n.db, id, n.clk.Now())
	if errors.Is(err, notify.ErrNoMessage) {
		return web.ErrNoNotice
	}
	return err
}
