package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

var errNotFound = &store.Error{Code: store.ENOTFOUND, Message: "Unrecognized request URL."}

// apiError is Stripe's error envelope member.
type apiError struct {
	Type      string `json:"type"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// handleError is the one place that turns an error into an answer: its
// status from the domain code, Stripe-style JSON under /v1, an HTML page
// elsewhere. Internal errors are logged and never shown.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	status, body := classify(err)
	if status >= 500 {
		h.logger(c).Error("request failed", "err", err, "path", c.Path())
	}
	body.RequestID = requestID(c)
	if status == fiber.StatusTooManyRequests || status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	c.Status(status)
	if strings.HasPrefix(c.Path(), "/v1/") || c.Path() == "/v1" {
		return c.JSON(fiber.Map{"error": body})
	}
	return render(c, views.ErrorPage(views.ErrorView{Status: status, RequestID: body.RequestID}))
}

// classify maps an error to its HTTP status and Stripe error body.
func classify(err error) (int, apiError) {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		typ := "invalid_request_error"
		if fe.Code >= 500 {
			return fe.Code, apiError{Type: "api_error", Message: "An internal error occurred."}
		}
		return fe.Code, apiError{Type: typ, Message: fe.Message}
	}
	var se *store.Error
	if !errors.As(err, &se) {
		return fiber.StatusInternalServerError, apiError{Type: "api_error", Message: "An internal error occurred."}
	}
	body := apiError{Type: "invalid_request_error", Message: se.Message, Param: se.Param}
	switch se.Code {
	case store.EINVALID:
		body.Code = "parameter_invalid"
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
	}
	return fiber.StatusInternalServerError, apiError{Type: "api_error", Message: "An internal error occurred."}
}

const codeUnauthorized = "unauthorized"
