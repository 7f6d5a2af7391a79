package line

import (
	"slices"
	"strconv"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
)

// Figures answer the routine's evaluation questions for a set of call records:
// how many called (also while closed), what became of the calls, what kind they
// were, how many were referred, how long they lasted, how many hit the limit.
type Figures struct {
	// Calls counts callers' call attempts; the agents' callbacks are apart.
	Calls    int             `json:"calls"`
	Outcomes map[Outcome]int `json:"outcomes"` // callers' attempts by outcome
	Answered int             `json:"answered"`
	Closed   int             `json:"closed"` // attempts while the line was closed
	// Missed are attempts on an open line nobody took: no agents, the queue,
	// agents not answering, failures.
	Missed int `json:"missed"`

	Callbacks        int `json:"callbacks"`         // made by agents
	CallbacksReached int `json:"callbacks_reached"` // the caller answered

	// Talk is over every conversation, callers' calls and callbacks.
	Talk      Lengths        `json:"talk"`
	Lengths   map[string]int `json:"lengths"` // conversations by talk time, see lengthBands
	LimitHits int            `json:"limit_hits"`
	Flagged   int            `json:"flagged"`
	WaitMean  float64        `json:"wait_mean_seconds"` // answered callers' calls

	// Wrapup counts the answers by question id and meaning; Filled and NotFilled
	// are the forms that were and were not completed.
	Wrapup    map[string]map[string]int `json:"wrapup"`
	Filled    int                       `json:"wrapup_filled"`
	NotFilled int                       `json:"wrapup_not_filled"`

	// Referrals count the hand-overs by service name.
	Referrals map[string]ReferralCount `json:"referrals"`
}

// ReferralCount is how often agents referred callers to one service, and how
// often the service answered (a tell referral dials nobody).
type ReferralCount struct {
	Mode     string `json:"mode"`
	Made     int    `json:"made"`
	Answered int    `json:"answered"`
}

// Lengths sums up talk times in seconds.
type Lengths struct {
	Total  float64 `json:"total_seconds"`
	Mean   float64 `json:"mean_seconds"`
	Median float64 `json:"median_seconds"`
	Max    float64 `json:"max_seconds"`
}

// lengthBands are the talk-time bands of Figures.Lengths, by upper bound.
var lengthBands = []struct {
	name  string
	under time.Duration
}{
	{"0-5m", 5 * time.Minute}, {"5-10m", 10 * time.Minute}, {"10-15m", 15 * time.Minute},
	{"15-20m", 20 * time.Minute}, {"20m+", 1<<63 - 1},
}

// LengthBands names the bands of Figures.Lengths in order.
func LengthBands() []string {
	out := make([]string, len(lengthBands))
	for i, b := range lengthBands {
		out[i] = b.name
	}
	return out
}

// Bucket is the figures of one day (Key "2026-05-19") or one hour of the day
// over the whole range (Key "13" for 13:00–13:59, local time).
type Bucket struct {
	Key string `json:"key"`
	Figures
}

// Stats are the figures of a line's records over the local dates From..To,
// in all and by day or by hour.
type Stats struct {
	Line    string      `json:"line"`
	From    config.Date `json:"from"`
	To      config.Date `json:"to"`
	By      string      `json:"by"`
	Total   Figures     `json:"total"`
	Buckets []Bucket    `json:"buckets"`
}

// Stats computes the figures of line id's records on from..to, by "day" (every
// date of the range, empty ones too) or "hour" (the 24 hours of the day).
func (ls *Lines) Stats(id string, from, to config.Date, by string) (Stats, error) {
	if by != "day" && by != "hour" {
		return Stats{}, input.Errorf("by", "%q: use day or hour", by)
	}
	recs, err := ls.Records(id, from, to)
	if err != nil {
		return Stats{}, err
	}
	l, _ := ls.Get(id)
	loc := l.Calendar.Location()
	st := Stats{Line: id, From: from, To: to, By: by, Total: Compute(recs)}
	groups := map[string][]Record{}
	for _, r := range recs {
		k := r.Start.In(loc).Format(time.DateOnly)
		if by == "hour" {
			k = strconv.Itoa(r.Start.In(loc).Hour())
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range bucketKeys(from, to, by) {
		st.Buckets = append(st.Buckets, Bucket{Key: k, Figures: Compute(groups[k])})
	}
	return st, nil
}

func bucketKeys(from, to config.Date, by string) []string {
	var keys []string
	if by == "hour" {
		for h := range 24 {
			keys = append(keys, strconv.Itoa(h))
		}
		return keys
	}
	for d := from; d.String() <= to.String(); d = d.AddDays(1) {
		keys = append(keys, d.String())
	}
	return keys
}

// Compute is the figures of recs.
func Compute(recs []Record) Figures {
	f := Figures{Outcomes: map[Outcome]int{}, Lengths: map[string]int{}, Wrapup: map[string]map[string]int{},
		Referrals: map[string]ReferralCount{}}
	for _, b := range lengthBands {
		f.Lengths[b.name] = 0
	}
	var talks []float64
	var wait float64
	for _, r := range recs {
		if r.Callback {
			f.Callbacks++
		} else {
			f.Calls++
			f.Outcomes[r.Outcome]++
			switch r.Outcome {
			case OutcomeAnswered:
				wait += r.Wait
			case OutcomeClosed:
				f.Closed++
			default:
				f.Missed++
			}
		}
		if r.Outcome != OutcomeAnswered {
			continue
		}
		if r.Callback {
			f.CallbacksReached++
		} else {
			f.Answered++
		}
		talks = append(talks, r.Talk)
		f.Lengths[band(r.Talk)]++
		if r.LimitHit {
			f.LimitHits++
		}
		if r.Flagged {
			f.Flagged++
		}
		if x := r.Referral; x != nil {
			n := f.Referrals[x.Name]
			n.Mode, n.Made = x.Mode, n.Made+1
			if x.Answered {
				n.Answered++
			}
			f.Referrals[x.Name] = n
		}
		f.countForm(r.Wrapup)
	}
	f.Talk = lengths(talks)
	if f.Answered > 0 {
		f.WaitMean = wait / float64(f.Answered)
	}
	return f
}

func (f *Figures) countForm(w *Wrapup) {
	if w == nil {
		return // the line had no form
	}
	if w.Filled {
		f.Filled++
	} else {
		f.NotFilled++
	}
	for q, a := range w.Answers {
		if f.Wrapup[q] == nil {
			f.Wrapup[q] = map[string]int{}
		}
		f.Wrapup[q][a]++
	}
}

func band(talk float64) string {
	d := time.Duration(talk * float64(time.Second))
	for _, b := range lengthBands {
		if d < b.under {
			return b.name
		}
	}
	return lengthBands[len(lengthBands)-1].name
}

func lengths(talks []float64) Lengths {
	if len(talks) == 0 {
		return Lengths{}
	}
	slices.Sort(talks)
	var l Lengths
	for _, t := range talks {
		l.Total += t
	}
	l.Mean = l.Total / float64(len(talks))
	l.Max = talks[len(talks)-1]
	if n := len(talks); n%2 == 1 {
		l.Median = talks[n/2]
	} else {
		l.Median = (talks[n/2-1] + talks[n/2]) / 2
	}
	return l
}
