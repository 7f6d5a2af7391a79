package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sippMessage is one SIP message from a SIPp -trace_msg log.
type sippMessage struct {
	at     time.Time
	sent   bool
	start  string // the request or status line
	callID string
	method string // of the CSeq
}

// sippTrace reads the messages of the scenario's -trace_msg logs in dir.
func sippTrace(dir, scenario string) []sippMessage {
	var out []sippMessage
	logs, _ := filepath.Glob(filepath.Join(dir, strings.TrimSuffix(scenario, ".xml")+"_*_messages.log"))
	for _, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var m *sippMessage
		for sc.Scan() {
			line := sc.Text()
			if stamp, ok := strings.CutPrefix(line, "----------------------------------------------- "); ok {
				at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", stamp, time.Local)
				if err != nil {
					m = nil
					continue
				}
				out = append(out, sippMessage{at: at})
				m = &out[len(out)-1]
				continue
			}
			switch {
			case m == nil:
			case strings.Contains(line, "message sent"):
				m.sent = true
			case m.start == "" && (strings.HasPrefix(line, "SIP/2.0 ") || strings.Contains(line, " SIP/2.0")):
				m.start = line
			case strings.HasPrefix(line, "Call-ID:"):
				m.callID = strings.TrimSpace(strings.TrimPrefix(line, "Call-ID:"))
			case strings.HasPrefix(line, "CSeq:"):
				if f := strings.Fields(line); len(f) == 3 {
					m.method = f[2]
				}
			}
		}
		f.Close()
	}
	slices.SortFunc(out, func(a, b sippMessage) int { return a.at.Compare(b.at) })
	return out
}

// firstOf is the time of the first message of each call that matches, in the
// order the calls came.
func firstOf(msgs []sippMessage, match func(sippMessage) bool) []time.Time {
	seen := map[string]bool{}
	var out []time.Time
	for _, m := range msgs {
		if match(m) && !seen[m.callID] {
			seen[m.callID] = true
			out = append(out, m.at)
		}
	}
	return out
}

// gaps pairs the k-th time of from with the k-th of to (calls keep their
// order through the server at these rates) and returns to - from.
func gaps(from, to []time.Time) []time.Duration {
	n := min(len(from), len(to))
	out := make([]time.Duration, 0, n)
	for i := range n {
		out = append(out, to[i].Sub(from[i]))
	}
	return out
}

// perCall is, for each call, the time from its first message matching from to
// its first matching to after that.
func perCall(msgs []sippMessage, from, to func(sippMessage) bool) []time.Duration {
	start := map[string]time.Time{}
	done := map[string]bool{}
	var out []time.Duration
	for _, m := range msgs {
		if t, ok := start[m.callID]; ok && !done[m.callID] && to(m) {
			done[m.callID] = true
			out = append(out, m.at.Sub(t))
		} else if !ok && from(m) {
			start[m.callID] = m.at
		}
	}
	return out
}

// quantiles formats the median, 99th percentile and maximum of d.
func quantiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	slices.Sort(d)
	q := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %v, p99 %v, max %v (%d calls)", q(0.5), q(0.99), d[len(d)-1].Round(10*time.Microsecond), len(d))
}
