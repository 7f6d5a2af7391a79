package main

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestDebugProfilesOnlyOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "localhost", "6060"} {
		t.Setenv(debugEnv, bad)
		if err := startDebug(ctx, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s=%q: %v", debugEnv, bad, err)
		}
	}
	t.Setenv(debugEnv, "")
	if err := startDebug(ctx, zerolog.Nop()); err != nil {
		t.Errorf("unset: %v", err)
	}
	t.Setenv(debugEnv, "127.0.0.1:0")
	if err := startDebug(ctx, zerolog.Nop()); err != nil {
		t.Errorf("loopback: %v", err)
	}
}
