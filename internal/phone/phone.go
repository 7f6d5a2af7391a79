// Package phone is how numbers are written: the forms a trunk may send a
// number in (E.164, national, international without "+" or with "00"), turned
// into E.164 for the country the trunk is in, and the form peerline dials in.
package phone

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadNumber is wrapped by Normalize's errors.
var ErrBadNumber = errors.New("not a phone number")

// Codes are the calling codes of the countries a trunk may be in.
var Codes = map[string]string{
	"SE": "46", "NO": "47", "DK": "45", "FI": "358", "IS": "354", "DE": "49", "NL": "31",
	"GB": "44", "IE": "353", "FR": "33", "ES": "34", "PL": "48", "EE": "372", "LV": "371", "LT": "370",
}

// Formats peerline can dial in.
const (
	E164     = "e164"     // +46812345678
	National = "national" // 0812345678
)

// Plan is a trunk's way with numbers: its country's calling code and the form
// it wants numbers dialled in.
type Plan struct {
	Code   string // "46"
	Format string // E164 or National
}

// PlanFor is the plan of a country ("SE") and a format; unknown values give
// Sweden and E.164 (config validates them first).
func PlanFor(country, format string) Plan {
	p := Plan{Code: Codes[strings.ToUpper(country)], Format: format}
	if p.Code == "" {
		p.Code = "46"
	}
	if p.Format != National {
		p.Format = E164
	}
	return p
}

// Normalize turns a number in any of the forms people and trunks write it in
// into E.164: "+46 8-123 456 78", "0046812345678", "46812345678" and, in the
// plan's country, "08-123 456 78" and "+46 (0)8 123 456 78" are all
// "+46812345678".
func (p Plan) Normalize(s string) (string, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), "(0)", "")
	t = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -./()", r) {
			return -1
		}
		return r
	}, t)
	switch {
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	case strings.HasPrefix(t, "00"):
		t = t[2:]
	case strings.HasPrefix(t, "0"):
		t = p.Code + t[1:]
	case strings.HasPrefix(t, p.Code) && len(t) >= len(p.Code)+7:
		// international without "+": a national number starts with 0
	default:
		return "", fmt.Errorf("%w: start with 0, 00, + or %s", ErrBadNumber, p.Code)
	}
	if len(t) < 8 || len(t) > 15 || strings.Trim(t, "0123456789") != "" || t[0] == '0' {
		return "", ErrBadNumber
	}
	return "+" + t, nil
}

// Dial is e164 as the trunk wants it dialled: unchanged, or, for a national
// plan, a number of its own country with 0 instead of +46. Numbers abroad
// stay E.164.
func (p Plan) Dial(e164 string) string {
	if p.Format == National && strings.HasPrefix(e164, "+"+p.Code) {
		return "0" + strings.TrimPrefix(e164, "+"+p.Code)
	}
	return e164
}

// Form names the form a number is written in, for logs that must not show
// the number: "e164", "00", "national", "international without +", or
// "name" for what is no number at all.
func Form(s string) string {
	switch t := strings.TrimSpace(s); {
	case t == "" || strings.Trim(t, "+0123456789 -") != "":
		return "name"
	case strings.HasPrefix(t, "+"):
		return E164
	case strings.HasPrefix(t, "00"):
		return "00"
	case strings.HasPrefix(t, "0"):
		return National
	}
	return "international without +"
}
