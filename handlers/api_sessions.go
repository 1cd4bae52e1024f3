package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// apiCreateSession is POST /v1/checkout/sessions.
func (h *handler) apiCreateSession(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p store.SessionParams
	if err := decodeJSON(c.Body(), &p); err != nil {
		return err
	}
	p.IdempotencyKey = c.Get("Idempotency-Key")
	sess, err := h.store.CreateSession(c.UserContext(), m, live, &p)
	if err != nil {
		return err
	}
	return c.JSON(h.sessionObject(sess))
}

// apiGetSession is GET /v1/checkout/sessions/:id.
func (h *handler) apiGetSession(c *fiber.Ctx) error {
	m, live := merchant(c)
	sess, err := h.store.MerchantSession(c.UserContext(), m.ID, live, c.Params("id"))
	if err != nil {
		return errNoSuchSession(c.Params("id"), err)
	}
	return c.JSON(h.sessionObject(sess))
}

// errNoSuchSession answers an unknown id and another merchant's session with
// the same bytes, so that ids cannot be probed across merchants.
func errNoSuchSession(id string, err error) error {
	if store.IsNotFound(err) {
		return &store.Error{Code: store.ENOTFOUND, Param: "id", Message: "No such checkout.session: '" + id + "'"}
	}
	return err
}

// decodeJSON decodes a JSON body strictly: unknown fields and trailing data
// are refused, naming the field.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return store.Invalid(typeErr.Field, "%s has the wrong type: expected %s", typeErr.Field, typeErr.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return store.Invalid(name, "Received unknown parameter: %s", name)
		case errors.Is(err, io.EOF):
			return store.Invalid("", "the request body is empty; send a JSON object")
		default:
			return store.Invalid("", "the request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if dec.More() {
		return store.Invalid("", "the request body has data after the JSON object")
	}
	return nil
}
