package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/paypage/paypage/handlers"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// benchApp is the whole app on a fresh SQLite database with one merchant,
// driven without a network: each request through one reused RequestCtx.
type benchApp struct {
	st    *store.Store
	m     *store.Merchant
	keys  store.Keys
	serve fasthttp.RequestHandler
	ctx   fasthttp.RequestCtx
}

func newBenchApp(b *testing.B, cfg handlers.Config) *benchApp {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLiteURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a := &benchApp{st: st, m: &store.Merchant{Name: "Bench Shop"}}
	if a.keys, err = st.CreateMerchant(ctx, a.m); err != nil {
		b.Fatal(err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a.serve = handlers.New(st, cfg).Handler()
	a.ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}, nil)
	return a
}

// do serves one request; headers are name, value pairs.
func (a *benchApp) do(method, path, body string, headers ...string) *fasthttp.Response {
	req := &a.ctx.Request
	req.Reset()
	a.ctx.Response.Reset()
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if body != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(body)
	}
	a.serve(&a.ctx)
	return &a.ctx.Response
}

// unlimited lifts the API's rate limit: the benchmarks measure what a
// request costs, not how often a client may send one.
var unlimited = handlers.Config{APIRate: 1e9, APIBurst: 1e9}

// BenchmarkAPIRetrieve is GET /v1/checkout/sessions/:id through the whole
// app on SQLite, in Stripe's dialect: what a merchant backend's poll costs,
// to compare with BenchmarkCheckoutPageCookie's page.
func BenchmarkAPIRetrieve(b *testing.B) {
	a := newBenchApp(b, unlimited)
	unit := int64(1250)
	var items []store.LineItemParams
	for _, name := range []string{"Mug", "Tea", "Spoon"} {
		items = append(items, store.LineItemParams{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: name}}})
	}
	sess, err := a.st.CreateSession(context.Background(), a.m, false, &store.SessionParams{Currency: "eur",
		CancelURL: "https://shop.example/cart", LineItems: items})
	if err != nil {
		b.Fatal(err)
	}
	path := "/v1/checkout/sessions/" + sess.ID
	for b.Loop() {
		if resp := a.do("GET", path, "", "Authorization", "Bearer "+a.keys.Test); resp.StatusCode() != 200 {
			b.Fatalf("HTTP %d: %s", resp.StatusCode(), resp.Body())
		}
	}
}

// BenchmarkAPICreate is POST /v1/checkout/sessions of three line items
// through the whole app on SQLite, without and with an Idempotency-Key (a
// fresh one each time): what a key adds to a create.
func BenchmarkAPICreate(b *testing.B) {
	a := newBenchApp(b, unlimited)
	form := url.Values{"currency": {"eur"}, "success_url": {"https://shop.example/ok"}, "cancel_url": {"https://shop.example/cart"}}
	for i, name := range []string{"Mug", "Tea", "Spoon"} {
		p := "line_items[" + strconv.Itoa(i) + "]"
		form.Set(p+"[quantity]", "2")
		form.Set(p+"[price_data][unit_amount]", "1250")
		form.Set(p+"[price_data][product_data][name]", name)
	}
	body := form.Encode()
	n := 0
	for _, keyed := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "keyed"}[keyed], func(b *testing.B) {
			for b.Loop() {
				headers := []string{"Authorization", "Bearer " + a.keys.Test}
				if keyed {
					n++
					headers = append(headers, "Idempotency-Key", "bench-"+strconv.Itoa(n))
				}
				if resp := a.do("POST", "/v1/checkout/sessions", body, headers...); resp.StatusCode() != 200 {
					b.Fatalf("HTTP %d: %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}
