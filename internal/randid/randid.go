// Package randid makes the random ids of calls, events and messages. The log
// prints them whole: its mask takes any long run of digits for a phone number
// and hides the middle, and a third of random 32-digit hex ids held such a
// run, so an id in the log could not be found elsewhere.
package randid

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"

	"github.com/peerline/peerline/internal/logging"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// Hex is n random bytes in hex (2n characters), drawn again while the mask
// would take part of it for a number.
func Hex(n int) string { return draw(n, hex.EncodeToString) }

// Base32 is n random bytes in unpadded base32 (A-Z, 2-7), drawn again while
// the mask would take part of it for a number.
func Base32(n int) string { return draw(n, base32NoPad.EncodeToString) }

// draw asks the log's own mask whether it leaves an id whole, so the two
// cannot come to differ.
func draw(n int, encode func([]byte) string) string {
	b := make([]byte, n)
	for {
		rand.Read(b)
		if id := encode(b); logging.MaskText(id) == id {
			return id
		}
	}
}
