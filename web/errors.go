package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/internal/apierror"
	"github.com/peerline/peerline/internal/input"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/roster"
)

// apiError is what the API answers an error with.
type apiError = apierror.Error

func errorf(status int, code, format string, args ...any) *apiError {
	return apierror.New(status, code, format, args...)
}

// toAPIError maps every error a handler can return to what the client is told.
func toAPIError(err error) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	var closed *line.ClosedError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, line.ErrUnknownLine), errors.Is(err, roster.ErrNotFound), errors.Is(err, line.ErrNoIncident), errors.Is(err, line.ErrNoCall):
		return errorf(http.StatusNotFound, "not_found", "%s", err)
	case errors.As(err, &he):
		return fromEcho(he)
	case errors.As(err, &closed):
		return errorf(http.StatusConflict, "line_closed", "line %s is closed: %s", closed.Status.Line, closed.Status.Text)
	case errors.Is(err, line.ErrScheduleChanged):
		return errorf(http.StatusConflict, "schedule_changed", "%s; read it again", err)
	case errors.Is(err, line.ErrNotLoggedIn):
		return errorf(http.StatusConflict, "not_logged_in", "%s", err)
	case errors.Is(err, line.ErrAgentInactive), errors.Is(err, line.ErrNotServing):
		return errorf(http.StatusConflict, "not_allowed", "%s", err)
	case errors.Is(err, line.ErrCannotBeCalled):
		return errorf(http.StatusConflict, "cannot_be_called", "%s; give the agent a SIP address, or set sip.trunk.proxy", err)
	}
	if ae := authError(err); ae != nil {
		return ae
	}
	if ie, ok := input.As(err); ok {
		return apierror.Invalid(ie)
	}
	return nil
}

func fromEcho(he *echo.HTTPError) *apiError {
	msg := http.StatusText(he.Code)
	if m, ok := he.Message.(string); ok {
		msg = m
	}
	code := map[int]string{
		http.StatusNotFound:              "not_found",
		http.StatusMethodNotAllowed:      "method_not_allowed",
		http.StatusRequestEntityTooLarge: "too_large",
		http.StatusUnauthorized:          "unauthorized",
		http.StatusForbidden:             "forbidden",
		http.StatusTooManyRequests:       "rate_limited",
	}[he.Code]
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
	}
	return &apiError{Status: he.Code, Code: code, Message: msg}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := toAPIError(err)
	if ae == nil {
		s.log.Error().Err(err).Str("path", c.Path()).Msg("request failed")
		ae = errorf(http.StatusInternalServerError, "internal", "internal error; it has been logged")
	}
	if ae.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="peerline"`)
	}
	if err := c.JSON(ae.Status, map[string]any{"error": ae}); err != nil {
		s.log.Debug().Err(err).Msg("writing error response")
	}
}

// maxBody bounds a request body; the API's bodies are small.
const maxBody = 64 << 10

// decodeJSON reads the request body into v. Unknown fields, wrong types and
// malformed JSON are refused with a message naming the field. An empty body is {}.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil && dec.More() {
		return errorf(http.StatusBadRequest, "invalid_json", "the body must be one JSON object")
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "invalid_json", "malformed JSON at byte %d: %s", se.Offset, se)
	case errors.As(err, &te):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: te.Field,
			Message: fmt.Sprintf("%s: must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apiError{Status: http.StatusBadRequest, Code: "unknown_field", Field: field,
			Message: fmt.Sprintf("%s: unknown field", field)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid_json", "the JSON body ends too early")
	}
	return errorf(http.StatusBadRequest, "invalid_json", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "a list"
	case "bool":
		return "true or false"
	}
	return "a number"
}
