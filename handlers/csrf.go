package handlers

import (
	"crypto/subtle"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// errForbidden answers a browser POST that failed the CSRF checks.
var errForbidden = fiber.NewError(fiber.StatusForbidden, "The request was refused: its origin or its form token is not valid.")

// csrfToken returns the synchronizer token for the page being rendered,
// creating it (and so the shopper's cookie) on first use. A browser keeps
// one token for the cookie's lifetime, so the cookie is written once.
func csrfToken(c *fiber.Ctx) string {
	sc := shopper(c)
	tok := sc.CSRF()
	if tok == "" {
		tok = randomToken(32)
		sc.setCSRF(tok)
	}
	return tok
}

// checkCSRF guards every browser POST: the fetch metadata must say
// same-origin where the browser sends it, the Origin must be ours where it
// is a real origin, and the form's token must equal the cookie's.
//
// Origin is often "null" on our own forms: the pages' no-referrer policy
// makes browsers hide the origin of same-origin form posts too; the
// Sec-Fetch-Site header and the token still hold then.
func (h *handler) checkCSRF(c *fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errForbidden
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && origin != "null" && !h.ownOrigin(c, origin) {
		return errForbidden
	}
	// Without a token in the cookie nothing can match: refuse before the
	// body is parsed at all.
	want := shopper(c).CSRF()
	if want == "" {
		return errForbidden
	}
	// From the form body only: a token in the URL leaks through logs,
	// history and Referer, and a form of ours never puts it there.
	got := c.Request().PostArgs().Peek("csrf")
	if subtle.ConstantTimeCompare([]byte(want), got) != 1 {
		return errForbidden
	}
	return c.Next()
}

// ownOrigin reports whether origin is paypage's public origin, or the
// origin the request was addressed to.
func (h *handler) ownOrigin(c *fiber.Ctx, origin string) bool {
	if u, err := url.Parse(h.cfg.BaseURL); err == nil && u.Host != "" && origin == u.Scheme+"://"+u.Host {
		return true
	}
	return origin == c.Protocol()+"://"+string(c.Request().Host())
}
