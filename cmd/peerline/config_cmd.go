package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/certs"
	"github.com/peerline/peerline/notify"
	"github.com/peerline/peerline/pbx/elks"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/peerline/peerline/pbx/sip"
)

func configCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: config check FILE | config print | config prompts\n%s", errUsage, usage)
	}
	f := newFlags("config " + args[0])
	switch args[0] {
	case "check":
		pos, err := f.parse(args[1:], 1)
		if err != nil {
			return err
		}
		return configCheck(pos[0], stdout)
	case "prompts":
		if _, err := f.parse(args[1:], 0); err != nil {
			return err
		}
		cfg, err := config.LoadFile(*f.config)
		if err != nil {
			return err
		}
		return referralPrompts(cfg, stdout)
	case "print":
		if _, err := f.parse(args[1:], 0); err != nil {
			return err
		}
		cfg, err := config.LoadFile(*f.config)
		if err != nil {
			return err
		}
		out, err := cfg.Masked().YAML()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	return fmt.Errorf("%w: unknown config command %q\n%s", errUsage, args[0], usage)
}

// configCheck prints every error in the file as FILE:LINE: path: message,
// the prompt folders' included.
func configCheck(name string, stdout io.Writer) error {
	cfg, err := config.LoadFile(name, prompts.Check, sip.CheckTLS, checkHTTPTLS, checkTemplates)
	var es config.Errors
	if !errors.As(err, &es) {
		if err == nil {
			fmt.Fprintf(stdout, "%s: ok\n", name)
			notes, _ := elks.Limits(cfg)
			for _, n := range notes {
				fmt.Fprintf(stdout, "%s: note: pbx.elks: %s\n", name, n)
			}
		}
		return err
	}
	for _, e := range es {
		if e.Line > 0 {
			fmt.Fprintf(stdout, "%s:%d: %s\n", name, e.Line, e)
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", name, e)
		}
	}
	return fmt.Errorf("%s: %d error(s)", name, len(es))
}

// checkHTTPTLS lists, for config check, the HTTPS files serve would refuse.
func checkHTTPTLS(cfg *config.Config) config.Errors {
	if _, err := certs.Load("http.tls", cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key); err != nil {
		return config.Errors{{Path: "http.tls.cert", Msg: err.Error()}}
	}
	return nil
}

// checkTemplates lists, for config check, an office's message templates that
// would not load.
func checkTemplates(cfg *config.Config) config.Errors {
	if _, err := notify.LoadTexts(cfg.Notify.Templates); err != nil {
		return config.Errors{{Path: "notify.templates", Msg: err.Error()}}
	}
	return nil
}

// referralPrompts prints, for deploy/prompts/generate.sh --config, what each
// referral's own recording says with the service's name, one FOLDER|NAME|TEXT
// line each, into the folder of its line's prompts. A line without a folder
// is skipped (its referrals are said by number): it is told on stderr.
func referralPrompts(cfg *config.Config, stdout io.Writer) error {
	for _, l := range cfg.Lines {
		if len(l.Referrals) == 0 {
			continue
		}
		if l.Prompts == "" {
			fmt.Fprintf(os.Stderr, "line %s has no prompts folder: its referrals are said by number\n", l.ID)
			continue
		}
		for _, r := range l.Referrals {
			if r.Prompt != "" || r.Number == "" {
				continue // the office's own recording, or nothing to say
			}
			digits := spelled(r.Number)
			text := fmt.Sprintf("Jag kopplar dig vidare till %s, nummer %s. Stanna kvar i luren.", r.Name, digits)
			if r.ModeOrDefault() == config.ReferTell {
				text = fmt.Sprintf("Du kan ringa %s på nummer %s. Jag upprepar: %s.", r.Name, digits, digits)
			}
			if _, err := fmt.Fprintf(stdout, "%s|%s|%s\n", l.Prompts, r.PromptName(), text); err != nil {
				return err
			}
		}
	}
	return nil
}

// spelled is a number with a space between digits, so that it is said digit
// by digit: "9 0 1 0 1".
func spelled(n string) string {
	var out []string
	for _, c := range n {
		switch {
		case c == '+':
			out = append(out, "plus")
		case c >= '0' && c <= '9':
			out = append(out, string(c))
		}
	}
	return strings.Join(out, " ")
}
