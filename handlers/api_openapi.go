package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/docs"
)

// apiOpenAPI is GET /v1/openapi.json: the API's OpenAPI 3.1 description,
// public so that tools can fetch it without a key.
func (h *handler) apiOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(docs.OpenAPI)
}
