package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peerline/peerline/web/auth"
)

func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("%w: user add NAME --role admin|office\n%s", errUsage, usage)
	}
	f := newFlags("user add")
	roleName := f.String("role", "", "admin or office")
	pos, err := f.parse(args[1:], 1)
	if err != nil {
		return err
	}
	r, err := role(*roleName)
	if err != nil {
		return err
	}
	if st, ok := stdin.(*os.File); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "Password for %s (at least %d characters): ", pos[0], auth.MinPasswordLength)
		}
	}
	password, err := readLine(stdin)
	if err != nil {
		return err
	}
	a, _, err := f.openApp()
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.auth.AddUser(cliActor(ctx), pos[0], r, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s added with role %s\n", pos[0], r)
	return nil
}

// readLine reads the first line of r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
