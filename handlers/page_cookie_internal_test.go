package handlers

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// cookieApp serves /set (stores a CSRF token and a locale) and /get
// (answers what the cookie holds) with cookies under the given key pairs.
func cookieApp(keys [][]byte) *fiber.App {
	h := &handler{cookies: newCookieJar(keys)}
	app := fiber.New()
	app.Use(h.shopperCookies)
	app.Get("/set", func(c *fiber.Ctx) error {
		shopper(c).SetLocale("fr")
		return c.SendString(csrfToken(c))
	})
	app.Get("/get", func(c *fiber.Ctx) error {
		return c.SendString(shopper(c).CSRF() + "|" + shopper(c).Locale())
	})
	return app
}

func pair(b byte) [][]byte {
	return [][]byte{bytes.Repeat([]byte{b}, 64), bytes.Repeat([]byte{b + 1}, 32)}
}

func TestShopperCookieRotatesKeys(t *testing.T) {
	t.Parallel()
	oldKeys, newKeys := pair(1), pair(7)
	resp, err := cookieApp(oldKeys).Test(httptest.NewRequest("GET", "/set", nil))
	if err != nil {
		t.Fatal(err)
	}
	set := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-paypage=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(set, attr) {
			t.Errorf("Set-Cookie %q lacks %s", set, attr)
		}
	}
	buf := new(bytes.Buffer)
	buf.ReadFrom(resp.Body)
	token := buf.String()
	cookie := strings.SplitN(set, ";", 2)[0]

	for _, tc := range []struct {
		name string
		keys [][]byte
		want string
	}{
		{"same keys", oldKeys, token + "|fr"},
		{"rotated: new key first, old still listed", append(append([][]byte{}, newKeys...), oldKeys...), token + "|fr"},
		{"old key dropped", newKeys, "|"},
	} {
		req := httptest.NewRequest("GET", "/get", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := cookieApp(tc.keys).Test(req)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		buf.ReadFrom(resp.Body)
		if buf.String() != tc.want {
			t.Errorf("%s: cookie reads %q, want %q", tc.name, buf.String(), tc.want)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: reading the cookie rewrote it", tc.name)
		}
	}
}
