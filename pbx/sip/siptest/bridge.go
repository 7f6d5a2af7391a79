package siptest

import (
	"testing"
	"time"
)

// HearEachOther checks a bridge both ways: 1 kHz from the caller's phone
// reaches the agent and 2 kHz from the agent reaches the caller.
func HearEachOther(t testing.TB, phone *Phone, call *Call, agent *Agent) {
	t.Helper()
	phone.Media.Reset()
	agent.Media.Reset()
	go agent.Media.Send(agent.Remote(), 2000, 25)
	phone.Media.Send(call.Remote(), 1000, 25)
	time.Sleep(100 * time.Millisecond)
	if !agent.Media.Hears(1000, 2000) {
		t.Errorf("the agent did not hear the caller's 1 kHz (%d samples)", len(agent.Media.Heard()))
	}
	if !phone.Media.Hears(2000, 2000) {
		t.Errorf("the caller did not hear the agent's 2 kHz (%d samples)", len(phone.Media.Heard()))
	}
}
