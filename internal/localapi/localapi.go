// Package localapi is the running service's admin socket, in the way
// tailscale's CLI talks to tailscaled: a Unix socket in the data directory,
// mode 0600, that takes one CLI command per request from the service's own OS
// user (checked by the kernel's peer credentials, not by what the client says)
// and streams the command's output back. The CLI runs a command through it
// while the service holds the database, and opens the database itself when
// the service is stopped.
package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SocketName is the socket's name inside the data directory.
const SocketName = "peerline.sock"

var (
	// ErrNotRunning means no service answers on the socket: the CLI may open
	// the database itself.
	ErrNotRunning = errors.New("peerline is not running")
	// ErrUsage is a command's usage error, passed back from the service.
	ErrUsage = errors.New("usage")
)

// Request is one CLI command: its name ("token create"), positional
// arguments, flags and input (a password, a file's content) that the CLI
// gathered on its side.
type Request struct {
	Command string            `json:"command"`
	Args    []string          `json:"args,omitempty"`
	Flags   map[string]string `json:"flags,omitempty"`
	Input   []byte            `json:"input,omitempty"`
}

// Caller is who sent a request, as the kernel says.
type Caller struct {
	UID  int
	User string // the OS user name, or the uid when it has none
}

// Handler runs a request, writing its output to w.
type Handler func(ctx context.Context, c Caller, r Request, w io.Writer) error

// Path is the socket's path for data directory dir.
func Path(dir string) string { return filepath.Join(dir, SocketName) }

// Listen makes the socket in dir, owner-only. A socket left by a service that
// died is replaced; one that answers is another service on the same data.
func Listen(dir string) (net.Listener, error) {
	path := Path(dir)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("localapi: %s: another peerline answers there", path)
	}
	os.Remove(path)
	old := syscall.Umask(0o177) // the socket is created 0600, with no moment of wider access
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	return l, nil
}

type callerKey struct{}

// Serve answers requests on l with h until ctx ends. Only the service's own
// user (and root, who could read the database file anyway) is served.
func Serve(ctx context.Context, l net.Listener, h Handler) error {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveRun(w, r, h) }),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, callerKey{}, peer(c))
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// peer is the other end of a Unix connection; UID -1 when unknown.
func peer(c net.Conn) Caller {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Caller{UID: -1}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Caller{UID: -1}
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err != nil || cred == nil {
		return Caller{UID: -1}
	}
	name := strconv.Itoa(int(cred.Uid))
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return Caller{UID: int(cred.Uid), User: name}
}

// The status trailer says how a command ended, after its output.
const (
	trailerStatus = "Peerline-Status" // ok, usage or error
	trailerError  = "Peerline-Error"
)

func serveRun(w http.ResponseWriter, r *http.Request, h Handler) {
	c, _ := r.Context().Value(callerKey{}).(Caller)
	if c.UID != os.Getuid() && c.UID != 0 {
		http.Error(w, "only the service's own user may use this socket", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/run" {
		http.NotFound(w, r)
		return
	}
	var req Request
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Trailer", trailerStatus+", "+trailerError)
	w.Header().Set("Content-Type", "application/octet-stream")
	err := h(r.Context(), c, req, w)
	status := "ok"
	switch {
	case errors.Is(err, ErrUsage):
		status = "usage"
	case err != nil:
		status = "error"
	}
	w.Header().Set(trailerStatus, status)
	if err != nil {
		w.Header().Set(trailerError, strconv.Quote(err.Error())) // a header holds no line breaks
	}
}

// Client runs commands in the service.
type Client struct{ http *http.Client }

// Dial finds the service of data directory dir: ErrNotRunning when nobody
// answers there, another error when the socket is there but may not be used.
func Dial(dir string) (*Client, error) {
	path := Path(dir)
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return nil, ErrNotRunning
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("peerline is running, and its admin socket %s is its own user's: run this as that user (%w)", path, err)
	case err != nil:
		return nil, fmt.Errorf("the admin socket %s: %w", path, err)
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{http: &http.Client{Transport: tr}}, nil
}

// Run runs r in the service, copying its output to w; the command's error
// comes back as an error (wrapping ErrUsage for a usage error).
func (c *Client) Run(ctx context.Context, r Request, w io.Writer) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://peerline/v1/run", bytes.NewReader(body))
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("the running peerline: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("the running peerline: %s", strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(w, res.Body); err != nil {
		return err
	}
	msg, _ := strconv.Unquote(res.Trailer.Get(trailerError))
	switch res.Trailer.Get(trailerStatus) {
	case "ok":
		return nil
	case "usage":
		return fmt.Errorf("%w%s", ErrUsage, strings.TrimPrefix(msg, ErrUsage.Error()))
	case "error":
		return errors.New(msg)
	}
	return errors.New("the running peerline stopped before the command ended")
}
