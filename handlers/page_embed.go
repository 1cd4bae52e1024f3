package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

// embedPage is GET /pay/:id/embed?origin=<merchant origin>: the compact
// status widget for the merchant's own pages. It may be framed by exactly
// the origin asked for, and only when that is one of the merchant's allowed
// origins; any other request gets a refusal page that cannot be framed at
// all (the default frame-ancestors 'none' stays).
func (h *handler) embedPage(c *fiber.Ctx) error {
	sess, m, err := h.pageSession(c)
	if err != nil {
		return err
	}
	if sess.SettledBy != "" {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return redirectToSettler(c, sess) // the widget follows the checkout that was paid
	}
	asked := c.Query("origin")
	origin, ok := allowedOrigin(asked, m.AllowedOrigins)
	if !ok {
		c.Set(fiber.HeaderCacheControl, "no-store")
		status := fiber.StatusForbidden
		if asked == "" {
			status = fiber.StatusBadRequest
		}
		c.Status(status)
		return render(c, views.EmbedRefused(views.EmbedRefusedView{Status: status}))
	}
	csp := string(c.Response().Header.Peek(fiber.HeaderContentSecurityPolicy))
	c.Set(fiber.HeaderContentSecurityPolicy, strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors "+origin, 1))
	c.Response().Header.Del(fiber.HeaderXFrameOptions)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.Embed(views.EmbedView{Checkout: h.checkoutView(sess, m, ""), Origin: origin}))
}

// allowedOrigin returns the canonical form of asked when it names one of
// the merchant's allowed origins (same scheme, host and port).
func allowedOrigin(asked string, allowed []string) (string, bool) {
	want, ok := store.CanonicalOrigin(asked)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if got, ok := store.CanonicalOrigin(a); ok && got == want {
			return want, true
		}
	}
	return "", false
}
