package handlers

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/securecookie"
	"github.com/valyala/fasthttp"
)

func TestSwitcherReturnOnlyOurPages(t *testing.T) {
	t.Parallel()
	const id = "cs_test_a1B2c3"
	for path, want := range map[string]string{
		"/pay/" + id:                              "/pay/" + id,
		"/pay/" + id + "/":                        "/pay/" + id,
		"/pay/" + id + "/success":                 "/pay/" + id + "/success",
		"/pay/" + id + "/cancel":                  "/pay/" + id + "/cancel",
		"/pay/" + id + "/pending":                 "/pay/" + id + "/pending",
		"/pay/" + id + "/embed":                   "/pay/" + id,
		"/pay/" + id + "/simulate":                "/pay/" + id,
		"/pay/cs_live_Z9":                         "/pay/cs_live_Z9",
		"/pay/" + id + "/success/x":               "",
		"/pay/" + id + "/../../x":                 "",
		"/pay/" + id + "%2F%2Fevil":               "",
		"/pay/" + id + "/Success":                 "",
		"/pay/pi_123":                             "",
		"/pay/cs_test_":                           "",
		"/pay/cs_test_" + strings.Repeat("a", 65): "",
		"//evil.example/pay/" + id:                "",
		"https://evil.example/pay/x":              "",
		"/locale":                                 "",
		"/":                                       "",
		"":                                        "",
	} {
		if got := switcherReturn(path); got != want {
			t.Errorf("switcherReturn(%q) = %q, want %q", path, got, want)
		}
		// Whatever it returns is a path it returns unchanged: the switcher's
		// check of a posted return path.
		if got := switcherReturn(path); got != "" && switcherReturn(got) != got {
			t.Errorf("switcherReturn(%q) = %q is not accepted back", path, got)
		}
	}
}

// localeApp answers the locale pageLocale picks for a session in ja.
func localeApp(jar *cookieJar) *fiber.App {
	h := &handler{cookies: jar}
	app := fiber.New()
	app.Use(h.shopperCookies)
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString(pageLocale(c, "ja", "it").Code()) })
	return app
}

// A cookie whose choice paypage no longer offers (or that does not decode)
// is passed over like no choice at all.
func TestPageLocaleSkipsAChoiceNoLongerOffered(t *testing.T) {
	t.Parallel()
	jar := newCookieJar(pair(3))
	for _, tc := range []struct {
		name string
		data *cookieData
		raw  string
		want string
	}{
		{"no cookie", nil, "", "ja"},
		{"a supported choice", &cookieData{Locale: "fr"}, "", "fr"},
		{"a choice no longer offered", &cookieData{Locale: "am"}, "", "ja"},
		{"garbage", nil, "not-a-cookie", "ja"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		raw := tc.raw
		if tc.data != nil {
			var err error
			if raw, err = securecookie.EncodeMulti(cookieName, tc.data, jar.codecs...); err != nil {
				t.Fatal(err)
			}
		}
		if raw != "" {
			req.Header.Set("Cookie", cookieName+"="+raw)
		}
		resp, err := localeApp(jar).Test(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != tc.want || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: locale %q (want %q), Set-Cookie %q", tc.name, got, tc.want, resp.Header.Get("Set-Cookie"))
		}
	}
}

// BenchmarkShopperCookie measures the cookie alone: what a returning
// shopper's request pays to read it, and what a first visit (or a new
// choice) pays to write it.
func BenchmarkShopperCookie(b *testing.B) {
	jar := newCookieJar(pair(5))
	raw, err := securecookie.EncodeMulti(cookieName, cookieData{Locale: "de", CSRF: randomToken(32)}, jar.codecs...)
	if err != nil {
		b.Fatal(err)
	}
	var fctx fasthttp.RequestCtx
	app := fiber.New()
	b.Run("decode", func(b *testing.B) {
		fctx.Request.Header.SetCookie(cookieName, raw)
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		for b.Loop() {
			sc := &shopperCookie{jar: jar, c: c}
			if sc.Locale() != "de" {
				b.Fatal("cookie did not decode")
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		for b.Loop() {
			sc := &shopperCookie{jar: jar, c: c, loaded: true}
			sc.setCSRF(randomToken(32))
			if err := sc.flush(); err != nil {
				b.Fatal(err)
			}
			c.Response().Header.Del(fiber.HeaderSetCookie)
		}
	})
}
