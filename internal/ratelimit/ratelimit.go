// Package ratelimit is a token bucket: Rate tokens a second, at most Burst
// kept. It is not safe for concurrent use; its owner holds the lock.
package ratelimit

import "time"

// Bucket starts full.
type Bucket struct {
	Rate, Burst float64
	tokens      float64
	last        time.Time // when tokens was last brought up to date; zero: never
}

// New is a full bucket.
func New(rate, burst float64) Bucket { return Bucket{Rate: rate, Burst: burst} }

func (b *Bucket) fill(now time.Time) {
	if b.last.IsZero() {
		b.tokens = b.Burst
	} else if now.After(b.last) {
		b.tokens = min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	}
	b.last = now
}

// Take spends a token if there is one.
func (b *Bucket) Take(now time.Time) bool {
	b.fill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Spend spends a token whether or not there is one (what it counts happened
// anyway); the bucket does not go below empty.
func (b *Bucket) Spend(now time.Time) {
	b.fill(now)
	b.tokens = max(0, b.tokens-1)
}

// Wait is how long until a token is there; 0 when one is now.
func (b *Bucket) Wait(now time.Time) time.Duration {
	b.fill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.Rate * float64(time.Second))
}

// Last is when the bucket was last used.
func (b *Bucket) Last() time.Time { return b.last }
