package handlers

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

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
	want, ok := canonicalOrigin(asked)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if got, ok := canonicalOrigin(a); ok && got == want {
			return want, true
		}
	}
	return "", false
}

// originHostRE is what a host may be in an origin we put in a header: a DNS
// name or an IPv4 address (IPv6 is checked separately).
var originHostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// canonicalOrigin returns o as browsers serialise an origin (lower-case
// scheme and host, no default port, no trailing slash), or false when o is
// not an http(s) origin: no path, query, fragment or user info. The result
// is safe to put in a CSP header and to use as postMessage's targetOrigin.
func canonicalOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + ip.String() + "]"
	} else if !originHostRE.MatchString(host) {
		return "", false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", false
		}
		host += ":" + port
	}
	return scheme + "://" + host, true
}
