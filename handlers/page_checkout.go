package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

// checkoutPage is GET /pay/:id.
func (h *handler) checkoutPage(c *fiber.Ctx) error { return h.sessionPage(c, "") }

// sessionPage renders a session's page as /pay/:id (ret "") or as one of
// the return pages. Every one of them shows the stored state.
func (h *handler) sessionPage(c *fiber.Ctx, ret string) error {
	sess, m, err := h.pageSession(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if sess.SettledBy != "" {
		return redirectToSettler(c, sess)
	}
	v := h.checkoutView(sess, m, ret)
	if v.Stay, err = stayParam(c); err != nil {
		return err
	}
	return render(c, views.Checkout(v))
}

// redirectToSettler sends a page request for an expired session that was
// paid through its recovery to the same page of that recovery (query kept):
// this one would offer to pay again, and say no payment was taken.
func redirectToSettler(c *fiber.Ctx, sess *store.Session) error {
	return c.Redirect(strings.Replace(c.OriginalURL(), "/pay/"+sess.ID, "/pay/"+sess.SettledBy, 1), fiber.StatusSeeOther)
}

// pageSession loads the session of a page request and its merchant, and
// picks the shopper's locale for the answer (the 404 page included). The
// sessions of a disabled merchant are unavailable, in that locale too.
func (h *handler) pageSession(c *fiber.Ctx) (*store.Session, *store.Merchant, error) {
	id, err := sessionIDParam(c)
	if err != nil {
		pageLocale(c, "", "")
		return nil, nil, err
	}
	sess, m, err := h.hub.Cache().SessionPage(c.UserContext(), id)
	if err != nil {
		pageLocale(c, "", "")
		return nil, nil, err
	}
	pageLocale(c, sess.Locale, m.DefaultLocale)
	if m.Disabled() {
		return nil, nil, errMerchantUnavailable
	}
	return sess, m, nil
}
