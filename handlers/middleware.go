package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	nonceKey
	startKey // time.Time the request began
)

// DefaultRequestTimeout bounds the database work of one request: past it,
// the request is answered 503 with Retry-After, whatever the database does.
const DefaultRequestTimeout = 10 * time.Second

// requestContext gives every request an id (Request-Id header, every log
// line, every error body), a deadline for its database work, and logs it.
func (h *handler) requestContext(c *fiber.Ctx) error {
	start := time.Now()
	c.Locals(startKey, start)
	id := stampRequest(c)
	ctx, cancel := context.WithTimeout(h.hub.WithSyncScope(context.WithValue(context.Background(), requestIDKey, id)), h.timeout)
	defer cancel()
	c.SetUserContext(ctx)
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	h.observeRequest(c, time.Since(start))
	// While the database is away, finishing requests look whether it is back.
	if h.outage.ongoing() {
		h.outage.nudge()
	}
	status := c.Response().StatusCode()
	if status == fiber.StatusTooManyRequests {
		// A client over its budget may send thousands a second: a line for
		// each would flood the log. One line a minute says how many.
		if n, ok := h.refused.note(start); ok {
			h.log.Warn("requests refused over their rate limit (429)", "count", n, "last_ip", h.clientIP(c))
		}
		return nil
	}
	h.log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", c.Method()), slog.String("path", c.Path()),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
		slog.String("ip", h.clientIP(c)), slog.String("request_id", id))
	return nil
}

// requestStart is when the request began (now, for one refused before
// requestContext ran).
func requestStart(c *fiber.Ctx) time.Time {
	if t, ok := c.Locals(startKey).(time.Time); ok {
		return t
	}
	return time.Now()
}

// stampRequest gives the request its id.
func stampRequest(c *fiber.Ctx) string {
	id := "req_" + randomToken(12)
	c.Set("Request-Id", id)
	c.Locals(requestIDKey, id)
	return id
}

// quietCount counts like events and says when to log them: the first at
// once, then at most one line per period with the count since the last.
type quietCount struct {
	period time.Duration

	mu   sync.Mutex
	last time.Time
	n    int64
}

func (q *quietCount) note(now time.Time) (int64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n++
	if !q.last.IsZero() && now.Sub(q.last) < q.period {
		return 0, false
	}
	n := q.n
	q.last, q.n = now, 0
	return n, true
}

// recoverPanic turns a panic into a 500 through the central error handler.
func (h *handler) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			h.logger(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

func (h *handler) logger(c *fiber.Ctx) *slog.Logger {
	return h.log.With("request_id", c.Locals(requestIDKey))
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// requestInfo names this API request in the events of the changes it
// makes: its id and its Idempotency-Key.
func requestInfo(c *fiber.Ctx) store.RequestInfo {
	return store.RequestInfo{ID: requestID(c), IdempotencyKey: strings.TrimSpace(c.Get(headerIdempotencyKey))}
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errEncodedBody = fiber.NewError(fiber.StatusUnsupportedMediaType,
	"Compressed request bodies are not accepted; send the body uncompressed.")

// refuseEncodedBodies answers 415 to any request body with a
// Content-Encoding: fasthttp would inflate it without bound whenever the
// body is read, so 1 MiB of gzip could become gigabytes in memory.
func refuseEncodedBodies(c *fiber.Ctx) error {
	if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		return errEncodedBody
	}
	return c.Next()
}

// securityHeaders sets the headers every answer carries, refusals
// included, before anything else can answer.
func securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders sets the headers every answer carries. Pages get a CSP
// with a fresh nonce per request (no inline script runs without it); the
// embed route replaces frame-ancestors with the one origin it was asked
// for. API answers may hold customers' data: no cache keeps them.
//
// The names are given in fasthttp's canonical form and the CSP is put
// together in a stack buffer, so that setting them normalises and
// allocates nothing (fasthttp copies the values in).
func setSecurityHeaders(c *fiber.Ctx) {
	if strings.HasPrefix(c.Path(), "/v1/") {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	nonce := randomToken(16)
	c.Locals(nonceKey, nonce)
	h := &c.Response().Header
	var buf [320]byte
	csp := append(buf[:0], "default-src 'none'; script-src 'self' 'nonce-"...)
	csp = append(csp, nonce...)
	csp = append(csp, "'; style-src 'self' 'nonce-"...)
	csp = append(csp, nonce...)
	csp = append(csp, "'; img-src 'self' https: data:; connect-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"...)
	h.SetCanonical(headerCSP, csp)
	for _, kv := range staticSecurityHeaders {
		h.SetCanonical(kv[0], kv[1])
	}
}

// headerCSP and staticSecurityHeaders are the security headers' names in
// fasthttp's canonical form, and the values that never change.
var (
	headerCSP             = []byte("Content-Security-Policy")
	staticSecurityHeaders = [][2][]byte{
		{[]byte("Strict-Transport-Security"), []byte("max-age=63072000; includeSubDomains")},
		{[]byte("X-Content-Type-Options"), []byte("nosniff")},
		{[]byte("Referrer-Policy"), []byte("no-referrer")},
		{[]byte("X-Frame-Options"), []byte("DENY")},
		{[]byte("Cross-Origin-Opener-Policy"), []byte("same-origin")},
		{[]byte("Permissions-Policy"), []byte("camera=(), microphone=(), geolocation=(), payment=()")},
	}
)

// cspNonce returns this request's CSP nonce.
func cspNonce(c *fiber.Ctx) string {
	n, _ := c.Locals(nonceKey).(string)
	return n
}
