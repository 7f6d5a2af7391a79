// Package input is the error for bad user input: it names the field, so the API can
// answer 400 with the field and the office can see what to fix.
package input

import (
	"errors"
	"fmt"
)

// Error is one bad field.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

// Errorf makes an *Error for field.
func Errorf(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
