package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/handlers/dialect"
)

// dialectKey holds the *dialect.Dialect that answers a request: its objects
// and its error envelope; versionKey the name of its API version.
const (
	dialectKey ctxKey = 400
	versionKey ctxKey = 401
)

// apiVersion picks the API version of an authenticated request on
// Stripe's paths (dialect.Resolve: Paypage-Version, else Stripe-Version,
// else the merchant's pinned version), says which in the answer's headers,
// and leaves its dialect for the handlers and the error mapper.
func (h *handler) apiVersion(c *fiber.Ctx) error {
	m, _ := merchant(c)
	v, err := dialect.Resolve(c.Get(dialect.HeaderPaypageVersion), c.Get(dialect.HeaderStripeVersion), m.APIVersion)
	if err != nil {
		return err
	}
	c.Locals(dialectKey, v.Dialect)
	c.Locals(versionKey, v.Name)
	c.Set(dialect.HeaderPaypageVersion, v.Name)
	if v.Dialect == dialect.Stripe {
		c.Set(dialect.HeaderStripeVersion, v.Name) // as Stripe echoes it
	}
	return c.Next()
}

// apiDialect is the dialect that answers c: the one apiVersion or a seed
// route chose, else the native one (errors before authentication).
func apiDialect(c *fiber.Ctx) *dialect.Dialect {
	if d, ok := c.Locals(dialectKey).(*dialect.Dialect); ok {
		return d
	}
	return dialect.Native
}
