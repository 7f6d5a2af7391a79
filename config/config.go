// Package config is peerline's configuration: the schema of the YAML file, the
// embedded defaults, loading and validation. Every error names the field's path.
package config

import (
	_ "embed"
	"strings"

	"github.com/peerline/peerline/internal/phone"
)

//go:embed default.yaml
var defaultYAML []byte

// Config is the whole configuration file.
type Config struct {
	DataDir  string    `yaml:"data_dir"`
	Log      Log       `yaml:"log"`
	HTTP     HTTP      `yaml:"http"`
	SIP      SIP       `yaml:"sip"`
	Webhooks []Webhook `yaml:"webhooks"`
	PBX      PBX       `yaml:"pbx"`
	Notify   Notify    `yaml:"notify"`
	Lines    []Line    `yaml:"lines"`
}

// Notify is e-mail and SMS to people: the office's contacts and the agents.
type Notify struct {
	SMTP   SMTP      `yaml:"smtp"`
	SMS    SMS       `yaml:"sms"`
	Office []Contact `yaml:"office"`
	// QuietHours hold SMS (not a flagged call's) until they end.
	QuietHours QuietHours `yaml:"quiet_hours"`
	// Templates is a folder of the office's own message templates, by the
	// embedded ones' names; "" uses the embedded ones.
	Templates string `yaml:"templates"`
}

// SMTP is the mail server messages go out through: security starttls (port
// 587), tls (465) or none (a relay on this machine).
type SMTP struct {
	Host         string `yaml:"host"` // "": no e-mail
	Port         int    `yaml:"port"`
	Security     string `yaml:"security"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	From         string `yaml:"from"` // "Peer Support-linjen <linjen@example.org>"
}

// SMS is the SMS gateway: 46elks's API (POST /a1/sms, basic auth).
type SMS struct {
	Provider     string `yaml:"provider"` // "": no SMS; 46elks
	URL          string `yaml:"url"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	From         string `yaml:"from"` // an alphanumeric sender (up to 11 characters) or a number
}

// Contact is someone at the office who is told.
type Contact struct {
	Name    string `yaml:"name"`
	Email   string `yaml:"email"`
	Phone   string `yaml:"phone"`
	Summary bool   `yaml:"summary"` // the daily summary at closing time
}

// QuietHours is a span of the local day, across midnight when From is later.
type QuietHours struct {
	From TimeOfDay `yaml:"from"`
	To   TimeOfDay `yaml:"to"`
}

// Routes is the line each number reaches.
func (c *Config) Routes() Routes {
	r := Routes{plan: c.SIP.Trunk.Plan(), lines: map[string]string{}}
	for _, l := range c.Lines {
		for _, n := range l.Numbers {
			r.lines[r.key(n)] = l.ID
		}
	}
	return r
}

// Routes finds the line a called number reaches, in whatever form the trunk
// sends it: E.164, national, international without "+" or with "00". A name
// that is no number ("peer") must match exactly.
type Routes struct {
	plan  phone.Plan
	lines map[string]string // E.164 or the exact name -> line id
}

func (r Routes) key(n string) string {
	if e, err := r.plan.Normalize(n); err == nil {
		return e
	}
	return n
}

// Line is the id of the line called reaches.
func (r Routes) Line(called string) (string, bool) {
	id, ok := r.lines[r.key(called)]
	return id, ok
}

// Plan is how the trunk writes numbers: its country and the form it dials in.
func (t Trunk) Plan() phone.Plan { return phone.PlanFor(t.Country, t.NumberFormat) }

// PBX is webhook mode: hosted PBXs that drive the lines over HTTP under
// /pbx/v1 (pbx/webhook/PROTOCOL.md) instead of a SIP trunk.
type PBX struct {
	Webhooks  []PBXWebhook `yaml:"webhooks"`
	Elks      *PBXElks     `yaml:"elks,omitempty"` // 46elks's own voice webhooks (pbx/elks/ELKS.md); nil: off
	PublicURL string       `yaml:"public_url"`     // how a PBX reaches peerline, for prompt URLs; "": from http.listen
	Poll      Duration     `yaml:"poll"`           // longest a PBX's request waits for the call's next action
	Silence   Duration     `yaml:"silence"`        // a call its PBX says nothing of for this long is ended
}

// PBXElks is 46elks driving the lines with its own voice webhooks: the lines'
// numbers' voice_start is <public_url>/pbx/elks/<secret>/calls.
type PBXElks struct {
	// Secret is the webhook path's secret segment (46elks signs nothing).
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// User and Password, when set, are basic auth 46elks must send too (put
	// them in the voice_start URL as https://user:password@host/...).
	User         string   `yaml:"user"`
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	AllowFrom    []string `yaml:"allow_from"` // 46elks's published addresses (CIDR); empty: any
}

// PBXWebhook is one PBX allowed to drive calls, and how its requests are signed.
type PBXWebhook struct {
	Name       string `yaml:"name"`
	Auth       string `yaml:"auth"`   // hmac (X-Peerline-Signature) or bearer (Authorization)
	Secret     string `yaml:"secret"` // the HMAC key or the bearer token
	SecretFile string `yaml:"secret_file"`
}

// Log selects the log level and output format.
type Log struct {
	Level  string `yaml:"level"`  // trace, debug, info, warn, error
	Format string `yaml:"format"` // console or json
}

// HTTP is the office web page and API listener.
type HTTP struct {
	Listen string `yaml:"listen"`
	// TLS serves HTTPS with this certificate and key (PEM files, read again
	// on SIGHUP); without them, plain HTTP (behind a proxy that does TLS).
	TLS CertFiles `yaml:"tls"`
	// TrustedProxies are the address ranges of reverse proxies whose
	// X-Forwarded-For or Forwarded header names the client; from anyone else
	// the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// CertFiles are a certificate and its key, PEM files.
type CertFiles struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// SIP is the telephony side.
type SIP struct {
	Listen          []string `yaml:"listen"` // "udp:host:port", "tcp:host:port", "tls:host:port"
	ExternalAddress string   `yaml:"external_address"`
	RTPPorts        string   `yaml:"rtp_ports"`
	RTPTimeout      Duration `yaml:"rtp_timeout"` // silence that ends a call; 0: never
	MaxCalls        int      `yaml:"max_calls"`   // calls at once; one source may hold three quarters
	Trunk           Trunk    `yaml:"trunk"`
	TLS             TLS      `yaml:"tls"`
	SRTP            SRTP     `yaml:"srtp"`
}

// SRTP is how calls encrypt their audio (SDES keys in the SDP): none,
// optional or required, for calls through the trunk (callers, and agents
// dialled by number) and for agents dialled at their SIP address.
type SRTP struct {
	Trunk  string `yaml:"trunk"`
	Agents string `yaml:"agents"`
}

// TLS is SIP over TLS: the certificate and key of tls: listeners (PEM files,
// read again on SIGHUP) and the CA that servers peerline connects to over TLS
// must be signed by ("": the system's).
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	CA   string `yaml:"ca"`
}

// Trunk is the operator's SIP trunk.
type Trunk struct {
	Allow    []string `yaml:"allow"`
	Proxy    string   `yaml:"proxy"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	// PasswordFile holds the password instead (see Secret files).
	PasswordFile string `yaml:"password_file"`
	Register     bool   `yaml:"register"`
	// Country is where the trunk is ("SE"): a national number it sends
	// (08…) is read in that country. NumberFormat is how peerline dials
	// through it: e164 (+46…) or national (0…).
	Country      string `yaml:"country"`
	NumberFormat string `yaml:"number_format"`
	// MaxRate is how many requests a second (new calls, mostly) each of the
	// trunk's addresses may send; it carries every caller. Four times as many
	// may come at once. Other sources get 50. The default, 50, is far above a
	// peer-support line's busiest hour and keeps a broken trunk's flood from
	// filling the box; a trunk that carries more sets it higher.
	MaxRate int `yaml:"max_rate"`
}

// Webhook is one receiver of outgoing events.
type Webhook struct {
	URL        string   `yaml:"url"`
	Secret     string   `yaml:"secret"`
	SecretFile string   `yaml:"secret_file"`
	Events     []string `yaml:"events"`
}

// Line is one peer-support line.
type Line struct {
	ID             string     `yaml:"id"`
	Name           string     `yaml:"name"`
	Numbers        []string   `yaml:"numbers"`
	CallerID       string     `yaml:"caller_id"`
	Timezone       string     `yaml:"timezone"`
	Hours          Hours      `yaml:"hours"`
	Calls          Calls      `yaml:"calls"`
	Queue          Queue      `yaml:"queue"`
	Wrapup         Wrapup     `yaml:"wrapup"`
	Cover          Cover      `yaml:"cover"`
	PIN            PIN        `yaml:"pin"`
	Keys           Keys       `yaml:"keys"`
	CallbackWindow Duration   `yaml:"callback_window"`
	Prompts        string     `yaml:"prompts"`
	Referrals      []Referral `yaml:"referrals"`
}

// Referral modes: how an agent hands a caller on.
const (
	ReferWarm  = "warm"  // the agent stays until the service answers; three talk, then the agent leaves
	ReferBlind = "blind" // the caller is connected to the service at once; the agent goes to the form
	ReferTell  = "tell"  // the caller is told the number; the call goes on
)

// Referral is a service an agent can hand a caller on to with a key during
// the call.
type Referral struct {
	Key    string `yaml:"key"`    // pressed by the agent during the call, e.g. "*1"
	Name   string `yaml:"name"`   // the service, for the office's pages and the records
	Number string `yaml:"number"` // dialled through the trunk (warm, blind) or said (tell)
	Mode   string `yaml:"mode"`   // warm (default), blind or tell
	// Prompt is a recording of the line's that the caller hears instead of
	// the default built from the number ("Jag kopplar dig vidare till ...").
	Prompt string `yaml:"prompt"`
	// ShowCaller sends the caller's own number to the service (a privacy
	// choice: the service may see who calls); by default the line's number.
	ShowCaller bool `yaml:"show_caller"`
}

// PromptName is the name of the referral's own recording in the line's
// prompts folder, when there is one: referral-star1 for key *1 (what
// deploy/prompts/generate.sh --config writes, saying the service's name).
func (r Referral) PromptName() string {
	return "referral-" + strings.NewReplacer("*", "star", "#", "hash").Replace(r.Key)
}

// ModeOrDefault is the referral's mode, warm when unset.
func (r Referral) ModeOrDefault() string {
	if r.Mode == "" {
		return ReferWarm
	}
	return r.Mode
}

// Hours is the line's calendar.
type Hours struct {
	Days        []Weekday `yaml:"days"`
	Open        TimeOfDay `yaml:"open"`
	Close       TimeOfDay `yaml:"close"`
	Holidays    string    `yaml:"holidays"` // SE or none
	ClosedDates []Date    `yaml:"closed_dates"`
}

// Calls is the per-call policy.
type Calls struct {
	Limit       Duration   `yaml:"limit"`
	Warnings    []Duration `yaml:"warnings"`
	HardStop    bool       `yaml:"hard_stop"`
	RingTimeout Duration   `yaml:"ring_timeout"`
	Strategy    string     `yaml:"strategy"` // longest-idle or ring-all
	MaxMissed   int        `yaml:"max_missed"`
}

// Queue is how callers wait when every agent is busy.
type Queue struct {
	MaxWait       Duration `yaml:"max_wait"`
	AnnounceEvery Duration `yaml:"announce_every"`
}

// Wrapup is the form an agent answers after each call.
type Wrapup struct {
	Timeout   Duration   `yaml:"timeout"`
	Cooldown  Duration   `yaml:"cooldown"`
	Questions []Question `yaml:"questions"`
}

// Question is one wrap-up question: a prompt and the meaning of each key.
type Question struct {
	ID      string            `yaml:"id"`
	Label   string            `yaml:"label"` // the question in Swedish, for the office's pages and files
	Prompt  string            `yaml:"prompt"`
	Answers map[string]string `yaml:"answers"` // key -> the answer as stored
	// Labels name the stored answers in Swedish ("stod" -> "stöd").
	Labels map[string]string `yaml:"labels"`
	// Incident is the stored answer that asks the office to follow the call
	// up ("ja" to "Kansliet ska kontakta mig"); "": none does.
	Incident string `yaml:"incident"`
	// Referral is the stored answer filled in by itself when the agent handed
	// the caller on with a referral key ("ja" to "Hänvisad vidare").
	Referral string `yaml:"referral"`
}

// Title is the question as people read it: its label, else its id.
func (q Question) Title() string {
	if q.Label != "" {
		return q.Label
	}
	return q.ID
}

// HasAnswer reports whether v is one of the question's stored answers.
func (q Question) HasAnswer(v string) bool {
	for _, a := range q.Answers {
		if a == v {
			return true
		}
	}
	return false
}

// AnswerLabel is a stored answer as people read it.
func (q Question) AnswerLabel(v string) string {
	if l, ok := q.Labels[v]; ok {
		return l
	}
	return v
}

// Cover is the no-cover rule.
type Cover struct {
	Deadline  TimeOfDay `yaml:"deadline"`
	MinAgents int       `yaml:"min_agents"`
}

// PIN is the agents' PIN policy.
type PIN struct {
	MinLength    int      `yaml:"min_length"`
	TriesPerCall int      `yaml:"tries_per_call"`
	LockoutAfter int      `yaml:"lockout_after"`
	LockoutFor   Duration `yaml:"lockout_for"`
}

// Keys are the DTMF sequences with a special meaning.
type Keys struct {
	AgentLogin string `yaml:"agent_login"`
	EndCall    string `yaml:"end_call"`
	Safety     string `yaml:"safety"`
}

// Line returns the line with the given id.
func (c *Config) Line(id string) (*Line, bool) {
	for i := range c.Lines {
		if c.Lines[i].ID == id {
			return &c.Lines[i], true
		}
	}
	return nil, false
}

// ShownNumber is what an agent's phone shows for a call from the line:
// caller_id, or else the line's first number.
func (l *Line) ShownNumber() string {
	if l.CallerID == "" && len(l.Numbers) > 0 {
		return l.Numbers[0]
	}
	return l.CallerID
}
