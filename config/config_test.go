package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
)

func TestDefault(t *testing.T) {
	c := config.Default()
	if len(c.Lines) != 1 || c.Lines[0].ID != "peer" {
		t.Fatalf("default lines = %+v", c.Lines)
	}
	l := c.Lines[0]
	if l.Hours.Open.String() != "12:45" || l.Hours.Close.String() != "16:00" || len(l.Hours.Days) != 5 {
		t.Errorf("hours = %+v", l.Hours)
	}
	if l.Calls.Limit.D() != 20*time.Minute || l.Cover.Deadline.String() != "11:00" || l.PIN.MinLength != 6 {
		t.Errorf("calls %v, deadline %v, pin %d", l.Calls.Limit, l.Cover.Deadline, l.PIN.MinLength)
	}
	if len(l.Wrapup.Questions) != 3 {
		t.Errorf("wrap-up questions = %d, want 3", len(l.Wrapup.Questions))
	}
}

func TestLinesStartFromTheDefaultLine(t *testing.T) {
	c, err := config.LoadFile("testdata/two-lines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	peer, evening := c.Lines[0], c.Lines[1]
	if peer.Name != "Peer Support-linjen" || peer.Hours.Open.String() != "12:45" || peer.Timezone != "Europe/Stockholm" {
		t.Errorf("peer did not keep defaults: %+v", peer)
	}
	if evening.Calls.Limit != 0 || evening.Calls.RingTimeout.D() != 20*time.Second {
		t.Errorf("evening calls = %+v: limit 0 must stay 0, the rest default", evening.Calls)
	}
	if len(evening.Hours.ClosedDates) != 1 || evening.Hours.ClosedDates[0].String() != "2026-12-30" {
		t.Errorf("closed dates = %v", evening.Hours.ClosedDates)
	}
	// Changing one line's slices must not touch the other's.
	evening.Hours.Days[0] = 6
	if c.Lines[0].Hours.Days[0] != 1 {
		t.Error("lines share their days slice")
	}
	if c.SIP.Listen[0] != "udp:0.0.0.0:5060" || c.Log.Level != "info" || c.Log.Format != "json" {
		t.Errorf("top-level defaults lost: %+v %+v", c.SIP.Listen, c.Log)
	}
}

func TestThreeMistakesAllReportedWithPaths(t *testing.T) {
	_, err := config.LoadFile("testdata/three-mistakes.yaml")
	var es config.Errors
	if !errors.As(err, &es) || !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("err = %v, want config.Errors", err)
	}
	want := []struct {
		path string
		line int
		msg  string
	}{
		{"lines[0].hours.open", 7, `"25:00" is not a time of day`},
		{"lines[0].hours.dayz", 8, "unknown field"},
		{"lines[0].calls.limit", 10, `"twenty minutes" is not a duration`},
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if es[i].Path != w.path || es[i].Line != w.line || !strings.Contains(es[i].Msg, w.msg) {
			t.Errorf("error %d = %+v, want %s (line %d): %s", i, es[i], w.path, w.line, w.msg)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name, yaml, path string
	}{
		{"close before open", "lines: [{id: a, numbers: [a], hours: {open: '16:00', close: '12:00'}}]", "lines[0].hours.close"},
		{"bad zone", "lines: [{id: a, numbers: [a], timezone: Mars/Olympus}]", "lines[0].timezone"},
		{"duplicate id", "lines: [{id: a, numbers: [a]}, {id: a, numbers: [b]}]", "lines[1].id"},
		{"shared number", "lines: [{id: a, numbers: [x]}, {id: b, numbers: [x]}]", "lines[1].numbers[0]"},
		{"shared number in two forms", "lines: [{id: a, numbers: ['+46812345678']}, {id: b, numbers: ['0812345678']}]", "lines[1].numbers[0]"},
		{"register without a user", "sip: {trunk: {proxy: 'sip:t.example', register: true}}", "sip.trunk.username"},
		{"unknown country", "sip: {trunk: {country: XX}}", "sip.trunk.country"},
		{"unknown number format", "sip: {trunk: {number_format: local}}", "sip.trunk.number_format"},
		{"bad day", "lines: [{id: a, numbers: [a], hours: {days: [mon, funday]}}]", "lines[0].hours.days[1]"},
		{"bad date", "lines: [{id: a, numbers: [a], hours: {closed_dates: [2026-13-01]}}]", "lines[0].hours.closed_dates[0]"},
		{"warning past limit", "lines: [{id: a, numbers: [a], calls: {limit: 2m, warnings: [3m]}}]", "lines[0].calls.warnings[0]"},
		{"bad strategy", "lines: [{id: a, numbers: [a], calls: {strategy: random}}]", "lines[0].calls.strategy"},
		{"short pin", "lines: [{id: a, numbers: [a], pin: {min_length: 3}}]", "lines[0].pin.min_length"},
		{"bad key", "lines: [{id: a, numbers: [a], keys: {safety: 'x'}}]", "lines[0].keys.safety"},
		{"not a number", "lines: [{id: a, numbers: [a], cover: {min_agents: many}}]", "lines[0].cover.min_agents"},
		{"not a bool", "sip: {trunk: {register: maybe}}", "sip.trunk.register"},
		{"bad listen", "sip: {listen: ['sctp:1.2.3.4:5060']}", "sip.listen[0]"},
		{"bad cidr", "sip: {trunk: {allow: [10.0.0.300/32]}}", "sip.trunk.allow[0]"},
		{"port out of range", "http: {listen: '127.0.0.1:99999'}", "http.listen"},
		{"sip port out of range", "sip: {listen: ['udp:127.0.0.1:70000']}", "sip.listen[0]"},
		{"tls without a certificate", "sip: {listen: ['tls:0.0.0.0:5061']}", "sip.listen[0]"},
		{"tls key without certificate", "sip: {tls: {key: /etc/peerline/key.pem}}", "sip.tls"},
		{"bad ports", "sip: {rtp_ports: 20000-10000}", "sip.rtp_ports"},
		{"webhook without secret", "webhooks: [{url: 'https://x.example/h'}]", "webhooks[0].secret"},
		{"pbx with a short secret", "pbx: {webhooks: [{name: elks, auth: hmac, secret: kort}]}", "pbx.webhooks[0].secret"},
		{"pbx with an unknown auth", "pbx: {webhooks: [{name: elks, auth: basic, secret: 0123456789abcdef}]}", "pbx.webhooks[0].auth"},
		{"pbx named twice", "pbx: {webhooks: [{name: a, auth: hmac, secret: 0123456789abcdef}, {name: a, auth: bearer, secret: 0123456789abcdef}]}", "pbx.webhooks[1].name"},
		{"pbx silence under poll", "pbx: {poll: 30s, silence: 20s}", "pbx.silence"},
		{"pbx public url", "pbx: {public_url: 'ftp://x'}", "pbx.public_url"},
		{"list expected", "sip: {listen: 'udp:0.0.0.0:5060'}", "sip.listen"},
		{"mapping expected", "lines: [{id: a, numbers: [a], hours: 9-17}]", "lines[0].hours"},
		{"unknown top-level", "colour: blue", "colour"},
		{"no lines", "lines: []", "lines"},
		{"bad log level", "log: {level: loud}", "log.level"},
		{"end key ends the safety key", "lines: [{id: a, numbers: [a], keys: {agent_login: '*', end_call: '9', safety: '*9'}}]", "lines[0].keys.safety"},
		{"referral key clashes with safety", "lines: [{id: a, numbers: [a], referrals: [{key: '9', name: X, number: '1177'}]}]", "lines[0].referrals[0].key"},
		{"referral keys clash", "lines: [{id: a, numbers: [a], referrals: [{key: '*1', name: X, number: '1177'}, {key: '1', name: Y, number: '1177'}]}]", "lines[0].referrals[1].key"},
		{"referral dials 112", "lines: [{id: a, numbers: [a], referrals: [{key: '*3', name: SOS, number: '112'}]}]", "lines[0].referrals[0].number"},
		{"referral without a number", "lines: [{id: a, numbers: [a], referrals: [{key: '*3', name: X, mode: blind}]}]", "lines[0].referrals[0].number"},
		{"referral to no number", "lines: [{id: a, numbers: [a], referrals: [{key: '*3', name: X, number: 'sip:x@y'}]}]", "lines[0].referrals[0].number"},
		{"referral mode", "lines: [{id: a, numbers: [a], referrals: [{key: '*3', name: X, number: '1177', mode: cold}]}]", "lines[0].referrals[0].mode"},
		{"tell without number or prompt", "lines: [{id: a, numbers: [a], referrals: [{key: '*3', name: X, mode: tell}]}]", "lines[0].referrals[0].prompt"},
		{"trunk rate", "sip: {trunk: {max_rate: 0}}", "sip.trunk.max_rate"},
		{"bad answer key", "lines: [{id: a, numbers: [a], wrapup: {questions: [{id: q, prompt: p, answers: {'#': x}}]}}]", "lines[0].wrapup.questions[0].answers.#"},
		{"incident no answer", "lines: [{id: a, numbers: [a], wrapup: {questions: [{id: q, prompt: p, answers: {'1': ja}, incident: nej}]}}]", "lines[0].wrapup.questions[0].incident"},
		{"referral no answer", "lines: [{id: a, numbers: [a], wrapup: {questions: [{id: q, prompt: p, answers: {'1': ja}, referral: nej}]}}]", "lines[0].wrapup.questions[0].referral"},
		{"label of no answer", "lines: [{id: a, numbers: [a], wrapup: {questions: [{id: q, prompt: p, answers: {'1': ja}, labels: {nej: Nej}}]}}]", "lines[0].wrapup.questions[0].labels.nej"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml))
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v, want config.Errors", err)
			}
			for _, e := range es {
				if e.Path == tt.path {
					return
				}
			}
			t.Errorf("no error at %s in:\n%v", tt.path, err)
		})
	}
}

// TestDecodeAndValidationErrorsTogether: a value that does not decode does
// not hide the problems that validation finds elsewhere.
func TestDecodeAndValidationErrorsTogether(t *testing.T) {
	_, err := config.Parse([]byte("http: {listen: nowhere}\nlines: [{id: a, numbers: [a], hours: {open: '25:00'}}]\n"))
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]int{}
	for _, e := range es {
		got[e.Path]++
	}
	if got["http.listen"] != 1 || got["lines[0].hours.open"] != 1 || len(es) != 2 {
		t.Errorf("got %v", err)
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := config.Parse([]byte("lines: [\n"))
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "line") {
		t.Fatalf("err = %v", err)
	}
}

func TestMaskedPrintRoundTrips(t *testing.T) {
	c, err := config.LoadFile("testdata/two-lines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Masked().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cret", "hook-secret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("printed config contains %q", secret)
		}
	}
	if c.SIP.Trunk.Password != "s3cret" {
		t.Error("Masked changed the original")
	}
	again, err := config.Parse(out)
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out)
	}
	if again.Lines[1].Hours.Open != c.Lines[1].Hours.Open || again.Lines[0].Calls.Limit != c.Lines[0].Calls.Limit {
		t.Error("printed config differs after a round trip")
	}
	if !strings.Contains(string(out), "limit: 20m\n") {
		t.Errorf("durations should print short:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/two-lines.yaml", "testdata/three-mistakes.yaml", "default.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("lines: [{id: a, hours: {open: '24:00'}}]"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse(b)
		if err == nil && len(config.Validate(c)) != 0 {
			t.Fatal("Parse accepted a config that Validate refuses")
		}
		if err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("error without ErrInvalid: %v", err)
		}
	})
}

func TestRoutesReadEveryFormOfANumber(t *testing.T) {
	cfg, err := config.Parse([]byte("lines: [{id: a, numbers: ['+46812345678', peer]}, {id: b, numbers: ['08-76543210']}]"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Routes()
	for called, want := range map[string]string{"+46812345678": "a", "0812345678": "a", "46812345678": "a",
		"0046812345678": "a", "peer": "a", "+46876543210": "b", "0876543210": "b"} {
		if got, ok := r.Line(called); !ok || got != want {
			t.Errorf("%s reaches %q (%v), want %s", called, got, ok, want)
		}
	}
	for _, called := range []string{"0812345679", "Peer", "", "+4781234567"} {
		if got, ok := r.Line(called); ok {
			t.Errorf("%q reaches %s", called, got)
		}
	}
}

func TestElksConfigIsChecked(t *testing.T) {
	cfg := config.Default()
	cfg.PBX.Elks = &config.PBXElks{Secret: "short", User: "elks", AllowFrom: []string{"192.0.2.0/24", "198.51.100.7/32", "nowhere"}}
	cfg.Lines[0].Calls.Strategy = "ring-all"
	got := config.Validate(cfg).Error()
	for _, want := range []string{"pbx.elks.secret", "pbx.elks.user", "pbx.elks.allow_from[2]", "pbx.public_url", "lines[0].calls.strategy"} {
		if !strings.Contains(got, want) {
			t.Errorf("no error at %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allow_from[0]") || strings.Contains(got, "allow_from[1]") {
		t.Errorf("a good address refused:\n%s", got)
	}
	cfg.PBX.Elks = &config.PBXElks{Secret: "a-long-enough-secret_0123456789", User: "elks", Password: "elks-lösen"}
	cfg.PBX.PublicURL = "https://peerline.example"
	cfg.Lines[0].Calls.Strategy = "longest-idle"
	if es := config.Validate(cfg); len(es) > 0 {
		t.Errorf("a good 46elks config: %v", es)
	}
	out, _ := cfg.Masked().YAML()
	if strings.Contains(string(out), "a-long-enough-secret") || strings.Contains(string(out), "elks-lösen") || cfg.PBX.Elks.Secret == "********" {
		t.Errorf("masked:\n%s", out)
	}
}
