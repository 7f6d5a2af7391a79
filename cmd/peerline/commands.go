package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/localapi"
	"github.com/peerline/peerline/roster"
	"github.com/peerline/peerline/web/auth"
)

// A command is a CLI command that works on the database. The CLI gathers its
// arguments and input (a password, a file) on its side; run is the same code
// whether the CLI opened the database itself (the service is stopped) or the
// running service runs it for the CLI over the admin socket (localapi), so the
// output is the same either way.
type command struct {
	args   int               // positional arguments the command runs with
	flags  map[string]string // flag name -> default
	input  func(r *localapi.Request, stdin io.Reader, stderr io.Writer) error
	toFile bool // one more argument first: the file the output goes to, on the CLI's side
	run    func(ctx context.Context, a *app, r localapi.Request, out io.Writer) error
}

var commands = map[string]command{
	"user add":     {args: 1, flags: map[string]string{"role": ""}, input: newPassword, run: userAdd},
	"user list":    {run: userList},
	"user passwd":  {args: 1, input: newPassword, run: userPasswd},
	"user remove":  {args: 1, run: userRemove},
	"token create": {args: 1, flags: map[string]string{"role": string(auth.RoleOffice)}, run: tokenCreate},
	"token list":   {run: tokenList},
	"token revoke": {args: 1, run: tokenRevoke},
	"agent import": {args: 1, input: importFile, run: agentImport},
	"backup":       {toFile: true, run: backup},
}

// cli runs the command name ("token create") with its command line args.
func cli(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("%w: unknown command %q\n%s", errUsage, name, usage)
	}
	f := newFlags(name)
	vals := map[string]*string{}
	for k, def := range cmd.flags {
		vals[k] = f.String(k, def, "")
	}
	file := 0
	if cmd.toFile {
		file = 1
	}
	pos, err := f.parse(args, file+cmd.args)
	if err != nil {
		return err
	}
	r := localapi.Request{Command: name, Args: pos[file:], Flags: map[string]string{}}
	for k, v := range vals {
		r.Flags[k] = *v
	}
	if _, ok := r.Flags["role"]; ok {
		if _, err := role(r.Flags["role"]); err != nil {
			return err // before anyone types a password
		}
	}
	cfg, err := config.LoadFile(*f.config)
	if err != nil {
		return err
	}
	if cmd.input != nil {
		if err := cmd.input(&r, stdin, stderr); err != nil {
			return err
		}
	}
	if cmd.toFile {
		return toFile(pos[0], func(out io.Writer) error { return execute(ctx, cfg, r, out) }, stdout)
	}
	return execute(ctx, cfg, r, stdout)
}

// execute runs r in the running service, or on the database itself when the
// service is stopped.
func execute(ctx context.Context, cfg *config.Config, r localapi.Request, out io.Writer) error {
	c, err := localapi.Dial(cfg.DataDir)
	if err == nil {
		return c.Run(ctx, r, out)
	}
	if !errors.Is(err, localapi.ErrNotRunning) {
		return err
	}
	a, err := openApp(cfg, clock.Real{})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.runCommand(audit.WithActor(ctx, localActor()), r, out)
}

// serveCommand is the admin socket's handler: the command as the CLI sent it,
// audited with the OS user the kernel names.
func (a *app) serveCommand(ctx context.Context, c localapi.Caller, r localapi.Request, out io.Writer) error {
	return a.runCommand(audit.WithActor(ctx, audit.Actor{Kind: "cli", Name: c.User}), r, out)
}

func (a *app) runCommand(ctx context.Context, r localapi.Request, out io.Writer) error {
	cmd, ok := commands[r.Command]
	if !ok || len(r.Args) != cmd.args {
		return fmt.Errorf("%w: %q with %d argument(s)", errUsage, r.Command, len(r.Args))
	}
	return cmd.run(ctx, a, r, out)
}

// localActor is the OS user running the CLI (the one behind sudo, if any).
func localActor() audit.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if s := os.Getenv("SUDO_USER"); s != "" && os.Getuid() == 0 {
		name = s
	}
	return audit.Actor{Kind: "cli", Name: name}
}

// toFile writes what write produces to name, whole or not at all.
func toFile(name string, write func(io.Writer) error, stdout io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n := &counter{w: tmp}
	err = write(n)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s written (%d bytes)\n", name, n.n)
	return nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func userAdd(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	ro, err := role(r.Flags["role"])
	if err != nil {
		return err
	}
	if err := a.auth.AddUser(ctx, r.Args[0], ro, string(r.Input)); err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s added with role %s\n", r.Args[0], ro)
	return nil
}

func userList(_ context.Context, a *app, _ localapi.Request, out io.Writer) error {
	users, err := a.auth.Users()
	if err != nil {
		return err
	}
	slices.SortFunc(users, func(x, y auth.User) int { return strings.Compare(x.Name, y.Name) })
	for _, u := range users {
		fmt.Fprintf(out, "%s\t%s\t%s\n", u.Name, u.Role, u.Created.Format("2006-01-02 15:04"))
	}
	return nil
}

func userPasswd(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	if err := a.auth.SetPassword(ctx, r.Args[0], string(r.Input)); err != nil {
		return err
	}
	fmt.Fprintf(out, "password of %s changed\n", r.Args[0])
	return nil
}

func userRemove(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	if err := a.auth.DeleteUser(ctx, r.Args[0]); err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s removed\n", r.Args[0])
	return nil
}

func tokenCreate(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	ro, err := role(r.Flags["role"])
	if err != nil {
		return err
	}
	tok, err := a.auth.CreateToken(ctx, r.Args[0], ro)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

func tokenList(_ context.Context, a *app, _ localapi.Request, out io.Writer) error {
	toks, err := a.auth.Tokens()
	if err != nil {
		return err
	}
	for _, t := range toks {
		fmt.Fprintf(out, "%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format("2006-01-02 15:04"))
	}
	return nil
}

func tokenRevoke(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	if err := a.auth.RevokeToken(ctx, r.Args[0]); err != nil {
		return err
	}
	fmt.Fprintf(out, "token %s revoked\n", r.Args[0])
	return nil
}

// importFile reads the import file on the CLI's side (its path is the CLI's)
// and checks it there, so that its errors name the file.
func importFile(r *localapi.Request, _ io.Reader, _ io.Writer) error {
	b, err := os.ReadFile(r.Args[0])
	if err != nil {
		return err
	}
	if _, err := roster.ParseImport(b); err != nil {
		return fmt.Errorf("%s: %w", r.Args[0], err)
	}
	r.Input = b
	return nil
}

func agentImport(ctx context.Context, a *app, r localapi.Request, out io.Writer) error {
	file, err := roster.ParseImport(r.Input)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Args[0], err)
	}
	added, updated, err := a.roster.Import(ctx, file)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Args[0], err)
	}
	fmt.Fprintf(out, "%d agent(s) added, %d updated, %d schedule(s) set\n", added, updated, len(file.Schedule))
	return nil
}
