package roster

import (
	"errors"

	"github.com/peerline/peerline/internal/phone"
)

// ErrBadPhone is wrapped by NormalizePhone's errors.
var ErrBadPhone = errors.New("not a phone number")

// sweden is how the roster reads the numbers the office types in.
var sweden = phone.PlanFor("SE", phone.E164)

// NormalizePhone turns the ways Swedes write a number into E.164:
// "070-123 45 67", "+46 (0)70 123 45 67", "0046701234567" -> "+46701234567".
func NormalizePhone(s string) (string, error) {
	n, err := sweden.Normalize(s)
	if err != nil {
		return "", errors.Join(ErrBadPhone, err)
	}
	return n, nil
}
