package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/clock"
	"github.com/peerline/peerline/internal/event"
	"github.com/peerline/peerline/internal/localapi"
	"github.com/peerline/peerline/internal/storage"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/notify"
	"github.com/peerline/peerline/pbx/elks"
	"github.com/peerline/peerline/roster"
	"github.com/peerline/peerline/web/auth"
	bolt "go.etcd.io/bbolt"
)

// errUsage marks a wrong command line; main exits with 2 for it. It is the
// admin socket's, so that a usage error the service found says so too.
var errUsage = localapi.ErrUsage

const usage = `usage: peerline [command] [--config FILE]

commands:
  serve                             run the line (the default)
  config check FILE                 explain every error in a config file
  config print                      print the effective config, secrets masked
  config prompts                    the referral prompts to generate, as FOLDER|NAME|TEXT
                                    (deploy/prompts/generate.sh --config FILE uses it)
  user add NAME --role admin|office add an office user (the password is asked twice
                                    on a terminal, else read from stdin's first line)
  user list                         list office users
  user passwd NAME                  set a user's password (asked as for user add)
  user remove NAME                  remove an office user
  token create NAME [--role ROLE]   make an API bearer token and print it once
  token list                        list API tokens (names only)
  token revoke NAME                 delete an API token
  agent import FILE                 add or update agents and schedules from YAML
  backup FILE                       write a consistent copy of the database, also while serving
  restore FILE                      put a backup in place of the database (peerline stopped);
                                    the replaced file is kept beside it
  health                            ask the running service's /healthz (exit 0: healthy)

While peerline serves, the commands that use the database go through its admin
socket (data_dir/peerline.sock, the service user's only); when it is stopped
they open the database themselves. The config file is --config FILE or
$PEERLINE_CONFIG; without one the embedded defaults are used.
`

// run is peerline's whole command line; main only wires it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return serve(ctx, nil, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "config":
		return configCmd(rest, stdout)
	case "user", "token", "agent":
		if len(rest) == 0 {
			return fmt.Errorf("%w: %s needs a subcommand\n%s", errUsage, cmd, usage)
		}
		return cli(ctx, cmd+" "+rest[0], rest[1:], stdin, stdout, stderr)
	case "backup":
		return cli(ctx, cmd, rest, stdin, stdout, stderr)
	case "restore":
		return restoreCmd(rest, stdout)
	case "health":
		return healthCmd(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if len(cmd) > 0 && cmd[0] == '-' { // flags only: serve
		return serve(ctx, args, stdout, stderr)
	}
	return fmt.Errorf("%w: unknown command %q\n%s", errUsage, cmd, usage)
}

// flags is a subcommand's flag set with the --config flag every command has.
type flags struct {
	*flag.FlagSet
	config *string
}

func newFlags(name string) flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return flags{fs, fs.String("config", os.Getenv(config.EnvFile), "config file")}
}

// parse parses flags and positional arguments in any order and checks the count.
func (f flags) parse(args []string, positional int) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %s: %v\n%s", errUsage, f.Name(), err, usage)
		}
		if f.NArg() == 0 {
			break
		}
		pos = append(pos, f.Arg(0))
		args = f.Args()[1:]
	}
	if len(pos) != positional {
		return nil, fmt.Errorf("%w: %s takes %d argument(s)\n%s", errUsage, f.Name(), positional, usage)
	}
	return pos, nil
}

// lockTimeout is how long a command waits for another process to let go of the database.
const lockTimeout = 2 * time.Second

// app is the opened database and the stores on it, shared by the commands.
type app struct {
	db     *bolt.DB
	audit  *audit.Log
	auth   *auth.Store
	events *event.Emitter
	notify *notify.Planner
	roster *roster.Store
	lines  *line.Lines
}

// openApp loads the command's config and opens the app on it.
func (f flags) openApp() (*app, *config.Config, error) {
	cfg, err := config.LoadFile(*f.config)
	if err != nil {
		return nil, nil, err
	}
	a, err := openApp(cfg, clock.Real{})
	return a, cfg, err
}

// role parses a --role flag.
func role(name string) (auth.Role, error) {
	r, err := auth.ParseRole(name)
	if err != nil {
		return "", fmt.Errorf("%w: --role: %v", errUsage, err)
	}
	return r, nil
}

func openApp(cfg *config.Config, clk clock.Clock) (*app, error) {
	db, err := storage.Open(cfg.DataDir, lockTimeout)
	if err != nil {
		return nil, err
	}
	a := &app{db: db}
	if err := a.open(cfg, clk); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) open(cfg *config.Config, clk clock.Clock) (err error) {
	if a.audit, err = audit.Open(a.db); err != nil {
		return err
	}
	if a.auth, err = auth.NewStore(a.db, clk); err != nil {
		return err
	}
	if a.events, err = event.NewEmitter(a.db, cfg.Webhooks); err != nil {
		return err
	}
	// Messages to people are planned with every event, whichever process
	// changed the data; the service sends them.
	if a.notify, err = notify.NewPlanner(a.db, cfg); err != nil {
		return err
	}
	a.events.AddSink(a.notify)
	ids := make([]string, len(cfg.Lines))
	for i, l := range cfg.Lines {
		ids[i] = l.ID
	}
	if a.roster, err = roster.NewStore(a.db, clk, roster.StrictestPIN(cfg.Lines), ids, a.events); err != nil {
		return err
	}
	a.lines, err = line.New(a.db, clk, elks.LinesFor(cfg), a.events, a.roster)
	return err
}

func (a *app) Close() error { return a.db.Close() }
