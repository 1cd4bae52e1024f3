package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/paypage/paypage/store"
)

var tokenNow = time.Unix(1_800_000_000, 0)

// tokenKeys is a cookie key pair list (hash, block) made of one byte.
func tokenKeys(b byte) [][]byte {
	return [][]byte{bytes.Repeat([]byte{b}, 64), bytes.Repeat([]byte{b + 1}, 32)}
}

func tokenSession(id string, expiresIn time.Duration) *store.Session {
	return &store.Session{ID: id, ExpiresAt: tokenNow.Add(expiresIn).Unix()}
}

// A token opens the one session it was minted for, until it expires: an
// hour after minting or the session's expiry, whichever is first.
func TestTokenExpiresWithItsSessionAndWithinAnHour(t *testing.T) {
	t.Parallel()
	signer := newHCPSigner(tokenKeys(1))
	early := tokenNow.Add(-time.Minute).Unix()
	expiredEarly := tokenSession("cs_test_early", 24*time.Hour)
	expiredEarly.ExpiredAt = &early
	for _, tc := range []struct {
		name string
		sess *store.Session
		ends time.Time // the first second it is refused
	}{
		{"a session of a day: an hour", tokenSession("cs_test_day", 24*time.Hour), tokenNow.Add(hcpTokenTTL)},
		{"a session of ten minutes: ten minutes", tokenSession("cs_test_ten", 10*time.Minute), tokenNow.Add(10 * time.Minute)},
		{"a session past its expiry: already over", tokenSession("cs_test_past", -time.Second), tokenNow.Add(-time.Second)},
		{"a session expired early: over since then", expiredEarly, time.Unix(early, 0)},
	} {
		token := signer.mint(tc.sess, tokenNow)
		if got := signer.verify(token, tc.sess.ID, tc.ends.Add(-time.Second)); tc.ends.After(tokenNow) && got != nil {
			t.Errorf("%s: refused a second before its end: %v", tc.name, got)
		}
		if got := signer.verify(token, tc.sess.ID, tc.ends); got != errHCPExpired {
			t.Errorf("%s: at its end %v, want %v", tc.name, got, errHCPExpired)
		}
	}
}

// Session A's token is no token for session B, and any change to a token,
// of any character, is refused as invalid (not as expired).
func TestTokenIsScopedAndTamperProof(t *testing.T) {
	t.Parallel()
	signer := newHCPSigner(tokenKeys(1))
	a := tokenSession("cs_test_aaaaaaaaaaaaaaaaaaaaaaaa", time.Hour)
	token := signer.mint(a, tokenNow)
	if err := signer.verify(token, a.ID, tokenNow); err != nil {
		t.Fatalf("its own session: %v", err)
	}
	if err := signer.verify(token, "cs_test_bbbbbbbbbbbbbbbbbbbbbbbb", tokenNow); err != errHCPInvalid {
		t.Errorf("another session: %v", err)
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.+/= "
	for i := range token {
		for _, r := range alphabet {
			if byte(r) == token[i] {
				continue
			}
			forged := token[:i] + string(r) + token[i+1:]
			if err := signer.verify(forged, a.ID, tokenNow); err != errHCPInvalid {
				t.Fatalf("character %d changed to %q (%s): %v, want invalid", i, r, forged, err)
			}
		}
	}
	exp, _, _ := strings.Cut(strings.TrimPrefix(token, hcpTokenPrefix), ".")
	later, _ := strconv.ParseInt(exp, 10, 64)
	for name, forged := range map[string]string{
		"a later expiry":      strings.Replace(token, exp, strconv.FormatInt(later+86400, 10), 1),
		"a padded expiry":     strings.Replace(token, exp, "0"+exp, 1),
		"truncated":           token[:len(token)-1],
		"extended":            token + "A",
		"no signature":        hcpTokenPrefix + exp + ".",
		"empty":               "",
		"another version":     "hcp2." + strings.TrimPrefix(token, hcpTokenPrefix),
		"a token too long":    token + strings.Repeat("A", hcpTokenMaxLen),
		"the id in the clear": hcpTokenPrefix + a.ID,
	} {
		if err := signer.verify(forged, a.ID, tokenNow); err != errHCPInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// The token key is derived from the cookie keys with a label of its own:
// it is neither the cookie's hash key nor usable as one, another
// deployment's tokens are refused, and tokens rotate with the cookie keys
// (the newest signs, every listed one verifies).
func TestTokenKeysAreTheirOwnAndRotate(t *testing.T) {
	t.Parallel()
	old, next := tokenKeys(1), tokenKeys(7)
	s := tokenSession("cs_test_rotate", time.Hour)
	byOld := newHCPSigner(old).mint(s, tokenNow)

	signer := newHCPSigner(old)
	if bytes.Equal(signer.keys[0], old[0]) || bytes.Equal(signer.keys[0], old[1]) {
		t.Fatal("the token key is a cookie key")
	}
	// A MAC made with the cookie's hash key itself is no token.
	exp := strconv.FormatInt(s.ExpiresAt, 10)
	withCookieKey := hcpTokenPrefix + exp + "." + hcpEncoding.EncodeToString(hcpMAC(old[0], s.ID, exp))
	if err := signer.verify(withCookieKey, s.ID, tokenNow); err != errHCPInvalid {
		t.Errorf("signed with the cookie hash key: %v", err)
	}
	// Nor is a token a cookie: securecookie refuses it under the same keys.
	var v any
	if err := securecookie.New(old[0], old[1]).Decode(cookieName, byOld, &v); err == nil {
		t.Error("a token decodes as a cookie")
	}
	mac := hmac.New(sha256.New, old[0])
	mac.Write([]byte(hcpKeyLabel))
	if !bytes.Equal(signer.keys[0], mac.Sum(nil)) {
		t.Error("the token key is not HMAC-SHA256(cookie hash key, label)")
	}

	if err := newHCPSigner(next).verify(byOld, s.ID, tokenNow); err != errHCPInvalid {
		t.Errorf("another deployment's token: %v", err)
	}
	rotated := newHCPSigner(append(append([][]byte{}, next...), old...))
	if err := rotated.verify(byOld, s.ID, tokenNow); err != nil {
		t.Errorf("a token of the previous key, after rotation: %v", err)
	}
	if err := newHCPSigner(next).verify(rotated.mint(s, tokenNow), s.ID, tokenNow); err != nil {
		t.Errorf("after rotation the newest key signs: %v", err)
	}
	if a, b := newHCPSigner(nil), newHCPSigner(nil); a.verify(b.mint(s, tokenNow), s.ID, tokenNow) != errHCPInvalid {
		t.Error("without configured keys, two processes share a key")
	}
}
