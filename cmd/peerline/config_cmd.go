package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/certs"
	"github.com/peerline/peerline/notify"
	"github.com/peerline/peerline/pbx/prompts"
	"github.com/peerline/peerline/pbx/sip"
)

func configCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: config check FILE | config print\n%s", errUsage, usage)
	}
	f := newFlags("config " + args[0])
	switch args[0] {
	case "check":
		pos, err := f.parse(args[1:], 1)
		if err != nil {
			return err
		}
		return configCheck(pos[0], stdout)
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
	_, err := config.LoadFile(name, prompts.Check, sip.CheckTLS, checkHTTPTLS, checkTemplates)
	var es config.Errors
	if !errors.As(err, &es) {
		if err == nil {
			fmt.Fprintf(stdout, "%s: ok\n", name)
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
