package handlers

import (
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

const (
	merchantKey ctxKey = iota + 100
	livemodeKey
)

var errUnauthorized = &store.Error{Code: codeUnauthorized,
	Message: "Invalid API Key provided. Use your secret key as a Bearer token or as the Basic auth user name."}

// authenticate resolves the secret key of an API request: "Authorization:
// Bearer sk_…", or Basic with the key as the user name (as Stripe's clients
// and curl -u send it), or the header of a seed system that has one.
func (h *handler) authenticate(c *fiber.Ctx) error {
	key := secretKey(c)
	if key == "" {
		return h.authFailed(c, refusedAuth(c, errUnauthorized))
	}
	m, livemode, err := h.hub.Keys().Authenticate(c.UserContext(), key)
	if store.IsNotFound(err) {
		return h.authFailed(c, refusedAuth(c, errUnauthorized))
	}
	if err != nil {
		return err
	}
	c.Locals(merchantKey, m)
	c.Locals(livemodeKey, livemode)
	return c.Next()
}

func apiKey(header string) string {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		return strings.TrimSpace(value)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return ""
		}
		user, _, _ := strings.Cut(string(raw), ":")
		return user
	}
	return ""
}

func merchant(c *fiber.Ctx) (*store.Merchant, bool) {
	m, _ := c.Locals(merchantKey).(*store.Merchant)
	live, _ := c.Locals(livemodeKey).(bool)
	return m, live
}
