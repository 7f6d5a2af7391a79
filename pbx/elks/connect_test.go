package elks

import (
	"errors"
	"testing"

	"github.com/peerline/peerline/line"
)

// TestAConnectThatFailedIsAMiss: 46elks's results for a connect that ended
// before the agent counted as answered map onto the flows' reasons.
func TestAConnectThatFailedIsAMiss(t *testing.T) {
	for result, want := range map[string]error{"busy": line.ErrBusy, "failed": line.ErrNoAnswer,
		"success": line.ErrNoAnswer, "": line.ErrNoAnswer} {
		if err := failure(result); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", result, err, want)
		}
	}
}
