package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
	"github.com/paypage/paypage/store"
)

// What an hcpToken opens (hcptoken.go): GET /pay/{id}/session, a JSON read
// of one session's public state for the merchant's front end, from any
// origin (CORS), in seed 003's words: the checkoutSession object of the
// merchant's retrieve with init=true (status, expired flag, payment status
// and method, times, childSession, appearance), without a new token.
// Nothing in it is secret or personal: no customer, amounts, metadata,
// URLs or references, less than the shopper's own page shows. Any origin
// may read it because the token, not a cookie, is the credential: a page
// without the token learns nothing, and browsers send no cookies with it.
//
// Refused, 401 in seed 003's error envelope, before the database is read:
// no token, a token that is not one (tampered, truncated, another key's),
// session A's token on session B, and an expired token. After the database:
// an expired session (even expired early, before its token would), 401; a
// canceled one, 410, as the merchant's retrieve answers it.

// hcpSession is GET /pay/:id/session.
func (h *handler) hcpSession(c *fiber.Ctx) error {
	allowAnyOrigin(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	id, err := sessionIDParam(c)
	if err != nil {
		return err
	}
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return errHCPInvalid
	}
	if err := h.hcp.verify(strings.TrimSpace(token), id, h.store.Now()); err != nil {
		return err
	}
	sess, err := h.store.Session(c.UserContext(), id)
	if err != nil {
		return err
	}
	if sess.Status == store.StatusExpired {
		return errHCPExpired // the token expires with its session
	}
	m, err := h.store.Merchant(c.UserContext(), sess.MerchantID)
	if err != nil {
		return err
	}
	if m.Disabled() {
		return errMerchantUnavailable
	}
	v, err := h.viewWithChildren(c.UserContext(), m, sess, dialect.Expand{Appearance: true, ChildSessions: true})
	if err != nil {
		return err
	}
	if err := dialect.Checkout.Route.Refuse(v); err != nil {
		return err
	}
	return c.JSON(dialect.CheckoutShopperSession(v))
}

// hcpPreflight answers the browser's CORS preflight of GET /pay/:id/session
// (its Authorization header makes one necessary).
func hcpPreflight(c *fiber.Ctx) error {
	allowAnyOrigin(c)
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization")
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	return c.SendStatus(fiber.StatusNoContent)
}

// allowAnyOrigin lets scripts of any origin read the answer, errors
// included, without credentials.
func allowAnyOrigin(c *fiber.Ctx) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
}
