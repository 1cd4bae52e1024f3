package handlers

import (
	"net"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	proxies, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies([]string{"not-an-ip"}); err == nil {
		t.Fatal("a bad proxy entry was accepted")
	}
	h := &handler{cfg: Config{TrustedProxies: proxies}}
	app := fiber.New()
	for _, tc := range []struct {
		name, peer, xff, want string
	}{
		{"no proxy: the header is ignored", "203.0.113.9", "1.2.3.4", "203.0.113.9"},
		{"trusted proxy: the hop before it", "10.1.2.3", "198.51.100.7", "198.51.100.7"},
		{"spoofed left entries are skipped", "10.1.2.3", "1.2.3.4, 198.51.100.7", "198.51.100.7"},
		{"a chain of our proxies", "10.1.2.3", "1.2.3.4, 198.51.100.7, 192.0.2.1, 10.9.9.9", "198.51.100.7"},
		{"garbage stops the walk", "10.1.2.3", "198.51.100.7, junk", "10.1.2.3"},
	} {
		var fctx fasthttp.RequestCtx
		fctx.SetRemoteAddr(&net.TCPAddr{IP: net.ParseIP(tc.peer), Port: 1})
		if tc.xff != "" {
			fctx.Request.Header.Set("X-Forwarded-For", tc.xff)
		}
		c := app.AcquireCtx(&fctx)
		if got := h.clientIP(c); got != tc.want {
			t.Errorf("%s: clientIP = %s, want %s", tc.name, got, tc.want)
		}
		app.ReleaseCtx(c)
	}
}
