package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every validation failure.
var ErrInvalid = errors.New("invalid config")

// FieldError is one problem with one field.
type FieldError struct {
	Path string // e.g. lines[0].hours.open
	Line int    // line in the YAML source, 0 when unknown
	Msg  string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem found in a config, in source order.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return fmt.Sprintf("%d config error(s):\n  %s", len(es), strings.Join(msgs, "\n  "))
}

func (es Errors) Unwrap() error { return ErrInvalid }

func (es *Errors) add(path, format string, args ...any) {
	*es = append(*es, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}
