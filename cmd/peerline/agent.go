package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/peerline/peerline/roster"
)

func agentCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("%w: agent import FILE\n%s", errUsage, usage)
	}
	f := newFlags("agent import")
	pos, err := f.parse(args[1:], 1)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	file, err := roster.ParseImport(b)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	a, _, err := f.openApp()
	if err != nil {
		return err
	}
	defer a.Close()
	added, updated, err := a.roster.Import(cliActor(ctx), file)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "%d agent(s) added, %d updated, %d schedule(s) set\n", added, updated, len(file.Schedule))
	return nil
}
