package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/line/linetest"
)

func TestTheQueueShowsInTheLineAndTheMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/api/v1/agents", `{"id":"klara","name":"Klara","phone":"070-174 06 05","lines":["peer"]}`, nil)
	e.do("POST", "/api/v1/agents/klara/login", "", nil)
	// Klara takes a first call; two more callers wait.
	calls := make([]*linetest.Call, 3)
	legs := make(chan *linetest.Call, 3)
	done := make(chan error, 3)
	for i, number := range []string{"+46701111111", "+46702222222", "+46703333333"} {
		c := linetest.NewCall("c"+string(rune('1'+i)), number)
		c.Answerer = func(ctx context.Context, tg line.Target, _ line.DialOptions) (*linetest.Call, error) {
			leg := linetest.NewCall("agent", "")
			legs <- leg
			return leg, nil
		}
		calls[i] = c
		go func() { done <- e.lines.Handle(context.Background(), "peer", c) }()
		for range 5000 { // bounded: until the flow has put the call through or on hold
			if len(e.lines.Queue("peer")) == i || i == 0 && bridged(c) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		e.clock.Advance(30 * time.Second)
	}
	var l struct {
		Queue []line.Queued `json:"queue"`
	}
	code, body := e.raw(e.token, "GET", "/api/v1/lines/peer", "")
	if code != 200 {
		t.Fatalf("GET line: %d %s", code, body)
	}
	e.do("GET", "/api/v1/lines/peer", "", &l)
	if len(l.Queue) != 2 || l.Queue[0].Position != 1 || l.Queue[0].Wait != 60 || l.Queue[1].Wait != 30 {
		t.Errorf("queue: %+v", l.Queue)
	}
	res, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := string(b)
	if !strings.Contains(m, `peerline_queue_callers{line="peer"} 2`) || !strings.Contains(m, `peerline_queue_longest_wait_seconds{line="peer"} 60`) {
		t.Errorf("queue metrics:\n%s", grep(m, "peerline_queue"))
	}
	for _, s := range []string{"1111111", "2222222", "3333333"} {
		if strings.Contains(string(body), s) || strings.Contains(m, s) {
			t.Errorf("a caller's number (%s) in the API or the metrics", s)
		}
	}
	for _, c := range calls {
		c.CallerHangsUp()
	}
	for len(legs) > 0 {
		(<-legs).CallerHangsUp() // Klara skips the wrap-up form
	}
	for range calls {
		<-done
	}
}

func bridged(c *linetest.Call) bool {
	_, _, _, b := c.Connection()
	return b
}
