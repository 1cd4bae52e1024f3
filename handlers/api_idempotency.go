package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxIdempotencyKey    = 255
	// bookkeepingGrace is how long past the request's deadline its key may
	// still be finished or released.
	bookkeepingGrace = 500 * time.Millisecond
)

// idempotent gives a POST Stripe's idempotency semantics, kept in the
// database so that every instance sees them: the first answer to a request
// with an Idempotency-Key is stored (status and body) for 24 hours, scoped
// to the merchant and mode, and replayed to every later request with that key
// (header Idempotent-Replayed: true). The same key with another request is an
// idempotency_error; while the first is still running, a duplicate gets a 409.
//
// As at Stripe, only requests that ran are remembered: a request refused for
// its parameters, or failing on the server's side, releases the key, so the
// client may retry it with the same key.
func (h *handler) idempotent(next fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, err := idempotencyKey(c)
		if err != nil || key == "" {
			return orNext(err, next, c)
		}
		m, live := merchant(c)
		prior, err := h.store.BeginIdempotent(c.UserContext(), m.ID, live, key, requestHash(c))
		if err != nil {
			return err
		}
		if prior != nil {
			return replay(c, prior)
		}

		err = next(c)
		// The key is ours until finished or released, even when the request's
		// own deadline has run out: the bookkeeping may go on until half a
		// second past it (the answer is due within a second of it), and has
		// half a second at least. A key left claimed by a database that could
		// not record even that lapses (store.IdempotencyClaimTimeout).
		budget := bookkeepingGrace
		if deadline, ok := c.UserContext().Deadline(); ok {
			budget = max(budget, time.Until(deadline)+bookkeepingGrace)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), budget)
		defer cancel()
		if err != nil && store.ErrorCode(err) != store.ESTATE {
			if aerr := h.store.AbandonIdempotent(ctx, m.ID, live, key); aerr != nil {
				h.logger(c).Error("idempotency: release key", "err", aerr)
			}
			return err
		}
		if err != nil {
			// It ran and was refused by the session's state: that answer is
			// the one to replay, rendered by the central error handler.
			if herr := h.handleError(c, err); herr != nil {
				return herr
			}
		}
		status := c.Response().StatusCode()
		if status >= fiber.StatusInternalServerError {
			if aerr := h.store.AbandonIdempotent(ctx, m.ID, live, key); aerr != nil {
				h.logger(c).Error("idempotency: release key", "err", aerr)
			}
			return nil
		}
		if ferr := h.store.FinishIdempotent(ctx, m.ID, live, key, status, string(c.Response().Body())); ferr != nil {
			// The request itself succeeded; its duplicates get 409s until
			// the claim is taken as abandoned (store.IdempotencyClaimTimeout).
			h.logger(c).Error("idempotency: store answer", "err", ferr)
		}
		return nil
	}
}

// keyChecked is idempotent for a handler that keeps the key itself, in the
// transaction that does its work (createKeyed): only the header is checked
// and echoed here.
func keyChecked(next fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		_, err := idempotencyKey(c)
		return orNext(err, next, c)
	}
}

func orNext(err error, next fiber.Handler, c *fiber.Ctx) error {
	if err != nil {
		return err
	}
	return next(c)
}

// idempotencyKey is the request's Idempotency-Key ("" for none), checked,
// and echoed as Stripe does.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	key := strings.TrimSpace(c.Get(headerIdempotencyKey))
	if key == "" {
		return "", nil
	}
	if len(key) > maxIdempotencyKey {
		return "", store.Invalid(headerIdempotencyKey, "Idempotency-Key must be at most %d characters; this one has %d.", maxIdempotencyKey, len(key))
	}
	if !store.IsText(key) {
		return "", errNotText(headerIdempotencyKey)
	}
	c.Set(headerIdempotencyKey, key)
	return key, nil
}

// replay answers with the first answer to the key.
func replay(c *fiber.Ctx, prior *store.Idempotency) error {
	c.Set(headerReplayed, "true")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(prior.StatusCode).SendString(prior.Response)
}

// createKeyed creates a session for a request with an Idempotency-Key in
// one transaction with the key's claim and recorded answer, one commit
// where idempotent takes three (store.CreateSessionIdempotent). The answer
// is rendered before the session is stored, from the session as built: its
// line items and fees are in, and a new session has no refunds or
// children. A session found by its key (made before a crash) is read as
// any other, its rows being committed.
func (h *handler) createKeyed(c *fiber.Ctx, m *store.Merchant, live bool, sp *store.SessionParams, exp dialect.Expand) error {
	prior, err := h.store.CreateSessionIdempotent(c.UserContext(), m, live, sp, requestHash(c),
		func(sess *store.Session, created bool) (int, string, error) {
			var err error
			if created {
				err = c.JSON(apiDialect(c).Session(h.view(m, sess, exp)))
			} else {
				err = h.present(c, m, sess, exp)
			}
			return c.Response().StatusCode(), string(c.Response().Body()), err
		})
	if err != nil || prior == nil {
		return err
	}
	return replay(c, prior)
}

// requestHash identifies a request for comparing it with the first one made
// with the same key: the endpoint and the exact parameters.
func requestHash(c *fiber.Ctx) string {
	sum := sha256.New()
	sum.Write([]byte(c.Method() + " " + c.Path() + "?"))
	sum.Write(c.Request().URI().QueryString())
	sum.Write([]byte{0})
	sum.Write(c.Body())
	return hex.EncodeToString(sum.Sum(nil))
}
