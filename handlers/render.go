package handlers

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/views"
)

const (
	printerKey ctxKey = iota + 200 // *locales.Printer picked for this page
	returnKey                      // the switcher's return path, when not the page's own
	cookieKey                      // *shopperCookie
)

// render writes a templ component as the HTML answer, with the shopper's
// locale, the CSP nonce, the CSRF token and the language switcher's return
// path in its context. It renders straight into the response's body (a
// buffer fasthttp keeps from request to request), which it empties first
// and again on a failure half-way, so that the error page starts clean.
func render(c *fiber.Ctx, comp templ.Component) error {
	p, _ := c.Locals(printerKey).(*locales.Printer)
	if p == nil {
		p = pageLocale(c, "", "")
	}
	ret, ok := c.Locals(returnKey).(string)
	if !ok {
		ret = switcherReturn(c.Path())
	}
	ctx := views.WithRequest(c.UserContext(), views.Request{Printer: p, Nonce: cspNonce(c),
		CSRF: func() string { return csrfToken(c) }, Return: ret,
		Zone:   locales.Zone(c.Get(fiber.HeaderAcceptLanguage), p.Code()),
		Secure: c.Protocol() == "https"})
	resp := c.Response()
	resp.ResetBody()
	if err := comp.Render(ctx, resp.BodyWriter()); err != nil {
		resp.ResetBody()
		return err
	}
	// Error pages are rendered after the cookie middleware has finished, so
	// the token their switcher just created is written here.
	if err := shopper(c).flush(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentLanguage, p.Lang())
	// Every page is the shopper's own: its language comes from their cookie
	// and headers, and its forms carry their token.
	if len(c.Response().Header.Peek(fiber.HeaderCacheControl)) == 0 {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	c.Type("html", "utf-8")
	return nil
}
