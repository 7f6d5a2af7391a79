package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peerline/peerline/internal/localapi"
	"github.com/peerline/peerline/web/auth"
	"golang.org/x/sys/unix"
)

// newPassword reads the new password of the user named in r's first argument:
// on a terminal without echo and twice; otherwise the first line of stdin.
func newPassword(r *localapi.Request, stdin io.Reader, stderr io.Writer) error {
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) {
		pw, err := readLine(stdin)
		r.Input = []byte(pw)
		return err
	}
	fmt.Fprintf(stderr, "New password for %s (at least %d characters): ", r.Args[0], auth.MinPasswordLength)
	first, err := readSecret(f)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, "The same again: ")
	second, err := readSecret(f)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	if first != second {
		return errors.New("the two passwords differ; nothing was changed")
	}
	r.Input = []byte(first)
	return nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// readSecret reads a line from the terminal f with echo off, and turns echo
// back on whatever happens.
func readSecret(f *os.File) (string, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", err
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	return readLine(f)
}

// readLine reads the first line of r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
