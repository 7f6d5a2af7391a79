// Package apierror is the error peerline's HTTP APIs answer with, the office's
// and the PBXs' alike: {"error":{"code","message","field"}} with its status.
package apierror

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/peerline/peerline/internal/input"
)

// Error is an answer's error: its HTTP status, a machine code, a message and,
// for bad input, the field.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// New is an error with status and code.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is the 400 for bad input, naming its field.
func Invalid(ie *input.Error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_field", Message: ie.Error(), Field: ie.Field}
}

// Write answers e.
func Write(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}
