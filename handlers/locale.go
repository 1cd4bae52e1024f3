package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/store"
)

// pageLocale picks the locale of the page being answered, in SPEC.md's
// order: the shopper's choice kept in the cookie, the session's locale
// unless auto, Accept-Language, the merchant's default, English. It is the
// one place that order is applied: every page, return page, error page and
// the embed come through here, and render uses the printer it keeps.
// sessionLocale and merchantDefault are "" where there is no session.
func pageLocale(c *fiber.Ctx, sessionLocale, merchantDefault string) *locales.Printer {
	p := locales.For(locales.Negotiate(shopper(c).Locale(), sessionLocale, c.Get(fiber.HeaderAcceptLanguage), merchantDefault))
	c.Locals(printerKey, p)
	return p
}

// errorPageLocale picks the locale of an error page that no page handler
// got to pick (a refused form, an unknown route under a session's path):
// the session's and merchant's locales still count when the path names a
// session that exists.
func (h *handler) errorPageLocale(c *fiber.Ctx) {
	if _, ok := c.Locals(printerKey).(*locales.Printer); ok {
		return
	}
	id, _, ok := sessionPath(c.Path())
	if !ok {
		pageLocale(c, "", "")
		return
	}
	sess, mer, err := h.hub.Cache().SessionPage(c.UserContext(), id)
	if err != nil {
		pageLocale(c, "", "")
		return
	}
	pageLocale(c, sess.Locale, mer.DefaultLocale)
}

// sessionPath matches the paths under a checkout session's page, as the
// regular expression ^/pay/(cs_(?:test|live)_[0-9A-Za-z]{1,64})(/[a-z]+)?/?$
// would (TestSessionPathIsTheRegexp): id is the session id, sub the
// sub-page ("/success") or "". The id's shape is store.IsSessionID's. It
// runs for every page's switcher, where the regexp cost a page 1.5% of its
// CPU.
func sessionPath(path string) (id, sub string, ok bool) {
	rest, found := strings.CutPrefix(path, "/pay/")
	if !found {
		return "", "", false
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	id, rest = rest[:end], rest[end:]
	if !store.IsSessionID(id) {
		return "", "", false
	}
	if rest == "" || rest == "/" {
		return id, "", true
	}
	sub = strings.TrimSuffix(rest, "/")
	if len(sub) < 2 || strings.TrimLeft(sub[1:], "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", "", false
	}
	return id, sub, true
}

// switcherReturn is where the language switcher on the page at path brings
// the shopper back to: the page itself for a session's page or return page,
// the session's page for its other routes (a refused form, the embed), and
// "" anywhere else. These are the only places the switcher ever redirects
// to, so it cannot be made an open redirect.
func switcherReturn(path string) string {
	id, sub, ok := sessionPath(path)
	if !ok {
		return ""
	}
	switch sub {
	case "/success", "/cancel", "/pending":
		return "/pay/" + id + sub
	}
	if len(path) == len("/pay/")+len(id) {
		return path // the page itself: no need for a new string
	}
	return "/pay/" + id
}

// chooseLocale is POST /locale, the language switcher on every page: it
// keeps the shopper's choice in their cookie and sends them back, 303, to
// the page they came from. The return path must be one switcherReturn
// gives; any other value, like a locale paypage does not offer, is a 400
// that names it, and nothing is stored.
func (h *handler) chooseLocale(c *fiber.Ctx) error {
	ret := c.FormValue("return")
	if ret != "" && switcherReturn(ret) != ret {
		return store.Invalid("return", "return must be the path of a checkout page on this site")
	}
	// The 400 page's own switcher goes back to the same page.
	c.Locals(returnKey, ret)
	code := c.FormValue("locale")
	if !locales.Supported(code) {
		return &invalidLocale{Value: code}
	}
	shopper(c).SetLocale(locales.For(code).Code())
	if ret == "" {
		ret = "/"
	}
	return c.Redirect(ret, fiber.StatusSeeOther)
}

// invalidLocale is a switcher request for a locale paypage does not offer.
type invalidLocale struct{ Value string }

func (e *invalidLocale) Error() string { return "invalid locale " + e.Value }

func (e *invalidLocale) Unwrap() error {
	return store.Invalid("locale", "locale must be one of the supported locale codes")
}

// shown is the refused value as the 400 page names it: cut short, so
// the page cannot be made to carry an arbitrary text (it is escaped anyway).
func (e *invalidLocale) shown() string {
	const maxShown = 35
	r := []rune(e.Value)
	if len(r) > maxShown {
		return string(r[:maxShown]) + "…"
	}
	return string(r)
}
