package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

// The hcpToken (seed 003's name) is what a merchant's front end hands to
// paypage for one session: GET /pay/{id}/session with "Authorization:
// Bearer <hcpToken>" (api_hcp.go). It is a capability, not a record:
//
//	hcp1.<expiry, unix seconds>.<base64url HMAC-SHA256(key, label \0 session id \0 expiry)>
//
// signed, never stored, naming no session of its own (the MAC binds the
// one it was minted for: session A's token is no token for B), and it
// expires an hour after it was minted or at the session's expires_at,
// whichever is first. The key is derived from each cookie hash key with a
// label of its own, so no key serves two purposes and the tokens rotate with
// PAYPAGE_COOKIE_KEYS: the newest key signs, every listed key verifies.
const (
	hcpTokenPrefix = "hcp1."
	hcpTokenTTL    = time.Hour
	hcpKeyLabel    = "paypage hcpToken key v1"
	hcpMACLabel    = "paypage hcpToken v1"
	hcpTokenMaxLen = 128 // well above the 69 or so characters of a real one
)

// hcpSigner mints and verifies hcpTokens.
type hcpSigner struct {
	keys [][]byte // newest first
}

// newHCPSigner derives one token key from each hash key of the cookie key
// pairs (hash, block, hash, block…, newest first). Without keys, like the
// cookie, it makes one valid as long as the process lives.
func newHCPSigner(cookieKeyPairs [][]byte) *hcpSigner {
	var keys [][]byte
	for i := 0; i < len(cookieKeyPairs); i += 2 {
		m := hmac.New(sha256.New, cookieKeyPairs[i])
		m.Write([]byte(hcpKeyLabel))
		keys = append(keys, m.Sum(nil))
	}
	if len(keys) == 0 {
		key := make([]byte, 32)
		rand.Read(key)
		keys = append(keys, key)
	}
	return &hcpSigner{keys: keys}
}

// mint returns a token for s, valid until an hour from now or s's expiry,
// whichever comes first: for a session that has expired (by the clock, or
// early), a token that opens nothing.
func (t *hcpSigner) mint(s *store.Session, now time.Time) string {
	end := s.ExpiresAt
	if s.ExpiredAt != nil {
		end = min(end, *s.ExpiredAt)
	}
	exp := strconv.FormatInt(min(end, now.Add(hcpTokenTTL).Unix()), 10)
	return hcpTokenPrefix + exp + "." + hcpEncoding.EncodeToString(hcpMAC(t.keys[0], s.ID, exp))
}

// mintHCP mints s's token now, by the store's clock (which decides expiry).
func (h *handler) mintHCP(s *store.Session) string { return h.hcp.mint(s, h.store.Now()) }

// Why a token is refused.
var (
	errHCPInvalid = &dialect.StatusError{Status: fiber.StatusUnauthorized, Code: "invalid_token",
		Message: "The hcpToken is missing, malformed, or not a token for this checkout session."}
	errHCPExpired = &dialect.StatusError{Status: fiber.StatusUnauthorized, Code: "token_expired",
		Message: "The hcpToken has expired: retrieve the checkout session again for a new one."}
)

// verify checks that token was minted for session id with one of t's keys
// and has not expired at now. The signature is checked before the expiry,
// so that a forged expiry reads as forged.
func (t *hcpSigner) verify(token, id string, now time.Time) error {
	if len(token) > hcpTokenMaxLen {
		return errHCPInvalid
	}
	rest, ok := strings.CutPrefix(token, hcpTokenPrefix)
	exp, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return errHCPInvalid
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	mac, err2 := hcpEncoding.DecodeString(sig)
	if err != nil || err2 != nil || strconv.FormatInt(unix, 10) != exp {
		return errHCPInvalid
	}
	for _, k := range t.keys {
		if hmac.Equal(mac, hcpMAC(k, id, exp)) {
			if now.Unix() >= unix {
				return errHCPExpired
			}
			return nil
		}
	}
	return errHCPInvalid
}

// hcpEncoding is strict, so that one signature has one spelling: the
// lenient decoder ignores the last character's spare bits.
var hcpEncoding = base64.RawURLEncoding.Strict()

func hcpMAC(key []byte, id, exp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(hcpMACLabel + "\x00" + id + "\x00" + exp))
	return m.Sum(nil)
}
