package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/static"
)

// staticAsset is GET /static/:file. Names carry their content's hash, so an
// asset never changes under its URL and may be cached for good.
func (h *handler) staticAsset(c *fiber.Ctx) error {
	a, ok := static.Lookup(c.Params("file"))
	if !ok {
		return errNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderContentType, a.ContentType)
	return c.Send(a.Body)
}
