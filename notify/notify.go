// Package notify tells people, not programs: an event of the line (a day
// without cover, a flagged call, a lockout) becomes Swedish e-mail and SMS to
// the office's contacts and to the agents it concerns. Messages are written to
// a persistent outbox in the transaction of their event and delivered by a
// Sender with retries, so none is lost across a restart. No message ever holds
// a caller's number, and an agent's number goes to nobody but that agent (as
// the address of their own SMS).
package notify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/phone"
	"github.com/peerline/peerline/internal/randid"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line/hours"
	"github.com/peerline/peerline/roster"
	bolt "go.etcd.io/bbolt"
)

// Channels.
const (
	SMS   = roster.ChannelSMS
	Email = roster.ChannelEmail
)

// Statuses of a message.
const (
	Pending = "pending" // waiting for its next attempt (or for quiet hours to end)
	Sent    = "sent"
	Failed  = "failed" // given up: the address is refused, or too many attempts
)

const (
	bucket      = "notify.outbox"
	bucketAsked = "notify.asked" // line/date -> the colleagues asked to cover it
)

// Message is one e-mail or SMS to one person.
type Message struct {
	ID       string     `json:"id"`
	Event    string     `json:"event"` // the event's type
	Line     string     `json:"line,omitempty"`
	Channel  string     `json:"channel"`
	To       string     `json:"to"`      // an e-mail address or an E.164 number
	ToName   string     `json:"to_name"` // whom, for the office's list
	Subject  string     `json:"subject,omitempty"`
	Body     string     `json:"body"`
	Urgent   bool       `json:"urgent,omitempty"` // sent in quiet hours too (a flagged call)
	Created  time.Time  `json:"created"`
	Status   string     `json:"status"`
	Attempts int        `json:"attempts"`
	Next     time.Time  `json:"next"`
	Error    string     `json:"error,omitempty"`
	Sent     *time.Time `json:"sent,omitempty"`
	key      []byte
}

// person is whom a message goes to, by the channels they take.
type person struct {
	name     string
	email    string
	phone    string // E.164
	channels []string
}

// Planner turns events into messages inside the event's transaction (it is
// an event.Sink).
type Planner struct {
	cfg      config.Notify
	plan     phone.Plan
	lines    map[string]config.Line
	locs     map[string]*time.Location // each line's zone, loaded once
	texts    *Texts
	channels map[string]bool // the configured ones
	wake     func()
}

// NewPlanner makes the outbox bucket and a planner for cfg's notify section.
func NewPlanner(db *bolt.DB, cfg *config.Config) (*Planner, error) {
	if err := storage.Buckets(db, bucket, bucketAsked); err != nil {
		return nil, err
	}
	texts, err := LoadTexts(cfg.Notify.Templates)
	if err != nil {
		return nil, err
	}
	p := &Planner{cfg: cfg.Notify, plan: cfg.SIP.Trunk.Plan(), lines: map[string]config.Line{}, texts: texts,
		locs: map[string]*time.Location{}, channels: map[string]bool{SMS: cfg.Notify.SMS.Provider != "", Email: cfg.Notify.SMTP.Host != ""}}
	for _, l := range cfg.Lines {
		p.lines[l.ID] = l
		if p.locs[l.ID], err = time.LoadLocation(l.Timezone); err != nil {
			return nil, err // config validated it
		}
	}
	return p, nil
}

// Plan writes the messages e asks for into the outbox in tx.
func (p *Planner) Plan(tx *bolt.Tx, e event.Event) error {
	if !p.channels[SMS] && !p.channels[Email] {
		return nil
	}
	d, err := e.Payload()
	if err != nil {
		return err
	}
	msgs, err := p.messages(tx, e, d)
	if err != nil {
		return err
	}
	b := tx.Bucket([]byte(bucket))
	for _, m := range msgs {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := storage.Put(b, binary.BigEndian.AppendUint64(nil, seq), m); err != nil {
			return err
		}
	}
	if len(msgs) > 0 && p.wake != nil {
		tx.OnCommit(p.wake)
	}
	return nil
}

// messages are what each recipient of e gets: its text for them, by each of
// their channels that is configured.
func (p *Planner) messages(tx *bolt.Tx, e event.Event, d event.Data) ([]Message, error) {
	to, err := p.recipients(tx, e, d)
	if err != nil {
		return nil, err
	}
	var out []Message
	base := p.view(tx, e, d)
	for _, r := range to {
		view := base
		view.Name = r.person.name
		for _, ch := range r.person.channels {
			addr := r.person.phone
			if ch == Email {
				addr = r.person.email
			}
			if !p.channels[ch] || addr == "" {
				continue
			}
			subject, body, err := p.texts.Render(r.template, ch, view)
			if err != nil {
				return nil, fmt.Errorf("notify: %s: %w", r.template, err)
			}
			out = append(out, Message{ID: randid.Hex(8), Event: e.Type, Line: e.Line, Channel: ch, To: addr,
				ToName: r.person.name, Subject: subject, Body: body, Urgent: e.Type == event.CallFlagged,
				Created: e.Time, Status: Pending, Next: e.Time})
		}
	}
	return out, nil
}

// recipient is one person and the template they get.
type recipient struct {
	person   person
	template string // "day.uncovered.office", ...
}

// recipients lists who is told of e, and by which template.
func (p *Planner) recipients(tx *bolt.Tx, e event.Event, d event.Data) ([]recipient, error) {
	var out []recipient
	office := func(name string) {
		for _, c := range p.cfg.Office {
			out = append(out, recipient{p.contact(c), name})
		}
	}
	agent := func(id, name string) error {
		a, err := roster.In(tx).Agent(id)
		if errors.Is(err, roster.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, recipient{person{name: a.Name, email: a.Email, phone: a.Phone, channels: a.Channels()}, name})
		return nil
	}
	switch d := d.(type) {
	case *event.Uncovered:
		var asked []string
		for _, c := range d.Free {
			if err := agent(c.ID, "day.uncovered.colleague"); err != nil {
				return nil, err
			}
			asked = append(asked, c.ID)
		}
		if err := storage.Put(tx.Bucket([]byte(bucketAsked)), []byte(e.Line+"/"+d.Date), asked); err != nil {
			return nil, err
		}
		office("day.uncovered.office")
	case *event.Cover:
		ids, err := p.asked(tx, e.Line, d.Date)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if id != d.Agent {
				if err := agent(id, "cover.taken.colleague"); err != nil {
					return nil, err
				}
			}
		}
		office("cover.taken.office")
	case *event.LineChange:
		if !d.Closed || d.Reason != "no_cover" {
			return nil, nil
		}
		ids, err := p.expected(tx, e)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := agent(id, "line.closed.agent"); err != nil {
				return nil, err
			}
		}
		office("line.closed.office")
	case *event.Flag:
		office("call.flagged.office")
		if err := agent(d.Agent, "call.flagged.agent"); err != nil {
			return nil, err
		}
	case *event.Lockout:
		office("agent.locked.office")
		if err := agent(d.Agent, "agent.locked.agent"); err != nil {
			return nil, err
		}
	case *event.AutoLogout:
		if err := agent(d.Agent, "agent.auto_logged_out.agent"); err != nil {
			return nil, err
		}
	case *event.Summary:
		for _, c := range p.cfg.Office {
			if !c.Summary {
				continue
			}
			pc := p.contact(c)
			pc.channels = []string{Email} // a summary is a letter; by SMS only to whom has no e-mail
			if pc.email == "" {
				pc.channels = []string{SMS}
			}
			out = append(out, recipient{pc, "line.day_summary.office"})
		}
	}
	return out, nil
}

// contact is an office contact as a person: SMS and e-mail, whichever they have.
func (p *Planner) contact(c config.Contact) person {
	ph := ""
	if c.Phone != "" {
		if e, err := p.plan.Normalize(c.Phone); err == nil {
			ph = e
		}
	}
	return person{name: c.Name, email: c.Email, phone: ph, channels: []string{SMS, Email}}
}

// asked are the colleagues asked to cover line's date (YYYY-MM-DD) when it
// lost its cover; without a record of that, those free that day.
func (p *Planner) asked(tx *bolt.Tx, line, date string) ([]string, error) {
	var ids []string
	ok, err := storage.Get(tx.Bucket([]byte(bucketAsked)), []byte(line+"/"+date), &ids)
	if err != nil || ok {
		return ids, err
	}
	return p.freeOn(tx, line, date)
}

// freeOn are the ids of the agents free on line on date (YYYY-MM-DD).
func (p *Planner) freeOn(tx *bolt.Tx, line, date string) ([]string, error) {
	d, err := config.ParseDate(date)
	if err != nil {
		return nil, nil
	}
	day, err := roster.In(tx).Day(line, d)
	if err != nil {
		return nil, err
	}
	free, err := roster.In(tx).FreeOn(line, day)
	var ids []string
	for _, a := range free {
		ids = append(ids, a.ID)
	}
	return ids, err
}

// expected are the ids of the agents expected on e's line on e's local day.
func (p *Planner) expected(tx *bolt.Tx, e event.Event) ([]string, error) {
	day, err := roster.In(tx).Day(e.Line, config.DateOf(e.Time.In(p.locs[e.Line])))
	if err != nil {
		return nil, err
	}
	return day.Expected, nil
}

// view is what a template may use; nothing in it is a caller's number, and
// the only number is none at all (agents are named, never dialled).
type view struct {
	Line     string // the line's name
	Event    event.Event
	Data     event.Data
	Name     string // the recipient's
	Agent    string // the name of the agent the event is about
	Date     string // the event's day, in Swedish ("torsdag 26 november")
	Time     string // the event's time of day, local ("14:05")
	Talk     string // a flagged call's talk time ("12 min")
	Away     string // who is away (day.uncovered), in Swedish: "Klara och Jim"
	Deadline string
	Wrapup   string // a summary's wrap-up answers: "Typ av samtal: kris 2, stöd 3; Hänvisad vidare: ja 1"
	TalkMean string // a summary's mean talk time ("9 min")
}

func (p *Planner) view(tx *bolt.Tx, e event.Event, d event.Data) view {
	l, loc := p.lines[e.Line], p.locs[e.Line]
	t := e.Time.In(loc)
	v := view{Line: l.Name, Event: e, Data: d, Date: hours.DateText(t), Time: t.Format("15:04")}
	// day names an event's own date (YYYY-MM-DD) in Swedish.
	day := func(date string) string {
		if dd, err := config.ParseDate(date); err == nil {
			return hours.DateText(dd.In(loc))
		}
		return date
	}
	switch d := d.(type) {
	case *event.Uncovered:
		v.Date, v.Away, v.Deadline = day(d.Date), list(names(tx, d.Sick)), d.Deadline
	case *event.Cover:
		v.Date = day(d.Date)
	case *event.Flag:
		v.Time = d.Start.In(loc).Format("15:04")
		v.Talk = fmt.Sprintf("%d min", int(d.TalkSeconds+30)/60)
		v.Agent = list(names(tx, []string{d.Agent}))
	case *event.Lockout:
		v.Agent = list(names(tx, []string{d.Agent}))
	case *event.AutoLogout:
		v.Agent = list(names(tx, []string{d.Agent}))
	case *event.Summary:
		v.Date = day(d.Date)
		v.Wrapup = wrapupText(l.Wrapup.Questions, d.Wrapup)
		v.TalkMean = fmt.Sprintf("%d min", int(d.TalkMean+30)/60)
	}
	return v
}

// wrapupText lists the wrap-up answers in words, by the line's questions in
// their order: "Typ av samtal: kris 2, stöd 3; Hänvisad vidare: ja 1".
func wrapupText(questions []config.Question, w map[string]map[string]int) string {
	var parts []string
	for _, q := range questions {
		counts := w[q.ID]
		if len(counts) == 0 {
			continue
		}
		var as []string
		for _, a := range slices.Sorted(maps.Keys(counts)) {
			as = append(as, fmt.Sprintf("%s %d", q.AnswerLabel(a), counts[a]))
		}
		parts = append(parts, q.Title()+": "+strings.Join(as, ", "))
	}
	return strings.Join(parts, "; ")
}

// names are the agents' names, by id.
func names(tx *bolt.Tx, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if a, err := roster.In(tx).Agent(id); err == nil {
			out = append(out, a.Name)
		}
	}
	return out
}

// list joins names the Swedish way: "Klara, Jim och Agneta".
func list(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " och " + names[len(names)-1]
}
