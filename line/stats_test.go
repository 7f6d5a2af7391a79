package line_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
)

// statsRecords are twelve records over Monday 18 – Thursday 21 May 2026; the
// figures the tests expect are counted by hand from this list.
func statsRecords() []line.Record {
	form := func(filled bool, answers map[string]string) *line.Wrapup {
		return &line.Wrapup{Filled: filled, Answers: answers}
	}
	r := func(n int, start string, o line.Outcome, agent string, wait, talk float64) line.Record {
		return line.Record{ID: "r" + string(rune('a'+n)), Line: "peer", Start: at(start).UTC(), Outcome: o, Agent: agent, Wait: wait, Talk: talk}
	}
	recs := []line.Record{
		r(1, "2026-05-18 13:05:00", line.OutcomeAnswered, "klara", 10, 300),
		r(2, "2026-05-18 13:40:00", line.OutcomeAnswered, "jim", 30, 1200),
		r(3, "2026-05-18 14:10:00", line.OutcomeNoAgents, "", 0, 0),
		r(4, "2026-05-18 17:00:00", line.OutcomeClosed, "", 0, 0),
		r(5, "2026-05-19 01:30:00", line.OutcomeClosed, "", 0, 0), // 23:30 UTC the day before
		r(6, "2026-05-19 13:15:00", line.OutcomeAnswered, "klara", 5, 60),
		r(7, "2026-05-19 13:20:00", line.OutcomeAbandonedQueue, "", 40, 0),
		r(8, "2026-05-19 13:50:00", line.OutcomeAnswered, "klara", 8, 120),
		r(9, "2026-05-19 14:00:00", line.OutcomeNotReached, "klara", 30, 0),
		r(10, "2026-05-19 15:00:00", line.OutcomeAnswered, "agneta", 0, 900),
		r(11, "2026-05-21 13:30:00", line.OutcomeQueueTimeout, "", 300, 0),
		r(12, "2026-05-21 13:45:00", line.OutcomeAnswered, "jim", 15, 1500),
	}
	recs[0].Wrapup = form(true, map[string]string{"call_type": "stod", "referred": "ja", "office_contact": "nej"})
	recs[1].Wrapup = form(true, map[string]string{"call_type": "kris", "referred": "nej", "office_contact": "ja"})
	recs[1].LimitHit = true
	recs[0].Referral = &line.Referred{Key: "*1", Name: "Självmordslinjen", Mode: "warm", Answered: true}
	recs[1].Referral = &line.Referred{Key: "*3", Name: "112", Mode: "tell"}
	recs[4].Referral = &line.Referred{Key: "*1", Name: "Självmordslinjen", Mode: "warm"} // a closed call: not counted
	recs[5].Wrapup = form(false, map[string]string{"call_type": "stod"})
	recs[7].Callback, recs[8].Callback = true, true
	recs[7].Wrapup = form(true, map[string]string{"call_type": "information", "referred": "ja"})
	recs[9].Flagged = true
	recs[9].Wrapup = form(false, nil)
	// recs[11] has no form: the line had none then.
	return recs
}

func TestStatsByHandCount(t *testing.T) {
	w := newWorld(t, "2026-05-22 09:00:00", config.Default().Lines)
	if err := w.lines.SaveRecords(statsRecords()...); err != nil {
		t.Fatal(err)
	}
	st, err := w.lines.Stats("peer", date("2026-05-18"), date("2026-05-21"), "day")
	if err != nil {
		t.Fatal(err)
	}
	want := line.Figures{
		Calls: 10, Answered: 5, Closed: 2, Missed: 3, Callbacks: 2, CallbacksReached: 1,
		Outcomes: map[line.Outcome]int{"answered": 5, "closed": 2, "no_agents": 1, "abandoned_queue": 1, "queue_timeout": 1},
		// Talks 60, 120, 300, 900, 1200, 1500: the median is between 300 and 900.
		Talk:    line.Lengths{Total: 4080, Mean: 680, Median: 600, Max: 1500},
		Lengths: map[string]int{"0-5m": 2, "5-10m": 1, "10-15m": 0, "15-20m": 1, "20m+": 2},
		// The waits of the answered callers' calls: 10, 30, 5, 0, 15.
		LimitHits: 1, Flagged: 1, WaitMean: 12,
		Wrapup: map[string]map[string]int{
			"call_type":      {"stod": 2, "kris": 1, "information": 1},
			"referred":       {"ja": 2, "nej": 1},
			"office_contact": {"nej": 1, "ja": 1},
		},
		Filled: 3, NotFilled: 2,
		Referrals: map[string]line.ReferralCount{"Självmordslinjen": {Mode: "warm", Made: 1, Answered: 1}, "112": {Mode: "tell", Made: 1}},
	}
	if !reflect.DeepEqual(st.Total, want) {
		t.Errorf("total\n got %+v\nwant %+v", st.Total, want)
	}
	days := map[string][4]int{ // calls, answered, closed, missed
		"2026-05-18": {4, 2, 1, 1}, "2026-05-19": {4, 2, 1, 1}, "2026-05-20": {0, 0, 0, 0}, "2026-05-21": {2, 1, 0, 1},
	}
	if len(st.Buckets) != 4 {
		t.Fatalf("buckets: %+v", st.Buckets)
	}
	for _, b := range st.Buckets {
		if got := [4]int{b.Calls, b.Answered, b.Closed, b.Missed}; got != days[b.Key] {
			t.Errorf("%s: %v, want %v", b.Key, got, days[b.Key])
		}
	}
	if b := st.Buckets[1]; b.Callbacks != 2 || b.CallbacksReached != 1 || b.Talk.Total != 1080 || b.Flagged != 1 {
		t.Errorf("19 May: %+v", b.Figures)
	}

	st, err = w.lines.Stats("peer", date("2026-05-18"), date("2026-05-21"), "hour")
	if err != nil {
		t.Fatal(err)
	}
	hours := map[string][2]int{"1": {1, 0}, "13": {6, 4}, "14": {1, 0}, "15": {1, 1}, "17": {1, 0}} // calls, answered
	if len(st.Buckets) != 24 {
		t.Fatalf("%d hour buckets", len(st.Buckets))
	}
	for _, b := range st.Buckets {
		if got := [2]int{b.Calls, b.Answered}; got != hours[b.Key] {
			t.Errorf("hour %s: %v, want %v", b.Key, got, hours[b.Key])
		}
	}
	if b := st.Buckets[13]; b.Callbacks != 1 || b.LimitHits != 1 || b.Wrapup["call_type"]["stod"] != 2 {
		t.Errorf("13:00: %+v", b.Figures)
	}
	if !reflect.DeepEqual(st.Total, want) {
		t.Error("the total depends on the buckets")
	}
}

// TestStatsAcrossDSTChanges: the hours are the line's local hours. On 29 March
// 2026 02:00–02:59 does not exist; on 25 October it happens twice.
func TestStatsAcrossDSTChanges(t *testing.T) {
	w := newWorld(t, "2026-11-01 09:00:00", config.Default().Lines)
	utc := func(s string) time.Time { v, _ := time.Parse(time.DateTime, s); return v }
	recs := []line.Record{
		{ID: "spring-1", Line: "peer", Start: utc("2026-03-29 00:30:00"), Outcome: line.OutcomeClosed}, // 01:30 CET
		{ID: "spring-2", Line: "peer", Start: utc("2026-03-29 01:30:00"), Outcome: line.OutcomeClosed}, // 03:30 CEST
		{ID: "autumn-1", Line: "peer", Start: utc("2026-10-25 00:30:00"), Outcome: line.OutcomeClosed}, // 02:30 CEST
		{ID: "autumn-2", Line: "peer", Start: utc("2026-10-25 01:30:00"), Outcome: line.OutcomeClosed}, // 02:30 CET
		{ID: "autumn-3", Line: "peer", Start: utc("2026-10-25 22:59:00"), Outcome: line.OutcomeClosed}, // 23:59 CET
	}
	if err := w.lines.SaveRecords(recs...); err != nil {
		t.Fatal(err)
	}
	st, err := w.lines.Stats("peer", date("2026-03-29"), date("2026-03-29"), "hour")
	if err != nil {
		t.Fatal(err)
	}
	if st.Buckets[1].Calls != 1 || st.Buckets[2].Calls != 0 || st.Buckets[3].Calls != 1 {
		t.Errorf("spring: %v %v %v", st.Buckets[1].Calls, st.Buckets[2].Calls, st.Buckets[3].Calls)
	}
	st, _ = w.lines.Stats("peer", date("2026-10-25"), date("2026-10-25"), "hour")
	if st.Buckets[2].Calls != 2 || st.Buckets[23].Calls != 1 || st.Total.Calls != 3 {
		t.Errorf("autumn: hour 2 %d, hour 23 %d, total %d", st.Buckets[2].Calls, st.Buckets[23].Calls, st.Total.Calls)
	}
	st, _ = w.lines.Stats("peer", date("2026-10-25"), date("2026-10-26"), "day")
	if st.Buckets[0].Calls != 3 || st.Buckets[1].Calls != 0 {
		t.Errorf("autumn by day: %+v", st.Buckets)
	}
}

func TestStatsBadInput(t *testing.T) {
	w := newWorld(t, "2026-05-22 09:00:00", config.Default().Lines)
	if _, err := w.lines.Stats("peer", date("2026-05-18"), date("2026-05-21"), "week"); !isField(err, "by") {
		t.Errorf("by=week: %v", err)
	}
	if _, err := w.lines.Stats("peer", date("2026-05-21"), date("2026-05-18"), "day"); !isField(err, "to") {
		t.Errorf("to before from: %v", err)
	}
	if _, err := w.lines.Stats("nope", date("2026-05-18"), date("2026-05-21"), "day"); !errors.Is(err, line.ErrUnknownLine) {
		t.Errorf("unknown line: %v", err)
	}
}

func isField(err error, field string) bool {
	e, ok := input.As(err)
	return ok && e.Field == field
}
