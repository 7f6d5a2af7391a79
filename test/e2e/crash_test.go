package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/pbx/media"
	"github.com/peerline/peerline/pbx/sip/siptest"
)

// TestNoCallIsLostToKill9: peerline is killed with SIGKILL during bridged
// calls; started again, it records each of them as interrupted, its agents are
// free for the next caller, and a later SIGTERM ends a call as "stopped".
func TestNoCallIsLostToKill9(t *testing.T) {
	const calls = 3
	dir := t.TempDir()
	s, token := openLine(t, dir, "41000-41998", "")
	var agents []*siptest.Agent
	for i := range calls {
		a := siptest.NewAgent(t, media.PCMU, siptest.AgentOptions{})
		agents = append(agents, a)
		id := fmt.Sprintf("k%d", i)
		body := fmt.Sprintf(`{"id":%q,"name":"Agent %d","phone":"070-174 07 %02d","sip_uri":%q,"lines":["peer"]}`, id, i, i, a.URI)
		for _, r := range [][2]string{{"/api/v1/agents", body}, {"/api/v1/agents/" + id + "/login", ""}} {
			if code, out := s.request("POST", r[0], token, r[1]); code >= 300 {
				t.Fatalf("%s: %d %s", r[0], code, out)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range calls {
		phone := siptest.NewPhone(t, fmt.Sprintf("+4670555000%d", i), media.PCMU)
		call, err := phone.Call(ctx, "peer", s.SIP)
		if err != nil || call.Status != 200 {
			t.Fatalf("call %d: %v %+v", i, err, call)
		}
		siptest.HearEachOther(t, phone, call, rung(t, agents))
	}

	s.cmd.Process.Kill()
	s.cmd.Wait()
	s = startServer(t, dir, "--config", dir+"/peerline.yaml")
	recs := waitCalls(t, s, token, calls)
	for _, r := range recs {
		if r.Outcome != line.OutcomeAnswered || r.Ended != line.EndedInterrupted || r.Agent == "" || r.End.Before(r.Start) {
			t.Errorf("after kill -9: %+v", r)
		}
	}
	t.Logf("records after kill -9: %d of %d calls, ended %q", len(recs), calls, recs[0].Ended)
	if !strings.Contains(s.log(), "recorded as interrupted") {
		t.Errorf("the start did not say so:\n%s", tail(s.stderr.String(), 2000))
	}
	_, st := s.request("GET", "/api/v1/lines/peer", token, "")
	if strings.Count(st, `"activity":"available"`) != calls {
		t.Errorf("the agents are not free after the restart: %s", st)
	}

	// SIGTERM during a call: its record ends "stopped".
	phone := siptest.NewPhone(t, "+46705559999", media.PCMU)
	call, err := phone.Call(ctx, "peer", s.SIP)
	if err != nil || call.Status != 200 {
		t.Fatalf("call after the restart: %v %+v", err, call)
	}
	s.stop()
	s = startServer(t, dir, "--config", dir+"/peerline.yaml")
	recs = waitCalls(t, s, token, calls+1)
	if r := recs[len(recs)-1]; r.Outcome != line.OutcomeAnswered || r.Ended != line.EndedStopped {
		t.Errorf("after SIGTERM: %+v", r)
	}
}

// rung is the agent whose phone rang (bounded wait).
func rung(t *testing.T, agents []*siptest.Agent) *siptest.Agent {
	t.Helper()
	for range 500 {
		for _, a := range agents {
			if a.WaitInvite(time.Millisecond) != nil {
				return a
			}
		}
	}
	t.Fatal("no agent's phone rang")
	return nil
}

// waitCalls waits (bounded) for at least n of today's call records.
func waitCalls(t *testing.T, s *server, token string, n int) []line.Record {
	t.Helper()
	var got struct {
		Calls []line.Record `json:"calls"`
	}
	for range 250 {
		_, body := s.request("GET", "/api/v1/lines/peer/calls", token, "")
		json.Unmarshal([]byte(body), &got)
		if len(got.Calls) >= n {
			return got.Calls
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d call records, want %d", len(got.Calls), n)
	return nil
}
