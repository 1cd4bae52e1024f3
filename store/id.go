package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n base62 characters from crypto/rand, without modulo
// bias (bytes >= 248 are drawn again). 24 characters carry 142 bits.
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4)
	for len(out) < n {
		rand.Read(buf) // never fails (Go 1.24+)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// newID returns prefix + 32 base62 characters (190 random bits).
func newID(prefix string) string { return prefix + randomString(32) }

func modePrefix(livemode bool) string {
	if livemode {
		return "live_"
	}
	return "test_"
}

// hashKey is how secret keys are stored: they carry ~190 random bits, so a
// plain SHA-256 is a sufficient, fast one-way function (no password stretching
// needed, and lookups stay one indexed read).
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IsSessionID reports whether id has the shape of a checkout session id:
// ^cs_(test|live)_[0-9A-Za-z]{1,64}$, the shape of every id paypage hands
// out (newID's, with room for other lengths), so that anything else can be
// refused as malformed before the database is asked. It is matched by hand:
// every page, status poll and stream asks (the regexp was 2.4% of
// /status's CPU); TestIsSessionIDIsTheRegexp holds it to the expression.
func IsSessionID(id string) bool {
	rest, ok := strings.CutPrefix(id, "cs_test_")
	if !ok {
		if rest, ok = strings.CutPrefix(id, "cs_live_"); !ok {
			return false
		}
	}
	if len(rest) < 1 || len(rest) > 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
