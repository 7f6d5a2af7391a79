package localapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/peerline/peerline/internal/localapi"
)

func TestCommandsOverTheSocket(t *testing.T) {
	dir := t.TempDir()
	if _, err := localapi.Dial(dir); !errors.Is(err, localapi.ErrNotRunning) {
		t.Fatalf("no socket: %v", err)
	}
	// A socket left by a service that died is replaced.
	stale, err := net.Listen("unix", localapi.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := localapi.Dial(dir); !errors.Is(err, localapi.ErrNotRunning) {
		t.Fatalf("a stale socket: %v", err)
	}
	l, err := localapi.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(localapi.Path(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v %v, want 0600", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- localapi.Serve(ctx, l, func(_ context.Context, c localapi.Caller, r localapi.Request, w io.Writer) error {
			switch r.Command {
			case "echo":
				fmt.Fprintf(w, "%s %v %s %s uid=%d", r.Command, r.Args, r.Flags["role"], r.Input, c.UID)
				return nil
			case "usage":
				return fmt.Errorf("%w: line one\nline two", localapi.ErrUsage)
			}
			fmt.Fprint(w, "partial output")
			return errors.New("it failed\non two lines")
		})
	}()
	if _, err := localapi.Listen(dir); err == nil {
		t.Error("a second service on the same data directory was let in")
	}
	c, err := localapi.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = c.Run(ctx, localapi.Request{Command: "echo", Args: []string{"a"}, Flags: map[string]string{"role": "admin"}, Input: []byte("pw")}, &out)
	if want := fmt.Sprintf("echo [a] admin pw uid=%d", os.Getuid()); err != nil || out.String() != want {
		t.Errorf("echo: %q %v, want %q", out.String(), err, want)
	}
	err = c.Run(ctx, localapi.Request{Command: "usage"}, io.Discard)
	if !errors.Is(err, localapi.ErrUsage) || err.Error() != "usage: line one\nline two" {
		t.Errorf("usage error: %q", err)
	}
	out.Reset()
	err = c.Run(ctx, localapi.Request{Command: "fail"}, &out)
	if err == nil || err.Error() != "it failed\non two lines" || out.String() != "partial output" {
		t.Errorf("failure: %q %v", out.String(), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if _, err := os.Stat(localapi.Path(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket outlived the service: %v", err)
	}
	if _, err := localapi.Dial(dir); !errors.Is(err, localapi.ErrNotRunning) || strings.Contains(fmt.Sprint(err), "permission") {
		t.Errorf("after the service: %v", err)
	}
}
