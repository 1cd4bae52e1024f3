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
	return sendAsset(c, a)
}

// favicon is GET /favicon.ico, which browsers ask for by that name whatever
// a page links (the embed links none): a small icon, cached for a day since
// its URL cannot change with it.
func (h *handler) favicon(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return sendAsset(c, static.Get("favicon.ico"))
}

// sendAsset answers with the asset in the best coding the client accepts,
// compressed once (package static), never per request.
func sendAsset(c *fiber.Ctx, a *static.Asset) error {
	c.Set(fiber.HeaderContentType, a.ContentType)
	br, gz := a.Compressed()
	if br == nil {
		return c.Send(a.Body)
	}
	c.Vary(fiber.HeaderAcceptEncoding)
	switch pickEncoding(c.Get(fiber.HeaderAcceptEncoding)) {
	case encodingBrotli:
		c.Set(fiber.HeaderContentEncoding, encodingBrotli)
		return c.Send(br)
	case encodingGzip:
		c.Set(fiber.HeaderContentEncoding, encodingGzip)
		return c.Send(gz)
	}
	return c.Send(a.Body)
}
