package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// debugEnv names a loopback address where serve offers Go's profiles
// (/debug/pprof/): for measuring memory and CPU under load, never set in
// production. A profile or trace holds code locations, sizes and times, no
// call's data.
const debugEnv = "PEERLINE_PPROF"

// startDebug serves the profiles on os.Getenv(debugEnv), if set, until ctx ends.
func startDebug(ctx context.Context, log zerolog.Logger) error {
	addr := os.Getenv(debugEnv)
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s=%q: a loopback address and port, such as 127.0.0.1:6060", debugEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", debugEnv, err)
	}
	runtime.MemProfileRate = 4096 // a call's few kilobytes show in the heap profile
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	log.Warn().Str("addr", ln.Addr().String()).Msg("Go profiles served for measurement (" + debugEnv + ")")
	return nil
}
