package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/paypage/paypage/static"
)

// Content codings paypage answers in, besides identity.
const (
	encodingBrotli = "br"
	encodingGzip   = "gzip"
)

// minCompress is the smallest body worth compressing: below it the coding's
// framing costs about what it saves.
const minCompress = 512

// Levels for bodies compressed per request: fast ones (static assets were
// compressed at their best once, in package static).
const (
	brotliLevel = 5
	gzipLevel   = 6
)

// compress answers HTML, CSS, JavaScript and JSON in brotli or gzip when the
// client accepts them, and says so in Vary whatever it chose. It runs first,
// on the finished response (requestContext has rendered any error page by
// then). Streams (the live-update events) pass untouched: compressing them
// would hold events back until a compressor block fills.
func compress(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		return err
	}
	resp := c.Response()
	if resp.IsBodyStream() || !static.Compressible(string(resp.Header.ContentType())) ||
		c.Method() == fiber.MethodHead {
		return nil
	}
	c.Vary(fiber.HeaderAcceptEncoding)
	body := resp.Body()
	if len(resp.Header.Peek(fiber.HeaderContentEncoding)) > 0 || len(body) < minCompress {
		return nil
	}
	switch pickEncoding(c.Get(fiber.HeaderAcceptEncoding)) {
	case encodingBrotli:
		resp.SetBodyRaw(fasthttp.AppendBrotliBytesLevel(nil, body, brotliLevel))
		resp.Header.Set(fiber.HeaderContentEncoding, encodingBrotli)
	case encodingGzip:
		resp.SetBodyRaw(fasthttp.AppendGzipBytesLevel(nil, body, gzipLevel))
		resp.Header.Set(fiber.HeaderContentEncoding, encodingGzip)
	}
	return nil
}

// pickEncoding chooses brotli, else gzip, else "" (identity) from an
// Accept-Encoding header, honouring q=0 (refused) and "*".
func pickEncoding(header string) string {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = f
				}
			}
		}
		q[name] = weight
	}
	accepts := func(enc string) bool {
		if w, ok := q[enc]; ok {
			return w > 0
		}
		w, ok := q["*"]
		return ok && w > 0
	}
	switch {
	case accepts(encodingBrotli):
		return encodingBrotli
	case accepts(encodingGzip):
		return encodingGzip
	}
	return ""
}
