package handlers

import (
	"crypto/sha256"
	"math"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Default API rate limits, per API key and per paypage instance: a steady
// 100 requests a second, with bursts of up to 200.
const (
	DefaultAPIRate  = 100.0
	DefaultAPIBurst = 200

	// maxBuckets bounds the limiter's memory against floods of made-up keys.
	maxBuckets = 100_000
)

// rateLimiter is a token bucket per API key, in process memory: each key
// holds up to burst tokens, refilled at rate per second, and every request
// takes one. Several instances behind a load balancer each apply it.
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[[32]byte]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	if rate <= 0 {
		rate = DefaultAPIRate
	}
	if burst <= 0 {
		burst = DefaultAPIBurst
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[[32]byte]*bucket{}}
}

// allow takes a token for key, or says how long until one is available.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	// Keys are hashed so that the limiter never holds secrets.
	id := sha256.Sum256([]byte(key))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[id]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[id] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune forgets buckets that have refilled (forgetting them changes
// nothing), and everything if that is not enough.
func (l *rateLimiter) prune(now time.Time) {
	for id, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, id)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// rateLimit refuses API requests over their key's budget with a 429 and
// Retry-After. It runs before authentication, so that a client hammering
// the API is turned away without a database read; requests without a key
// share one bucket.
func (h *handler) rateLimit(c *fiber.Ctx) error {
	ok, wait := h.limiter.allow(secretKey(c))
	if !ok {
		h.metrics.limited(limitAPIKey)
		return &rateLimited{RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
	}
	return c.Next()
}

// spent reports, without taking a token, whether key's bucket is empty and
// how long until it holds one again.
func (l *rateLimiter) spent(key string) (bool, time.Duration) {
	id := sha256.Sum256([]byte(key))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[id]
	if !ok {
		return false, 0
	}
	tokens := math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// Failed authentications allowed per client address: a burst of 20, then
// one a second. Past that the address's API requests are refused before any
// key lookup or body parse, so made-up keys and forged signatures cannot
// make the database work for free.
const (
	authFailRate  = 1.0
	authFailBurst = 20
)

// refuseFailingClients turns away, with a 429, clients that spent their
// budget of failed authentications.
func (h *handler) refuseFailingClients(c *fiber.Ctx) error {
	if spent, wait := h.authFailures.spent(h.clientIP(c)); spent {
		h.metrics.limited(limitFailedAuth)
		return &rateLimited{RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
	}
	return c.Next()
}

// authFailed charges the client's budget of failed authentications and
// returns err.
func (h *handler) authFailed(c *fiber.Ctx, err error) error {
	h.authFailures.allow(h.clientIP(c))
	if len(c.Request().Header.Peek(fiber.HeaderAuthorization)) == 0 && c.Path() == "/v1/payment_events" {
		h.metrics.authFailure(authSignature)
	} else {
		h.metrics.authFailure(authAPIKey)
	}
	return err
}
