package handlers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// cookieName is the shopper's one cookie. "__Host-" makes browsers refuse it
// unless it is Secure, host-only and for path "/".
const cookieName = "__Host-paypage"

// cookieMaxAge bounds how long a choice (and a CSRF token) is remembered.
const cookieMaxAge = 30 * 24 * 60 * 60

// cookieData is everything the cookie holds, serialised as JSON, signed and
// encrypted by securecookie.
type cookieData struct {
	Locale string `json:"locale,omitempty"` // the shopper's explicit language choice
	CSRF   string `json:"csrf,omitempty"`   // synchronizer token for the pages' forms
}

// cookieJar encodes and decodes the cookie with gorilla/sessions' cookie
// store codecs: the first key pair signs new cookies, every pair is tried on
// the way in, so that keys rotate without logging anyone out.
type cookieJar struct {
	codecs  []securecookie.Codec
	options *sessions.Options
	enc     *cookieEncoder // codecs[0]'s encoding, without its per-call setup (nil: use codecs)
}

// newCookieJar takes hash/block key pairs, newest first. Without keys it
// makes a random pair, valid as long as the process lives.
func newCookieJar(keyPairs [][]byte) *cookieJar {
	if len(keyPairs) == 0 {
		hash, block := make([]byte, 32), make([]byte, 32)
		rand.Read(hash)
		rand.Read(block)
		keyPairs = [][]byte{hash, block}
	}
	cs := sessions.NewCookieStore(keyPairs...)
	cs.Options = &sessions.Options{Path: "/", MaxAge: cookieMaxAge, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	cs.MaxAge(cookieMaxAge)
	for _, c := range cs.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
	}
	var blockKey []byte
	if len(keyPairs) > 1 {
		blockKey = keyPairs[1]
	}
	return &cookieJar{codecs: cs.Codecs, options: cs.Options, enc: newCookieEncoder(keyPairs[0], blockKey)}
}

// cookieEncoder writes what securecookie's Encode writes with the newest
// key pair, byte for byte in format (decoded by the same codecs, old keys'
// included): JSON, AES-CTR under a fresh random IV, base64, then
// "name|time|value" authenticated by HMAC-SHA256. It keeps the HMAC
// instances securecookie makes anew for every cookie, and builds the
// message without fmt.
type cookieEncoder struct {
	block cipher.Block // nil: the pair has no block key (not encrypted)
	hmac  func() hash.Hash
	macs  sync.Pool // hash.Hash
}

// maxCookieLength is securecookie's default bound on an encoded value.
const maxCookieLength = 4096

// newCookieEncoder returns nil for keys securecookie would refuse, so that
// securecookie's error is what the caller sees.
func newCookieEncoder(hashKey, blockKey []byte) *cookieEncoder {
	if len(hashKey) == 0 {
		return nil
	}
	e := &cookieEncoder{hmac: func() hash.Hash { return hmac.New(sha256.New, hashKey) }}
	if blockKey != nil {
		block, err := aes.NewCipher(blockKey)
		if err != nil {
			return nil
		}
		e.block = block
	}
	return e
}

// encode returns the cookie's value, or ok false where securecookie should
// say why not (a value too long, no randomness).
func (e *cookieEncoder) encode(name string, data cookieData) (string, bool) {
	b, err := securecookie.JSONEncoder{}.Serialize(data)
	if err != nil {
		return "", false
	}
	if e.block != nil {
		iv := make([]byte, e.block.BlockSize(), e.block.BlockSize()+len(b))
		if _, err := io.ReadFull(rand.Reader, iv); err != nil {
			return "", false
		}
		cipher.NewCTR(e.block, iv).XORKeyStream(b, b)
		b = append(iv, b...)
	}
	enc := base64.URLEncoding
	msg := make([]byte, 0, len(name)+22+enc.EncodedLen(len(b))+1+sha256.Size)
	msg = append(msg, name...)
	msg = append(msg, '|')
	msg = strconv.AppendInt(msg, time.Now().UTC().Unix(), 10)
	msg = append(msg, '|')
	msg = enc.AppendEncode(msg, b)
	mac, _ := e.macs.Get().(hash.Hash)
	if mac == nil {
		mac = e.hmac()
	}
	mac.Reset()
	mac.Write(msg)
	msg = mac.Sum(append(msg, '|'))
	e.macs.Put(mac)
	out := enc.EncodeToString(msg[len(name)+1:])
	if len(out) > maxCookieLength {
		return "", false
	}
	return out, true
}

// shopperCookie is one request's view of the cookie: decoded only when a
// value is asked for, written back only when a value changed.
type shopperCookie struct {
	jar    *cookieJar
	c      *fiber.Ctx
	data   cookieData
	loaded bool
	dirty  bool
}

func (s *shopperCookie) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	raw := s.c.Cookies(cookieName)
	if raw == "" {
		return
	}
	// A cookie that does not decode (old keys, tampering, too old) is
	// treated as absent.
	if err := securecookie.DecodeMulti(cookieName, raw, &s.data, s.jar.codecs...); err != nil {
		s.data = cookieData{}
	}
}

// Locale returns the shopper's explicit language choice, or "".
func (s *shopperCookie) Locale() string {
	s.load()
	return s.data.Locale
}

// SetLocale records the shopper's explicit language choice.
func (s *shopperCookie) SetLocale(code string) {
	s.load()
	if s.data.Locale != code {
		s.data.Locale, s.dirty = code, true
	}
}

// CSRF returns the shopper's CSRF token, or "".
func (s *shopperCookie) CSRF() string {
	s.load()
	return s.data.CSRF
}

func (s *shopperCookie) setCSRF(token string) {
	s.load()
	if s.data.CSRF != token {
		s.data.CSRF, s.dirty = token, true
	}
}

// flush adds the Set-Cookie header when something changed.
func (s *shopperCookie) flush() error {
	if !s.dirty {
		return nil
	}
	value, ok := "", false
	if s.jar.enc != nil {
		value, ok = s.jar.enc.encode(cookieName, s.data)
	}
	if !ok {
		var err error
		if value, err = securecookie.EncodeMulti(cookieName, s.data, s.jar.codecs...); err != nil {
			return err
		}
	}
	s.c.Response().Header.Add(fiber.HeaderSetCookie, sessions.NewCookie(cookieName, value, s.jar.options).String())
	s.dirty = false
	return nil
}

// shopperCookies gives every request a lazy view of the cookie and writes
// it back after the handler when it changed.
func (h *handler) shopperCookies(c *fiber.Ctx) error {
	sc := &shopperCookie{jar: h.cookies, c: c}
	c.Locals(cookieKey, sc)
	err := c.Next()
	if ferr := sc.flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// shopper returns the request's cookie view (an empty one that is never
// written when the middleware did not run).
func shopper(c *fiber.Ctx) *shopperCookie {
	if sc, ok := c.Locals(cookieKey).(*shopperCookie); ok {
		return sc
	}
	return &shopperCookie{c: c, loaded: true}
}
