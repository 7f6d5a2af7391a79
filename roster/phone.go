package roster

import (
	"errors"
	"strings"
)

// ErrBadPhone is wrapped by NormalizePhone's errors.
var ErrBadPhone = errors.New("not a phone number")

// NormalizePhone turns the ways Swedes write a number into E.164:
// "070-123 45 67", "+46 (0)70 123 45 67", "0046701234567" -> "+46701234567".
func NormalizePhone(s string) (string, error) {
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
		t = "46" + t[1:]
	default:
		return "", errors.Join(ErrBadPhone, errors.New("start with 0, 00 or +"))
	}
	if len(t) < 8 || len(t) > 15 || strings.Trim(t, "0123456789") != "" || t[0] == '0' {
		return "", ErrBadPhone
	}
	return "+" + t, nil
}
