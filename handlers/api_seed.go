package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

// The seed systems with paths of their own (docs/api-versions.md, the
// README's section per dialect): each route is the system's retrieve
// endpoint, answered by its dialect over the same store. The chain is the
// API's: the dialect first (so that even a refusal speaks it), the budget of
// failed authentications, the key's rate limit, the system's own
// authentication, then the read.

// seedChain is the handler chain of dialect d's retrieve endpoint.
func (h *handler) seedChain(d *dialect.Dialect) []fiber.Handler {
	return []fiber.Handler{useDialect(d), h.refuseFailingClients, h.rateLimit, h.authenticate, h.seedRetrieve}
}

// useDialect makes d answer the request, errors included. Its answers hold
// customers' data, like the API's under /v1: no cache keeps them.
func useDialect(d *dialect.Dialect) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(dialectKey, d)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Next()
	}
}

// seedRoute is the Route of the dialect answering c, or nil on Stripe's
// paths.
func seedRoute(c *fiber.Ctx) *dialect.Route {
	if d, ok := c.Locals(dialectKey).(*dialect.Dialect); ok {
		return d.Route
	}
	return nil
}

// secretKey is the request's secret key, wherever its dialect carries it.
func secretKey(c *fiber.Ctx) string {
	if r := seedRoute(c); r != nil && r.KeyHeader != "" {
		return strings.TrimSpace(c.Get(r.KeyHeader))
	}
	return apiKey(c.Get(fiber.HeaderAuthorization))
}

var errWrongMerchant = &dialect.StatusError{Status: fiber.StatusForbidden, Code: "merchant_not_authorized",
	Message: "The secret key is not the key of the merchant the request names."}

// checkMerchantHeader refuses a request whose dialect names the merchant in
// a header when the key is another merchant's (or the header is missing).
func checkMerchantHeader(c *fiber.Ctx, m *store.Merchant) error {
	r := seedRoute(c)
	if r == nil || r.MerchantHeader == "" {
		return nil
	}
	switch got := strings.TrimSpace(c.Get(r.MerchantHeader)); got {
	case "":
		return refusedAuth(c, &store.Error{Code: codeUnauthorized, Param: r.MerchantHeader,
			Message: "Authentication needs the " + r.MerchantHeader + " header as well as the secret key."})
	case m.ID:
		return nil
	}
	return errWrongMerchant
}

// refusedAuth is a refused authentication as the request's dialect answers
// it: err (401), or the status its Route gives instead.
func refusedAuth(c *fiber.Ctx, err *store.Error) error {
	if r := seedRoute(c); r != nil && r.AuthStatus != 0 {
		return &dialect.StatusError{Status: r.AuthStatus, Code: errWrongMerchant.Code, Message: err.Message}
	}
	return err
}

// seedRetrieve reads the session named in the path for the dialect's
// client: its options, the merchant's session (any other is unknown), the
// dialect's own refusals, its object.
func (h *handler) seedRetrieve(c *fiber.Ctx) error {
	d := apiDialect(c)
	m, _ := merchant(c)
	if err := checkMerchantHeader(c, m); err != nil {
		return err
	}
	var exp dialect.Expand
	if d.Route.Options != nil {
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return store.Invalid("", "The query string is not valid: %v", err)
		}
		if exp, err = d.Route.Options(q); err != nil {
			return err
		}
	} else if err := bindQuery(c, &struct{}{}); err != nil {
		return err
	}
	sess, err := h.merchantSession(c)
	if err != nil {
		return err
	}
	v, err := h.viewWithChildren(c.UserContext(), m, sess, exp)
	if err != nil {
		return err
	}
	if d.Route.Refuse != nil {
		if err := d.Route.Refuse(v); err != nil {
			return err
		}
	}
	return c.JSON(d.Session(v))
}
