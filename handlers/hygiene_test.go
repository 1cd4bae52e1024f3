package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// rawStatus sends req and returns its status and body.
func rawStatus(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// rawRequest sends request as written, bytes and all, and returns the
// answer's status and body.
func rawRequest(t *testing.T, base, request string) (int, string) {
	t.Helper()
	status, _, body := rawExchange(t, base, request)
	return status, body
}

// rawExchange is rawRequest with the answer's headers.
func rawExchange(t *testing.T, base, request string) (int, http.Header, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", request, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// Bytes that are not text — NUL, invalid UTF-8, lone surrogates — are
// refused at the edge with a 400 naming the field, wherever they come in:
// a body parameter (form or JSON, name or value), a path id, a query
// parameter, a header that reaches the store. On PostgreSQL each of these
// was a 500; on SQLite the NULs were stored.
func TestBytesThatAreNotTextAreRefusedNamingTheField(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		open := handlertest.CreateSession(t, srv, false, store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{{
			Quantity: 1, PriceData: &store.PriceData{UnitAmount: ptr(int64(100)), ProductData: &store.ProductData{Name: "Tea"}}}}})
		sessionsBefore := count(t, srv, "checkout_sessions")

		const form = "line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=100" +
			"&line_items[0][price_data][product_data][name]=Tea"
		const item = `"line_items":[{"quantity":1,"price_data":{"currency":"eur","unit_amount":100,"product_data":{"name":"Tea"}}}]`
		for _, tc := range []struct {
			name, body, param string
			headers           []string
		}{
			{"NUL in a product name (JSON escape)", `{"line_items":[{"quantity":1,"price_data":{"currency":"eur","unit_amount":100,"product_data":{"name":"T\u0000ea"}}}]}`,
				"line_items[0][price_data][product_data][name]", nil},
			{"invalid UTF-8 in client_reference_id (JSON)", "{" + item + `,"client_reference_id":"ORD-` + "\xff" + `"}`, "client_reference_id", nil},
			{"a lone surrogate in a fee label (JSON)", "{" + item + `,"fees":[{"type":"fee","label":"a\ud800b","amount":1}]}`, "fees[0][label]", nil},
			{"invalid UTF-8 in a JSON key", "{" + item + `,"metadata":{"k` + "\xc3" + `":"v"}}`, "metadata[k\uFFFD]", nil},
			{"NUL in a fee label (form)", form + "&fees[0][type]=fee&fees[0][label]=a%00b&fees[0][amount]=1", "fees[0][label]", nil},
			{"invalid UTF-8 in client_reference_id (form)", form + "&client_reference_id=%FF", "client_reference_id", nil},
			{"NUL in a metadata key (form)", form + "&metadata[a%00]=1", "metadata[a\uFFFD]", nil},
			{"NUL in a product name (form)", strings.Replace(form, "name]=Tea", "name]=T%00ea", 1), "line_items[0][price_data][product_data][name]", nil},
			{"byte 0xFF in Idempotency-Key", form, "Idempotency-Key", []string{"Idempotency-Key", "key-\xff"}},
		} {
			r := api.do("POST", "/v1/checkout/sessions", tc.body, tc.headers...)
			if r.Status != 400 || r.err()["param"] != tc.param {
				t.Errorf("%s: %d %s, want 400 naming %s", tc.name, r.Status, r.Raw, tc.param)
			}
		}
		// U+FFFD itself is text: sent as such, or escaped.
		api.mustOK("POST", "/v1/checkout/sessions", "{"+item+`,"client_reference_id":"a`+"\uFFFD"+`b\ufffd"}`)
		if got := count(t, srv, "checkout_sessions"); got != sessionsBefore+1 {
			t.Fatalf("%d sessions stored, want %d: refused requests stored something", got, sessionsBefore+1)
		}

		for _, tc := range []struct{ name, path, param string }{
			{"a NUL cursor", "/v1/checkout/sessions?starting_after=cs_test_%00", "starting_after"},
			{"invalid UTF-8 in a filter", "/v1/checkout/sessions?client_reference_id=%FF", "client_reference_id"},
			{"a NUL line item cursor", "/v1/checkout/sessions/" + open.ID + "/line_items?ending_before=li_%00", "ending_before"},
		} {
			if r := api.do("GET", tc.path, ""); r.Status != 400 || r.err()["param"] != tc.param {
				t.Errorf("%s: %d %s, want 400 naming %s", tc.name, r.Status, r.Raw, tc.param)
			}
		}
		// Path bytes arrive raw: cs_test_%FF is the text "cs_test_%FF", an
		// id of another shape, which Stripe's API answers as missing.
		if r := api.do("GET", "/v1/checkout/sessions/cs_test_%FF", ""); r.Status != 404 || r.err()["code"] != "resource_missing" || r.err()["param"] != "id" {
			t.Errorf("a path id with %%FF: %d %s, want 404 resource_missing", r.Status, r.Raw)
		}

		// The shopper's side, no key needed: the same 400, as a page or as
		// JSON by route. Path bytes arrive raw (Fiber does not unescape
		// them: /pay/%FF is the text "%FF", an unknown id).
		for _, tc := range []struct{ path, want string }{
			{"/pay/\xff/status", `"param":"id"`},
			{"/pay/cs_test_\xff", `“id”`},
			{"/pay/cs_test_\xc3\x28/pending", `“id”`},
			{"/pay/cs_test_\xff/events", `“id”`},
			{"/pay/cs_test_\xe2\x82/embed?origin=x", `“id”`},
		} {
			status, body := rawRequest(t, srv.URL, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			if status != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("GET %q: %d %.300s, want 400 naming id", tc.path, status, body)
			}
		}
		// Ids that are text but no session's are not found, as before.
		for _, path := range []string{"/pay/%FF/status", "/pay/cs_test_nosuchsession/status", "/pay/cs_test_%00"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if status, _, _ := rawStatus(t, req); status != 404 {
				t.Errorf("GET %s: %d, want 404", path, status)
			}
		}
	})
}

// encoding/json lets the last of two equal keys win silently; the API does
// not guess which one was meant.
func TestDuplicateJSONKeysAreRefused(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	api := newAPIClient(t, srv, srv.Keys.Test)
	item := `"line_items":[{"quantity":1,"price_data":{"currency":"eur","unit_amount":100,"product_data":{"name":"Tea"}}}]`
	for _, tc := range []struct{ body, param string }{
		{`{"currency":"eur","currency":"usd",` + item + `}`, "currency"},
		{`{` + item + `,"metadata":{"a":"1","a":"2"}}`, "metadata[a]"},
		{`{"line_items":[{"quantity":1,"quantity":1000,"price_data":{"currency":"eur","unit_amount":100,"product_data":{"name":"Tea"}}}]}`, "line_items[0][quantity]"},
	} {
		if r := api.do("POST", "/v1/checkout/sessions", tc.body); r.Status != 400 || r.err()["param"] != tc.param {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, r.Status, r.Raw, tc.param)
		}
	}
	if n := count(t, srv, "checkout_sessions"); n != 0 {
		t.Fatalf("%d sessions stored", n)
	}
}

// Lists and strings have caps: one 880 KB request stored 20,000 fees, and
// address fields took 200,000 characters.
func TestEveryListAndStringIsCapped(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	api := newAPIClient(t, srv, srv.Keys.Live)
	item := `"line_items":[{"quantity":1,"price_data":{"currency":"eur","unit_amount":100,"product_data":{"name":"Tea"}}}]`
	repeat := func(s string, n int) string { return strings.TrimSuffix(strings.Repeat(s+",", n), ",") }
	for _, tc := range []struct{ name, body, param string }{
		{"20,000 fees", `{` + item + `,"fees":[` + repeat(`{"type":"fee","label":"F","amount":1}`, 20000) + `]}`, ""},
		{"51 fees", `{` + item + `,"fees":[` + repeat(`{"type":"fee","label":"F","amount":1}`, 51) + `]}`, "fees"},
		{"120,000 payment method types", `{` + item + `,"payment_method_types":[` + repeat(`"card"`, 120000) + `]}`, ""},
		{"a payment method type twice", `{` + item + `,"payment_method_types":["card","card"]}`, "payment_method_types[1]"},
		{"35,000 allowed origins", `{` + item + `,"next_action":{"type":"three_d_secure","redirect_url":"https://acs.example/",` +
			`"allowed_origins":[` + repeat(`"https://acs.example"`, 35000) + `]}}`, ""},
		{"11 allowed origins", `{` + item + `,"next_action":{"type":"three_d_secure","redirect_url":"https://acs.example/",` +
			`"allowed_origins":[` + repeat(`"https://acs.example"`, 11) + `]}}`, "next_action[allowed_origins]"},
		{"an address line of 200,000 characters", `{` + item + `,"customer_details":{"address":{"line1":"` + strings.Repeat("x", 200000) + `"}}}`,
			"customer_details[address][line1]"},
		{"not an email", `{` + item + `,"customer_email":"not-an-email@"}`, "customer_email"},
	} {
		r := api.do("POST", "/v1/checkout/sessions", tc.body)
		if r.Status != 400 || r.err()["param"] != tc.param && tc.param != "" {
			t.Errorf("%s: %d %.300s, want 400 naming %q", tc.name, r.Status, r.Raw, tc.param)
		}
	}
	if n := count(t, srv, "checkout_sessions"); n != 0 {
		t.Fatalf("%d sessions stored", n)
	}
}

// created[gt]=9223372036854775807 wrapped round to "everything".
func TestRangeFiltersDoNotOverflow(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	api := newAPIClient(t, srv, srv.Keys.Test)
	handlertest.CreateSession(t, srv, false, store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{{
		Quantity: 1, PriceData: &store.PriceData{UnitAmount: ptr(int64(100)), ProductData: &store.ProductData{Name: "Tea"}}}}})
	for _, q := range []string{
		fmt.Sprintf("created[gt]=%d", int64(math.MaxInt64)),
		fmt.Sprintf("created[lt]=%d", int64(math.MinInt64)),
		fmt.Sprintf("created[lte]=%d", int64(math.MinInt64)),
		"created[lt]=1",
	} {
		r := api.do("GET", "/v1/checkout/sessions?"+url.PathEscape(q), "")
		if data, _ := r.JSON["data"].([]any); r.Status != 200 || len(data) != 0 {
			t.Errorf("%s: %d, %d sessions, want none", q, r.Status, len(data))
		}
	}
	if r := api.do("GET", "/v1/checkout/sessions?created[gte]=1", ""); len(r.JSON["data"].([]any)) != 1 {
		t.Errorf("created[gte]=1: %s, want the one session", r.Raw)
	}
}

// The form token is read from the form body only: in a URL it would leak
// through logs, history and Referer.
func TestCSRFTokenInTheQueryStringIsRefused(t *testing.T) {
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	sess := handlertest.CreateSession(t, srv, false, store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{{
		Quantity: 1, PriceData: &store.PriceData{UnitAmount: ptr(int64(100)), ProductData: &store.ProductData{Name: "Tea"}}}}})
	b := visit(t, srv.URL+"/pay/"+sess.ID)
	noToken := shopperBrowser{cookie: b.cookie}
	resp := noToken.post(t, srv.URL+"/pay/"+sess.ID+"/simulate?csrf="+url.QueryEscape(b.token), url.Values{"outcome": {"succeed"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("token in the query string: %d, want 403", resp.StatusCode)
	}
	resp = b.post(t, srv.URL+"/pay/"+sess.ID+"/simulate", url.Values{"outcome": {"succeed"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("token in the body: %d, want 303", resp.StatusCode)
	}
}

// A payment event signed with the webhook secret may not send the shopper
// to a place the secret key did not name at creation.
func TestSignedEventsKeepTheShopperOnTheProvidersOrigin(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		in := startLiveInstance(t, dbURL, time.Second)
		m, _ := handlertest.Merchant(t, in.Store)
		sess := handlertest.MugSession(t, in.Store, m, func(p *store.SessionParams) {
			p.NextAction = &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://pay.provider.example/s/1"}
		})
		event := func(id, redirect string) []byte {
			return fmt.Appendf(nil, `{"id":%q,"type":"payment.processing","session":%q,"next_action":{"type":"three_d_secure","redirect_url":%q}}`,
				id, sess.ID, redirect)
		}
		code, resp := in.postSigned(t, m.WebhookSecret, time.Now().Unix(), event("evt_phish", "https://phish.example/3ds"))
		if e := errorOf(resp); code != 400 || e["param"] != "next_action[redirect_url]" {
			t.Fatalf("signed event to another origin: %d %v, want 400 naming next_action[redirect_url]", code, resp)
		}
		code, resp = in.postSigned(t, m.WebhookSecret, time.Now().Unix(), event("evt_3ds", "https://pay.provider.example/s/1/3ds"))
		if code != 200 {
			t.Fatalf("signed event on the provider's origin: %d %v", code, resp)
		}
	})
}

func ptr[T any](v T) *T { return &v }
