package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/peerline/peerline/internal/phone"
)

var (
	lineIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	dtmfPattern   = regexp.MustCompile(`^[0-9*#]{1,4}$`)
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`)
)

// Validate checks the meaning of a decoded config and returns every problem found.
func Validate(c *Config) Errors {
	var es Errors
	validateNotify(c.Notify, &es)
	if strings.TrimSpace(c.DataDir) == "" {
		es.add("data_dir", "must not be empty")
	}
	if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, c.Log.Level) {
		es.add("log.level", "%q is not a level (use trace, debug, info, warn or error)", c.Log.Level)
	}
	if c.Log.Format != "console" && c.Log.Format != "json" {
		es.add("log.format", "%q is not a format (use console or json)", c.Log.Format)
	}
	if err := checkListen(c.HTTP.Listen); err != nil {
		es.add("http.listen", "%q is not host:port: %s", c.HTTP.Listen, err)
	}
	if (c.HTTP.TLS.Cert == "") != (c.HTTP.TLS.Key == "") {
		es.add("http.tls", "set both cert and key, or neither")
	}
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			es.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an address range like 10.0.0.5/32", p)
		}
	}
	validateSIP(&es, &c.SIP)
	for i, w := range c.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			es.add(p+".url", "%q is not an http(s) URL", w.URL)
		}
		if w.Secret == "" {
			es.add(p+".secret", "must be set: receivers check the signature with it")
		}
	}
	validatePBX(&es, &c.PBX)
	if c.PBX.Elks != nil {
		validateElks(&es, c)
	}
	if len(c.Lines) == 0 {
		es.add("lines", "at least one line is needed")
	}
	ids, numbers := map[string]bool{}, map[string]string{}
	routes := Routes{plan: c.SIP.Trunk.Plan()} // 08… and +468… are one number
	for i := range c.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		l := &c.Lines[i]
		validateLine(&es, p, l)
		if ids[l.ID] {
			es.add(p+".id", "%q is used by another line", l.ID)
		}
		ids[l.ID] = true
		for j, n := range l.Numbers {
			key := routes.key(n)
			if other, ok := numbers[key]; ok {
				es.add(fmt.Sprintf("%s.numbers[%d]", p, j), "%q already reaches line %q", n, other)
			}
			numbers[key] = l.ID
		}
	}
	return es
}

func validateSIP(es *Errors, s *SIP) {
	for i, l := range s.Listen {
		p := fmt.Sprintf("sip.listen[%d]", i)
		transport, addr, ok := strings.Cut(l, ":")
		switch err := checkListen(addr); {
		case !ok || err != nil:
			es.add(p, "%q is not transport:host:port (transport udp or tcp)", l)
		case transport == "tls" && (s.TLS.Cert == "" || s.TLS.Key == ""):
			es.add(p, "%q needs sip.tls.cert and sip.tls.key", l)
		case transport != "udp" && transport != "tcp" && transport != "tls":
			es.add(p, "%q: unknown transport %q (use udp, tcp or tls)", l, transport)
		}
	}
	// Whether the files load is the SIP side's to say (sip.CheckTLS), where
	// they are loaded.
	if (s.TLS.Cert == "") != (s.TLS.Key == "") {
		es.add("sip.tls", "set both cert and key, or neither")
	}
	if s.ExternalAddress != "" && net.ParseIP(s.ExternalAddress) == nil {
		es.add("sip.external_address", "%q is not an IP address", s.ExternalAddress)
	}
	if lo, hi, err := ParsePortRange(s.RTPPorts); err != nil {
		es.add("sip.rtp_ports", "%s", err)
	} else if hi-lo < 2 {
		es.add("sip.rtp_ports", "%q has room for no call (need at least two ports)", s.RTPPorts)
	}
	if s.MaxCalls < 1 {
		es.add("sip.max_calls", "%d: at least 1 call at once", s.MaxCalls)
	}
	if s.RTPTimeout != 0 && s.RTPTimeout < Duration(time.Second) {
		es.add("sip.rtp_timeout", "%s is too short: at least 1s, or 0 to never hang up on silence", s.RTPTimeout)
	}
	for i, a := range s.Trunk.Allow {
		if _, err := netip.ParsePrefix(a); err != nil {
			es.add(fmt.Sprintf("sip.trunk.allow[%d]", i), "%q is not an address range like 192.0.2.10/32", a)
		}
	}
	if s.Trunk.Proxy != "" && !strings.HasPrefix(s.Trunk.Proxy, "sip:") && !strings.HasPrefix(s.Trunk.Proxy, "sips:") {
		es.add("sip.trunk.proxy", "%q is not a SIP URI like sip:trunk.example:5060", s.Trunk.Proxy)
	}
	if _, ok := phone.Codes[s.Trunk.Country]; !ok {
		es.add("sip.trunk.country", "%q is not a country peerline knows the calling code of (%s)", s.Trunk.Country, strings.Join(slices.Sorted(maps.Keys(phone.Codes)), ", "))
	}
	if s.Trunk.NumberFormat != phone.E164 && s.Trunk.NumberFormat != phone.National {
		es.add("sip.trunk.number_format", "%q is not e164 or national", s.Trunk.NumberFormat)
	}
	if s.Trunk.MaxRate < 1 {
		es.add("sip.trunk.max_rate", "must be at least 1 (new calls a second from each trunk address)")
	}
	for _, p := range [][2]string{{"sip.srtp.trunk", s.SRTP.Trunk}, {"sip.srtp.agents", s.SRTP.Agents}} {
		if p[1] != "none" && p[1] != "optional" && p[1] != "required" {
			es.add(p[0], "%q is not none, optional or required", p[1])
		}
	}
	if s.Trunk.Register && s.Trunk.Proxy == "" {
		es.add("sip.trunk.register", "needs sip.trunk.proxy to register with")
	}
	if s.Trunk.Register && s.Trunk.Username == "" {
		es.add("sip.trunk.username", "needs a user name to register with (sip.trunk.register)")
	}
}

// checkListen checks a listen address: an IP address or a host name (or
// nothing, for every address) and a port 0-65535.
// validateNotify checks the channels and contacts of notify.
func validateNotify(n Notify, es *Errors) {
	if n.SMTP.Host != "" {
		if n.SMTP.Security != "starttls" && n.SMTP.Security != "tls" && n.SMTP.Security != "none" {
			es.add("notify.smtp.security", "%q is not starttls, tls or none", n.SMTP.Security)
		}
		if n.SMTP.Port < 1 || n.SMTP.Port > 65535 {
			es.add("notify.smtp.port", "%d is not a port", n.SMTP.Port)
		}
		if _, err := mail.ParseAddress(n.SMTP.From); err != nil {
			es.add("notify.smtp.from", "%q is not an address like \"Linjen <linjen@example.org>\"", n.SMTP.From)
		}
	}
	switch n.SMS.Provider {
	case "":
	case "46elks":
		if n.SMS.Username == "" || n.SMS.Password == "" {
			es.add("notify.sms", "46elks needs username and password (the API credentials)")
		}
		if _, err := url.Parse(n.SMS.URL); err != nil || !strings.HasPrefix(n.SMS.URL, "http") {
			es.add("notify.sms.url", "%q is not an http(s) URL", n.SMS.URL)
		}
		if !smsSender.MatchString(n.SMS.From) {
			es.add("notify.sms.from", "%q is neither 3-11 letters and digits starting with a letter nor a number like +46701234567", n.SMS.From)
		}
	default:
		es.add("notify.sms.provider", "%q is not a provider peerline speaks (46elks)", n.SMS.Provider)
	}
	for i, c := range n.Office {
		if c.Email == "" && c.Phone == "" {
			es.add(fmt.Sprintf("notify.office[%d]", i), "%s has neither email nor phone", c.Name)
		}
		if c.Email != "" {
			if _, err := mail.ParseAddress(c.Email); err != nil {
				es.add(fmt.Sprintf("notify.office[%d].email", i), "%q is not an e-mail address", c.Email)
			}
		}
	}
}

// smsSender is what 46elks takes as from: a name of 3-11 letters and digits,
// or a number in E.164.
var smsSender = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]{2,10}|\+[1-9][0-9]{6,14})$`)

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("no host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not 0-65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !hostPattern.MatchString(host) {
		return fmt.Errorf("%q is not an IP address or host name", host)
	}
	return nil
}

// ParsePortRange parses "10000-20000".
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a port range like 10000-20000 (ports 1024-65535)", s)
	}
	return lo, hi, nil
}

func validateLine(es *Errors, p string, l *Line) {
	if !lineIDPattern.MatchString(l.ID) {
		es.add(p+".id", "%q is not a line id (lower-case letters, digits, - and _, at most 32)", l.ID)
	}
	if strings.TrimSpace(l.Name) == "" {
		es.add(p+".name", "must not be empty")
	}
	if len(l.Numbers) == 0 {
		es.add(p+".numbers", "at least one number must reach the line")
	}
	for j, n := range l.Numbers {
		if strings.TrimSpace(n) == "" || strings.ContainsAny(n, " @:;") {
			es.add(fmt.Sprintf("%s.numbers[%d]", p, j), "%q is not a request-URI user or number", n)
		}
	}
	if _, err := time.LoadLocation(l.Timezone); err != nil || l.Timezone == "" {
		es.add(p+".timezone", "%q is not a time zone like Europe/Stockholm", l.Timezone)
	}
	validateHours(es, p+".hours", &l.Hours)
	validateCalls(es, p+".calls", &l.Calls)
	if l.Queue.MaxWait <= 0 {
		es.add(p+".queue.max_wait", "must be more than 0")
	}
	if l.Queue.AnnounceEvery < Duration(10*time.Second) {
		es.add(p+".queue.announce_every", "must be at least 10s")
	}
	validateWrapup(es, p+".wrapup", &l.Wrapup)
	if l.Cover.MinAgents < 0 {
		es.add(p+".cover.min_agents", "must not be negative")
	}
	validatePIN(es, p+".pin", &l.PIN)
	validateKeys(es, p+".keys", &l.Keys)
	validateReferrals(es, p, l)
	if l.CallbackWindow < 0 {
		es.add(p+".callback_window", "must not be negative")
	}
}

func validateHours(es *Errors, p string, h *Hours) {
	if len(h.Days) == 0 {
		es.add(p+".days", "at least one day is needed")
	}
	seen := map[Weekday]bool{}
	for i, d := range h.Days {
		if seen[d] {
			es.add(fmt.Sprintf("%s.days[%d]", p, i), "%s is listed twice", weekdayNames[d])
		}
		seen[d] = true
	}
	if h.Open.Minutes() >= h.Close.Minutes() {
		es.add(p+".close", "%s is not after open (%s)", h.Close, h.Open)
	}
	if h.Holidays != "SE" && h.Holidays != "none" {
		es.add(p+".holidays", "%q is not a holiday calendar (use SE or none)", h.Holidays)
	}
}

func validateCalls(es *Errors, p string, c *Calls) {
	for i, w := range c.Warnings {
		if c.Limit > 0 && (w <= 0 || w >= c.Limit) {
			es.add(fmt.Sprintf("%s.warnings[%d]", p, i), "%s must be between 0 and the limit (%s)", w, c.Limit)
		}
	}
	if c.RingTimeout < Duration(time.Second) {
		es.add(p+".ring_timeout", "must be at least 1s")
	}
	if c.Strategy != "longest-idle" && c.Strategy != "ring-all" {
		es.add(p+".strategy", "%q is not a strategy (use longest-idle or ring-all)", c.Strategy)
	}
	if c.MaxMissed < 1 {
		es.add(p+".max_missed", "must be at least 1")
	}
}

func validateWrapup(es *Errors, p string, w *Wrapup) {
	if w.Timeout <= 0 {
		es.add(p+".timeout", "must be more than 0")
	}
	if w.Cooldown < 0 {
		es.add(p+".cooldown", "must not be negative")
	}
	ids := map[string]bool{}
	for i, q := range w.Questions {
		qp := fmt.Sprintf("%s.questions[%d]", p, i)
		if q.ID == "" || ids[q.ID] {
			es.add(qp+".id", "%q must be set and unique", q.ID)
		}
		ids[q.ID] = true
		if q.Prompt == "" {
			es.add(qp+".prompt", "must name a prompt")
		}
		if len(q.Answers) == 0 {
			es.add(qp+".answers", "at least one answer is needed")
		}
		for k := range q.Answers {
			if len(k) != 1 || !strings.Contains("0123456789*", k) {
				es.add(qp+".answers."+k, "%q is not a key (0-9 or *; # skips)", k)
			}
		}
		if q.Incident != "" && !q.HasAnswer(q.Incident) {
			es.add(qp+".incident", "%q is none of the question's answers", q.Incident)
		}
		if q.Referral != "" && !q.HasAnswer(q.Referral) {
			es.add(qp+".referral", "%q is none of the question's answers", q.Referral)
		}
		for v := range q.Labels {
			if !q.HasAnswer(v) {
				es.add(qp+".labels."+v, "%q is none of the question's answers", v)
			}
		}
	}
}

func validatePIN(es *Errors, p string, pin *PIN) {
	if pin.MinLength < 4 || pin.MinLength > 8 {
		es.add(p+".min_length", "%d is outside 4 to 8", pin.MinLength)
	}
	if pin.TriesPerCall < 1 {
		es.add(p+".tries_per_call", "must be at least 1")
	}
	if pin.LockoutAfter < 1 {
		es.add(p+".lockout_after", "must be at least 1")
	}
	if pin.LockoutFor < Duration(time.Minute) {
		es.add(p+".lockout_for", "must be at least 1m")
	}
}

func validateKeys(es *Errors, p string, k *Keys) {
	for _, f := range []struct{ name, v string }{{"agent_login", k.AgentLogin}, {"end_call", k.EndCall}, {"safety", k.Safety}} {
		if !dtmfPattern.MatchString(f.v) {
			es.add(p+"."+f.name, "%q is not a key sequence (0-9, * and #, at most 4)", f.v)
		}
	}
	switch {
	case k.EndCall == k.Safety:
		es.add(p+".safety", "must differ from end_call")
	case endsOther(k.EndCall, k.Safety):
		// 9 as the end key would end with an ordinary hang-up a call flagged with *9.
		es.add(p+".safety", "%q clashes with end_call (%q): neither may end the other", k.Safety, k.EndCall)
	}
}

// endsOther reports whether one of two key sequences ends the other: a
// call's keys are matched by the end of what was typed, so the shorter
// would always be found first.
func endsOther(a, b string) bool {
	return a != "" && b != "" && (strings.HasSuffix(a, b) || strings.HasSuffix(b, a))
}

// emergencyNumbers are never dialled by peerline: an emergency call must come
// from the caller's own line, so that the emergency centre sees where they are.
var emergencyNumbers = []string{"112", "911", "999", "000", "110", "118", "119"}

// shortNumber is a service's number as a trunk takes it: a short number
// (1177, 90101) or a full one (+46 8 123 456 78, 08-123 456 78).
var shortNumber = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{1,20}$`)

func validateReferrals(es *Errors, p string, l *Line) {
	keys := map[string]string{"keys.end_call": l.Keys.EndCall, "keys.safety": l.Keys.Safety}
	for i, r := range l.Referrals {
		rp := fmt.Sprintf("%s.referrals[%d]", p, i)
		if !dtmfPattern.MatchString(r.Key) {
			es.add(rp+".key", "%q is not a key sequence (0-9, * and #, at most 4)", r.Key)
		}
		for name, k := range keys {
			if endsOther(k, r.Key) {
				es.add(rp+".key", "%q clashes with %s (%q): neither may end the other", r.Key, name, k)
			}
		}
		keys[fmt.Sprintf("referrals[%d].key", i)] = r.Key
		if strings.TrimSpace(r.Name) == "" {
			es.add(rp+".name", "must not be empty")
		}
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, r.Number)
		switch mode := r.ModeOrDefault(); {
		case mode != ReferWarm && mode != ReferBlind && mode != ReferTell:
			es.add(rp+".mode", "%q is not a mode (use warm, blind or tell)", r.Mode)
		case r.Number != "" && !shortNumber.MatchString(r.Number):
			es.add(rp+".number", "%q is not a number (1177, 90101, 08-123 456 78, +46 8 123 456 78)", r.Number)
		case mode != ReferTell && slices.Contains(emergencyNumbers, digits):
			es.add(rp+".number", "%s is never dialled: an emergency call must come from the caller's own phone, so that the centre sees where they are; use mode tell", r.Number)
		case mode != ReferTell && r.Number == "":
			es.add(rp+".number", "a %s referral dials a number", mode)
		case mode == ReferTell && r.Number == "" && r.Prompt == "":
			es.add(rp+".prompt", "a tell referral without a number needs a prompt that says it")
		}
	}
}

// elksSecretPattern is a path segment 46elks's URLs can carry as it is.
var elksSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func validateElks(es *Errors, c *Config) {
	e := c.PBX.Elks
	switch {
	case len(e.Secret) < 24:
		es.add("pbx.elks.secret", "at least 24 characters: it is all that keeps strangers off the calls")
	case !elksSecretPattern.MatchString(e.Secret):
		es.add("pbx.elks.secret", "letters, digits, - and _ only (it is part of a URL)")
	}
	if (e.User == "") != (e.Password == "") {
		es.add("pbx.elks.user", "user and password go together")
	}
	for i, a := range e.AllowFrom {
		if _, err := netip.ParsePrefix(a); err != nil {
			es.add(fmt.Sprintf("pbx.elks.allow_from[%d]", i), "%q is not an address range like 192.0.2.0/24", a)
		}
	}
	if c.PBX.PublicURL == "" {
		es.add("pbx.public_url", "46elks reaches peerline over the Internet: give the https URL it uses")
	}
	for i, l := range c.Lines {
		if l.Calls.Strategy == "ring-all" {
			es.add(fmt.Sprintf("lines[%d].calls.strategy", i), "46elks connects a call to one phone at a time: use longest-idle")
		}
	}
}

// pbxSecretMin is the shortest secret a PBX may sign or authenticate with.
const pbxSecretMin = 16

func validatePBX(es *Errors, p *PBX) {
	names := map[string]bool{}
	for i, w := range p.Webhooks {
		at := fmt.Sprintf("pbx.webhooks[%d]", i)
		switch {
		case !lineIDPattern.MatchString(w.Name):
			es.add(at+".name", "%q: use lower-case letters, digits, - and _", w.Name)
		case names[w.Name]:
			es.add(at+".name", "%q is named twice", w.Name)
		}
		names[w.Name] = true
		if w.Auth != "hmac" && w.Auth != "bearer" {
			es.add(at+".auth", "%q is not a method (use hmac or bearer)", w.Auth)
		}
		if len(w.Secret) < pbxSecretMin {
			es.add(at+".secret", "at least %d characters", pbxSecretMin)
		}
	}
	if p.PublicURL != "" {
		if u, err := url.Parse(p.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			es.add("pbx.public_url", "%q is not an http(s) URL", p.PublicURL)
		}
	}
	if p.Poll.D() < time.Second || p.Poll.D() > time.Minute {
		es.add("pbx.poll", "%s: use 1s to 1m", p.Poll.D())
	}
	if p.Silence.D() <= p.Poll.D() {
		es.add("pbx.silence", "%s must be longer than pbx.poll (%s)", p.Silence.D(), p.Poll.D())
	}
}
