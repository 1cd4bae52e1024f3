package handlers_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
)

// BenchmarkCheckoutPageCookie is GET /pay/:id through the whole app on
// SQLite, for a first visit (no cookie: the switcher's CSRF token is made
// and the cookie encoded and written) and for a returning shopper (the
// cookie is decoded, nothing is written), with and without a language
// choice in it. The differences are what the cookie costs a page.
func BenchmarkCheckoutPageCookie(b *testing.B) {
	a := newBenchApp(b, handlers.Config{})
	unit := int64(1250)
	sess, err := a.st.CreateSession(context.Background(), a.m, false, &store.SessionParams{Currency: "eur", CancelURL: "https://shop.example/cart",
		LineItems: []store.LineItemParams{{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Mug"}}}}})
	if err != nil {
		b.Fatal(err)
	}
	// do serves one request and returns the cookie pair it set, if any.
	do := func(method, path string, cookie []byte, body string) (status int, set []byte) {
		headers := []string{"Accept-Language", "de"}
		if cookie != nil {
			headers = append(headers, "Cookie", string(cookie))
		}
		resp := a.do(method, path, body, headers...)
		if raw := resp.Header.PeekCookie("__Host-paypage"); raw != nil {
			var c fasthttp.Cookie
			if err := c.ParseBytes(raw); err != nil {
				b.Fatal(err)
			}
			set = []byte("__Host-paypage=" + string(c.Value()))
		}
		return resp.StatusCode(), set
	}
	page := "/pay/" + sess.ID
	_, tokenOnly := do("GET", page, nil, "")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(a.ctx.Response.Body())
	if tokenOnly == nil || token == nil {
		b.Fatal("the page set no cookie or carries no token")
	}
	// The choice is the language the browser asks for anyway, so that all
	// three render the same page and differ only by the cookie.
	form := url.Values{"locale": {"de"}, "return": {page}, "csrf": {string(token[1])}}
	status, withChoice := do("POST", "/locale", tokenOnly, form.Encode())
	if status != 303 || withChoice == nil {
		b.Fatalf("switcher: HTTP %d", status)
	}

	for _, bc := range []struct {
		name   string
		cookie []byte
	}{
		{"first-visit", nil},
		{"returning", tokenOnly},
		{"returning-with-choice", withChoice},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				status, set := do("GET", page, bc.cookie, "")
				if status != 200 || (set != nil) != (bc.cookie == nil) {
					b.Fatalf("HTTP %d, Set-Cookie %q", status, set)
				}
			}
		})
	}
}
