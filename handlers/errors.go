package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

var errNotFound = &store.Error{Code: store.ENOTFOUND, Message: "Unrecognized request URL."}

// errMerchantUnavailable answers the pages of a disabled merchant's sessions.
var errMerchantUnavailable = &store.Error{Code: codeMerchantUnavailable, Message: "This checkout is unavailable."}

// paramError gives an invalid-parameter error Stripe's more precise code
// (parameter_unknown, parameter_invalid_integer…) instead of the generic
// parameter_invalid.
type paramError struct {
	Code string
	Err  *store.Error
}

func (e *paramError) Error() string { return e.Err.Error() }
func (e *paramError) Unwrap() error { return e.Err }

// rateLimited is the answer to a client over its request budget: a 429 that
// says, in Retry-After, when the next request will be let through.
type rateLimited struct{ RetryAfter int } // whole seconds, >= 1

func (e *rateLimited) Error() string { return "rate limited" }

// handleError is the one place that turns an error into an answer: its
// status from the domain code, Stripe-style JSON under /v1, an HTML page
// elsewhere. Internal errors are logged and never shown; the database being
// unavailable is a 503 with Retry-After, logged once per episode (outage).
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	if requestID(c) == "" {
		// fasthttp refused the request before any handler ran (413, 431):
		// the answer still gets an id and the security headers.
		stampRequest(c)
		setSecurityHeaders(c)
	}
	status, body := classify(err)
	// Drivers do not always wrap the context's error: a failure once the
	// request's deadline has passed is that deadline's doing.
	if ctxErr := c.UserContext().Err(); status == fiber.StatusInternalServerError && errors.Is(ctxErr, context.DeadlineExceeded) {
		status, body = classify(ctxErr)
		err = fmt.Errorf("%w (after the request's deadline: %w)", err, ctxErr)
	}
	down := databaseDown(err)
	switch {
	case down:
		h.outage.failed(err, requestStart(c))
	case status >= 500:
		h.logger(c).Error("request failed", "err", err, "path", c.Path())
	}
	body.RequestID = requestID(c)
	if status == fiber.StatusTooManyRequests || status == fiber.StatusServiceUnavailable {
		retry := 1
		var rl *rateLimited
		if errors.As(err, &rl) {
			retry = rl.RetryAfter
		}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retry))
	}
	c.Status(status)
	if strings.HasPrefix(c.Path(), "/v1/") || c.Path() == "/v1" || c.Locals(jsonErrorsKey) == true || c.Locals(dialectKey) != nil {
		body.Status = status
		return c.JSON(apiDialect(c).Error(body))
	}
	if _, chosen := c.Locals(printerKey).(*locales.Printer); down && !chosen {
		pageLocale(c, "", "") // the session's locale would take the database
	} else {
		h.errorPageLocale(c)
	}
	// The page is rendered with a context of its own: the request's may have
	// run out (that is often why we are here), and an error page must never
	// come out empty.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), errorPageTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	v := views.ErrorView{Status: status, RequestID: body.RequestID, Unavailable: errors.Is(err, errMerchantUnavailable)}
	if status == fiber.StatusBadRequest {
		v.Param = body.Param
		var il *invalidLocale
		if errors.As(err, &il) {
			v.Locale = il.shown()
		}
	}
	return render(c, views.ErrorPage(v))
}

// errorPageTimeout bounds the rendering of an error page.
const errorPageTimeout = time.Second

// classify maps an error to its HTTP status and the fields of its answer
// (Stripe's, which each dialect words its way).
func classify(err error) (int, dialect.Error) {
	var rl *rateLimited
	if errors.As(err, &rl) {
		return fiber.StatusTooManyRequests, dialect.Error{Type: "invalid_request_error", Code: "rate_limit",
			Message: "Too many requests hit the API too quickly. Retry after the number of seconds in the Retry-After header."}
	}
	// The database cannot serve the request for now (unreachable, too slow,
	// full, read-only…): the same request may well succeed later.
	if databaseDown(err) {
		return fiber.StatusServiceUnavailable, dialect.Error{Type: "api_error",
			Message: "The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header."}
	}
	var de *dialect.StatusError
	if errors.As(err, &de) {
		return de.Status, dialect.Error{Type: "invalid_request_error", Code: de.Code, Message: de.Message}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		typ := "invalid_request_error"
		if fe.Code >= 500 {
			return fe.Code, dialect.Error{Type: "api_error", Message: "An internal error occurred."}
		}
		return fe.Code, dialect.Error{Type: typ, Message: fe.Message}
	}
	var se *store.Error
	if !errors.As(err, &se) {
		return fiber.StatusInternalServerError, dialect.Error{Type: "api_error", Message: "An internal error occurred."}
	}
	body := dialect.Error{Type: "invalid_request_error", Message: se.Message, Param: se.Param}
	switch se.Code {
	case store.EINVALID:
		body.Code = "parameter_invalid"
		var pe *paramError
		if errors.As(err, &pe) {
			body.Code = pe.Code
		}
		if se.Reason != "" {
			body.Code = se.Reason
		}
		if errors.Is(err, store.ErrIdempotencyMismatch) {
			body.Type, body.Code = "idempotency_error", "idempotency_key_in_use"
		}
		return fiber.StatusBadRequest, body
	case store.ENOTFOUND:
		body.Code = "resource_missing"
		return fiber.StatusNotFound, body
	case store.ECONFLICT:
		body.Code = "lock_timeout"
		if errors.Is(err, store.ErrIdempotencyInProgress) {
			body.Code = "idempotency_key_in_use"
		}
		return fiber.StatusConflict, body
	case store.ESTATE:
		body.Code = "checkout_session_unexpected_state"
		return fiber.StatusBadRequest, body
	case codeUnauthorized:
		body.Code = ""
		return fiber.StatusUnauthorized, body
	case store.EUNAVAILABLE:
		body.Type, body.Code = "api_error", ""
		return fiber.StatusServiceUnavailable, body
	case codeMerchantUnavailable:
		body.Code = "account_disabled"
		return fiber.StatusForbidden, body
	}
	return fiber.StatusInternalServerError, dialect.Error{Type: "api_error", Message: "An internal error occurred."}
}

// databaseDown reports whether err is the database failing (see
// store.Unavailable), rather than a refusal of the request's own.
func databaseDown(err error) bool {
	return !errors.As(err, new(*store.Error)) && store.Unavailable(err)
}

// Codes of the HTTP layer's own errors, beside the store's.
const (
	codeUnauthorized = "unauthorized"
	// codeMerchantUnavailable: the operator disabled the session's merchant (403).
	codeMerchantUnavailable = "merchant_unavailable"
)
