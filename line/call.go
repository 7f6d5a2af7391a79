package line

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/internal/randid"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line/hours"
	bolt "go.etcd.io/bbolt"
)

// Call is one call leg as the flows see it, whether a SIP dialog or a webhook
// conversation. Prompts and ringback before Answer are early media: the caller
// hears them but is not yet connected (and can still cancel).
type Call interface {
	ID() string
	Caller() string // the caller's number: in memory only, never stored or logged
	Answer(ctx context.Context) error
	Play(ctx context.Context, prompt string) error // ErrNoPrompt when the line has none by that name
	Ring(ctx context.Context) error                // ringback tone until ctx ends
	Hold(ctx context.Context) error                // hold music until ctx ends
	Collect(ctx context.Context, o CollectOptions) (string, error)
	// Keys are the keys pressed on the leg that no Collect took, as they
	// come; nil when the driver hears none outside Collect. A bridged call
	// reads the agent's keys here between its other events, without a
	// goroutine of its own.
	Keys() <-chan byte
	Dial(ctx context.Context, t Target, o DialOptions) (Call, error)
	Bridge(ctx context.Context, other Call) (Bridge, error)
	// Conference joins this leg and others so that each hears all the others
	// (a warm referral's three-way part); ErrNoConference when the driver's
	// side cannot.
	Conference(ctx context.Context, others ...Call) (Bridge, error)
	Hangup(ctx context.Context) error
	Done() <-chan struct{} // closed when the leg has ended, whoever ended it
}

// CollectOptions say how a call gathers keys: the prompts play in turn and the
// first accepted key stops them (barge-in) and starts the input, which ends at the
// terminator, at Max keys or when NextKey passes without a key. Collect returns
// ErrNoInput when no key came during the prompts or FirstKey after them.
type CollectOptions struct {
	Prompts    []string
	Accept     string        // the keys that count, others are ignored; "": every key
	Max        int           // 0: no limit
	Terminator byte          // usually '#'; not part of the input; 0: none
	FirstKey   time.Duration // wait after the prompts; 0: none
	NextKey    time.Duration // wait between keys; 0: until the call ends
}

// Target is where an agent leg goes: the agent's SIP URI when set, otherwise the
// phone number through the trunk.
type Target struct {
	Agent  string
	Phone  string // E.164
	SIPURI string
}

// DialOptions shape an agent leg. The flow itself ends the ringing at
// RingTimeout and runs the limit and its warnings; a PBX in webhook mode is told
// them too, as its backstop should peerline fall silent.
type DialOptions struct {
	CallerID    string // the number the agent's phone shows: the line's, never the caller's
	CallerName  string // the line's name, shown where the phone can
	RingTimeout time.Duration
	Limit       time.Duration   // the call limit; 0: none
	Warnings    []time.Duration // time left at each warning to the agent
}

// dialOptions are a line's options for a leg it dials, ringing for ring.
func dialOptions(l *Line, ring time.Duration) DialOptions {
	o := DialOptions{CallerID: l.Config.ShownNumber(), CallerName: l.Config.Name, RingTimeout: ring}
	if l.Config.Calls.HardStop {
		o.Limit = time.Duration(l.Config.Calls.Limit)
	}
	for _, w := range l.Config.Calls.Warnings {
		o.Warnings = append(o.Warnings, time.Duration(w))
	}
	return o
}

// Bridge is two legs talking to each other.
type Bridge interface {
	Done() <-chan struct{} // closed when the media stopped: Stop, a leg ended or failed
	Stop()                 // unbridge; both legs stay up
	// Whisper mixes prompts, one after the other, into what leg hears; the other
	// leg hears nothing of them.
	Whisper(leg Call, prompts ...string) error
}

// ErrStopped is the cause of a call's context ending because peerline stops:
// the drivers cancel with it, and the record says the call ended "stopped".
var ErrStopped = errors.New("peerline is stopping")

// ErrNoConference is a driver's answer when it cannot hold three parties in
// one conversation (a PBX that says so in webhook mode).
var ErrNoConference = errors.New("no conference: the PBX cannot mix three parties")

// What a call's prompts and keys can fail with.
var (
	ErrNoPrompt = errors.New("no such prompt")
	ErrNoInput  = errors.New("no key pressed")
)

// Why an agent leg was not answered. Dial wraps them, so errors.Is tells them apart.
var (
	ErrBusy        = errors.New("agent busy")             // 486, 600
	ErrDeclined    = errors.New("agent declined")         // 603
	ErrNoAnswer    = errors.New("agent did not answer")   // ring timeout, 408, 480, 487
	ErrUnreachable = errors.New("agent is not reachable") // no route, no URI, other failures
)

// Outcome is how a call attempt ended.
type Outcome string

const (
	OutcomeAnswered       Outcome = "answered"
	OutcomeClosed         Outcome = "closed"
	OutcomeNoAgents       Outcome = "no_agents"
	OutcomeAbandonedQueue Outcome = "abandoned_queue" // the caller gave up before an agent answered
	OutcomeQueueTimeout   Outcome = "queue_timeout"
	OutcomeAgentNoAnswer  Outcome = "agent_no_answer"
	OutcomeFailed         Outcome = "failed"
	OutcomeNotReached     Outcome = "not_reached" // a callback the caller did not answer
	OutcomeInterrupted    Outcome = "interrupted" // peerline was killed or crashed before an agent answered
)

// Record is one call attempt for the statistics. It never holds a caller number.
type Record struct {
	ID      string       `json:"id"`
	Line    string       `json:"line"`
	Start   time.Time    `json:"start"`
	End     time.Time    `json:"end"`
	Outcome Outcome      `json:"outcome"`
	Reason  hours.Reason `json:"reason,omitempty"` // why the line was closed
	Seconds float64      `json:"seconds"`          // from start to end
	Agent   string       `json:"agent,omitempty"`  // who answered
	Wait    float64      `json:"wait_seconds"`     // from start until an agent answered or the caller gave up
	Talk    float64      `json:"talk_seconds"`     // bridged time
	Ended   string       `json:"ended,omitempty"`  // how a bridged call ended: caller, agent, limit, end_key, safety, stopped
	// LimitHit says calls.limit cut the call; Flagged that the agent ended it with
	// the safety key (an incident, the office was told at once).
	LimitHit bool    `json:"limit_hit,omitempty"`
	Flagged  bool    `json:"flagged,omitempty"`
	Wrapup   *Wrapup `json:"wrapup,omitempty"` // the agent's form, on answered calls
	// Callback says the agent called the caller back from the agent menu (key 4):
	// a call of the line, but no one called in.
	Callback bool `json:"callback,omitempty"`
	// Referral is the service the agent handed the caller on to, if any.
	Referral *Referred `json:"referral,omitempty"`

	handover chan struct{} // closed when a referred caller's part with the service ends
	began    chan error    // the stored start's result (beginAsync), until a later write waited for it
}

const bucketCalls = "line.calls" // start (big-endian ns) + id -> Record

// Handle runs a call on line id to its end. A caller's call is recorded: a
// closed line plays the announcement for its reason, an open line with nobody
// logged in the no-one-available one; otherwise an agent is rung and the two are
// bridged. Every call is treated alike whatever number it comes from: an agent
// presses the agent key during the first announcement to reach the agent menu.
func (ls *Lines) Handle(ctx context.Context, id string, c Call) error {
	l, rec, say, err := ls.arrive(id, c)
	if err != nil {
		return err
	}
	if rec.Outcome != "" { // closed, or nobody logged in
		err = ls.tell(ctx, l, c, rec, say, true)
	} else {
		err = ls.connect(ctx, l, c, rec)
	}
	if errors.Is(err, errAgentKey) {
		return errors.Join(ls.discard(rec), ls.agentCall(ctx, l, c)) // no caller's call after all
	}
	if rec.handover != nil {
		<-rec.handover // a referred caller's talk with the service: the record says how it went
	}
	if serr := ls.finish(rec); serr != nil {
		return serr
	}
	return err
}

// arrive starts the record of a call on line id and says what the caller
// hears instead of an agent: the announcements of a closed line, or of one
// nobody is logged in to; a record without an outcome yet goes to an agent.
// It is apart from Handle, whose frame stays on the call's stack for as long
// as the call lasts (see pbx/sip's takeCall).
func (ls *Lines) arrive(id string, c Call) (*Line, *Record, []string, error) {
	l, err := ls.Get(id)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := ls.Status(id)
	if err != nil {
		return nil, nil, nil, err
	}
	rec := &Record{ID: c.ID(), Line: id, Start: ls.clock.Now().UTC()}
	ls.beginAsync(rec)
	switch {
	case st.State == hours.Closed:
		rec.Outcome, rec.Reason = OutcomeClosed, st.Reason
		return l, rec, ls.closedSay(l, st.Reason), nil
	case !ls.loggedIn(id):
		rec.Outcome = OutcomeNoAgents
		return l, rec, []string{"no-agents"}, nil
	}
	return l, rec, nil, nil
}

// tell answers, plays prompt and hangs up; a caller hanging up first ends it. A
// failure marks the record failed. The first announcement of a call listens for
// the agent key (agentKey), and returns errAgentKey when it is pressed.
func (ls *Lines) tell(ctx context.Context, l *Line, c Call, rec *Record, prompts []string, agentKey bool) error {
	ctx, cancel := withCaller(ctx, c)
	defer cancel()
	err := c.Answer(ctx)
	switch {
	case err == nil && agentKey:
		err = ls.announce(ctx, l, c, prompts...)
	case err == nil:
		err = playAll(ctx, c, prompts)
	}
	if ctx.Err() != nil {
		return nil // the caller hung up (or peerline is stopping); the call ends anyway
	}
	if errors.Is(err, errAgentKey) {
		return err
	}
	if err == nil {
		err = c.Hangup(context.WithoutCancel(ctx))
	}
	if err != nil {
		rec.Outcome = OutcomeFailed
	}
	return err
}

// playAll plays prompts one after the other; the first error ends it.
func playAll(ctx context.Context, c Call, prompts []string) error {
	for _, p := range prompts {
		if err := c.Play(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// withCaller is ctx that also ends when the caller hangs up. Its Err is
// non-nil as soon as the leg's Done is closed, not only once a goroutine has
// passed the news on: a prompt cut short by the hang-up is then never taken
// for a failed prompt.
func withCaller(ctx context.Context, c Call) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if lc, ok := c.(legContext); ok {
		// The leg's own context: no goroutine waiting on Done for each call.
		stop := context.AfterFunc(lc.Context(), cancel)
		return callerContext{ctx, c}, func() { stop(); cancel() }
	}
	go func() {
		select {
		case <-c.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return callerContext{ctx, c}, cancel
}

// legContext is a Call whose driver has a context that ends with the leg.
type legContext interface{ Context() context.Context }

type callerContext struct {
	context.Context
	call Call
}

func (x callerContext) Err() error {
	if err := x.Context.Err(); err != nil {
		return err
	}
	select {
	case <-x.call.Done():
		return context.Canceled
	default:
		return nil
	}
}

// NewCallID is peerline's own id for a call, for its record and log lines. The
// drivers never use the id their side of the call chose (a SIP Call-ID, a PBX's
// call_id): it may carry the caller's address or even their number.
func NewCallID() string {
	return randid.Base32(10)
}

func recordKey(r Record) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(r.Start.UnixNano())), r.ID...)
}

// checkDates refuses a query of the dates from..to (inclusive) that runs
// backwards or spans more than max days.
func checkDates(from, to config.Date, max int) error {
	if to.String() < from.String() {
		return input.Errorf("to", "%s is before from (%s)", to, from)
	}
	if to.String() > from.AddDays(max-1).String() {
		return input.Errorf("to", "at most %d days at a time", max)
	}
	return nil
}

// maxRecordDays bounds one query of call records.
const maxRecordDays = 366

// Records lists the call attempts of line id that started on the local dates from..to.
func (ls *Lines) Records(id string, from, to config.Date) ([]Record, error) {
	l, err := ls.Get(id)
	if err != nil {
		return nil, err
	}
	if err := checkDates(from, to, maxRecordDays); err != nil {
		return nil, err
	}
	start := from.In(l.Calendar.Location())
	end := to.AddDays(1).In(l.Calendar.Location())
	out := []Record{}
	err = ls.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketCalls)).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano()))); k != nil; k, v = c.Next() {
			var r Record
			if err := storage.Decode(v, &r); err != nil {
				return err
			}
			if !r.Start.Before(end) {
				break
			}
			if r.Line == id {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}
