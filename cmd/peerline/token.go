package main

import (
	"context"
	"fmt"
	"io"

	"github.com/peerline/peerline/web/auth"
)

func tokenCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: token create|list|revoke\n%s", errUsage, usage)
	}
	f := newFlags("token " + args[0])
	roleName := f.String("role", string(auth.RoleOffice), "admin or office (create)")
	want := map[string]int{"create": 1, "revoke": 1, "list": 0}
	n, ok := want[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown token command %q\n%s", errUsage, args[0], usage)
	}
	pos, err := f.parse(args[1:], n)
	if err != nil {
		return err
	}
	r, err := role(*roleName)
	if err != nil {
		return err
	}
	a, _, err := f.openApp()
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "create":
		tok, err := a.auth.CreateToken(cliActor(ctx), pos[0], r)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, tok)
	case "revoke":
		if err := a.auth.RevokeToken(cliActor(ctx), pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", pos[0])
	case "list":
		toks, err := a.auth.Tokens()
		if err != nil {
			return err
		}
		for _, t := range toks {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", t.Name, t.Role, t.Created.Format("2006-01-02 15:04"))
		}
	}
	return nil
}
