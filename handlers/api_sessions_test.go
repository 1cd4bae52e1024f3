package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

const oneItem = `{"currency":"eur","line_items":[{"quantity":2,"price_data":{"unit_amount":1250,"product_data":{"name":"Mug"}}}],"success_url":"https://shop.example/ok"}`

func TestAPICreateThenRetrieveFirstSlice(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		created := api.mustOK("POST", "/v1/checkout/sessions", oneItem)
		id, _ := created["id"].(string)
		if !strings.HasPrefix(id, "cs_test_") || created["object"] != "checkout.session" ||
			created["amount_total"] != 2500.0 || created["url"] != srv.URL+"/pay/"+id {
			t.Fatalf("created object wrong: %v", created)
		}
		got := api.mustOK("GET", "/v1/checkout/sessions/"+id, "")
		if got["id"] != id || got["status"] != "open" || got["payment_status"] != "unpaid" {
			t.Fatalf("retrieve: %v", got)
		}
		// The live key of the same merchant sees only live sessions.
		if r := api.with(srv.Keys.Live).do("GET", "/v1/checkout/sessions/"+id, ""); r.Status != 404 {
			t.Fatalf("live key read a test session: %d", r.Status)
		}
		// Basic auth with the key as the user name, as curl -u sends it.
		basic := api.with("")
		r := basic.do("GET", "/v1/checkout/sessions/"+id, "", "Authorization", "Basic "+basicAuth(srv.Keys.Test))
		if r.Status != 200 || r.JSON["id"] != id {
			t.Fatalf("basic auth: %d %s", r.Status, r.Raw)
		}
	})
}

func basicAuth(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

func TestAPIRefusesBadInputNamingTheParameterAndStoresNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		form := "line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=500" +
			"&line_items[0][price_data][product_data][name]=Mug"
		cases := []struct {
			name, key, body string
			status          int
			code, param     string
		}{
			{"wrong key", "sk_test_nope", oneItem, 401, "", ""},
			{"no key", "", oneItem, 401, "", ""},
			{"malformed JSON", srv.Keys.Test, `{"currency":`, 400, "parameter_invalid", ""},
			{"JSON array body", srv.Keys.Test, `[1]`, 400, "parameter_invalid", ""},
			{"negative quantity", srv.Keys.Test, strings.Replace(oneItem, `"quantity":2`, `"quantity":-1`, 1), 400, "parameter_invalid", "line_items[0][quantity]"},
			{"quantity as text in JSON", srv.Keys.Test, strings.Replace(oneItem, `"quantity":2`, `"quantity":"2"`, 1), 400, "parameter_invalid_integer", "line_items[0][quantity]"},
			{"fractional amount", srv.Keys.Test, strings.Replace(oneItem, `1250`, `12.5`, 1), 400, "parameter_invalid_integer", "line_items[0][price_data][unit_amount]"},
			{"unknown currency", srv.Keys.Test, strings.Replace(oneItem, `"eur"`, `"zzz"`, 1), 400, "parameter_invalid", "currency"},
			{"unknown parameter", srv.Keys.Test, strings.Replace(oneItem, `"currency"`, `"colour":"red","currency"`, 1), 400, "parameter_unknown", "colour"},
			{"unknown nested JSON parameter", srv.Keys.Test, strings.Replace(oneItem, `"name":"Mug"`, `"name":"Mug","sku":"M1"`, 1), 400, "parameter_unknown", "line_items[0][price_data][product_data][sku]"},
			{"client-computed total", srv.Keys.Test, strings.Replace(oneItem, `"currency"`, `"amount_total":1,"currency"`, 1), 400, "parameter_unknown", "amount_total"},
			{"form: unknown nested parameter", srv.Keys.Test, form + "&line_items[0][price_data][product_data][sku]=M1", 400, "parameter_unknown", "line_items[0][price_data][product_data][sku]"},
			{"form: amount not an integer", srv.Keys.Test, strings.Replace(form, "unit_amount]=500", "unit_amount]=5.00", 1), 400, "parameter_invalid_integer", "line_items[0][price_data][unit_amount]"},
			{"form: boolean", srv.Keys.Test, form + "&guest=yes", 400, "parameter_invalid", "guest"},
			{"form: array with a gap", srv.Keys.Test, strings.ReplaceAll(form, "line_items[0]", "line_items[1]"), 400, "parameter_invalid", "line_items[1]"},
			{"form: repeated parameter", srv.Keys.Test, form + "&locale=fr&locale=de", 400, "parameter_invalid", "locale"},
			{"form: value and hash at once", srv.Keys.Test, form + "&metadata=x&metadata[a]=b", 400, "parameter_invalid", "metadata[a]"},
			{"form: malformed name", srv.Keys.Test, form + "&metadata[a=b", 400, "parameter_invalid", "metadata[a"},
			{"form: quantity 0", srv.Keys.Test, strings.Replace(form, "quantity]=1", "quantity]=0", 1), 400, "parameter_invalid", "line_items[0][quantity]"},
			{"form: expand unknown", srv.Keys.Test, form + "&expand[]=customer", 400, "parameter_invalid", "expand[0]"},
			{"form: bad colour", srv.Keys.Test, form + "&appearance[brand_color]=red", 400, "parameter_invalid", "appearance[brand_color]"},
			{"form: metadata over 50 keys", srv.Keys.Test, form + manyMetadata(51), 400, "parameter_invalid", "metadata"},
			{"form: expiry too soon", srv.Keys.Test, form + fmt.Sprintf("&expires_at=%d", time.Now().Unix()+30), 400, "parameter_invalid", "expires_at"},
			{"form: expiry too late", srv.Keys.Test, form + fmt.Sprintf("&expires_at=%d", time.Now().Add(31*24*time.Hour).Unix()), 400, "parameter_invalid", "expires_at"},
			{"form: bad payment method type", srv.Keys.Test, form + "&payment_method_types[]=card&payment_method_types[]=cheque", 400, "parameter_invalid", "payment_method_types[1]"},
			{"form: bad IP", srv.Keys.Test, form + "&customer_details[ip_address]=nope", 400, "parameter_invalid", "customer_details[ip_address]"},
			{"form: bad locale", srv.Keys.Test, form + "&locale=%3Cscript%3E", 400, "parameter_invalid", "locale"},
			{"form: discount over total", srv.Keys.Test, form + "&fees[0][type]=discount&fees[0][label]=Promo&fees[0][amount]=501", 400, "parameter_invalid", "fees"},
			{"form: after_completion type", srv.Keys.Test, form + "&after_completion[type]=popup", 400, "parameter_invalid", "after_completion[type]"},
		}
		for _, tc := range cases {
			r := api.with(tc.key).do("POST", "/v1/checkout/sessions", tc.body)
			e := r.err()
			if r.Status != tc.status || e == nil || e["message"] == "" || !strings.HasPrefix(fmt.Sprint(e["request_id"]), "req_") ||
				e["request_id"] != r.Header.Get("Request-Id") {
				t.Errorf("%s: got %d %s, want %d", tc.name, r.Status, r.Raw, tc.status)
				continue
			}
			if fmt.Sprint(e["code"]) != tc.code && !(tc.code == "" && e["code"] == nil) {
				t.Errorf("%s: code %v, want %q", tc.name, e["code"], tc.code)
			}
			if tc.param != "" && e["param"] != tc.param {
				t.Errorf("%s: param %v, want %q (%s)", tc.name, e["param"], tc.param, e["message"])
			}
		}
		if n := count(t, srv, "checkout_sessions"); n != 0 {
			t.Fatalf("bad input stored %d sessions", n)
		}
	})
}

func manyMetadata(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&metadata[k%d]=v", i)
	}
	return b.String()
}

func TestAPIReturnURLsAreValidated(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		strict := &store.Merchant{Name: "Strict Shop", RedirectHosts: store.StringList{"shop.example"}}
		strictKeys, err := srv.Store.CreateMerchant(context.Background(), strict)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, key, param, url string
			ok                    bool
		}{
			{"https", srv.Keys.Test, "success_url", "https://any.example/ok?cs={CHECKOUT_SESSION_ID}", true},
			{"http to localhost in test mode", srv.Keys.Test, "cancel_url", "http://localhost:3000/cart", true},
			{"http to loopback in test mode", srv.Keys.Test, "pending_url", "http://127.0.0.1:3000/wait", true},
			{"http to localhost in live mode", srv.Keys.Live, "success_url", "http://localhost:3000/ok", false},
			{"http elsewhere", srv.Keys.Test, "return_url", "http://shop.example/back", false},
			{"relative", srv.Keys.Test, "success_url", "/ok", false},
			{"javascript", srv.Keys.Test, "cancel_url", "javascript:alert(1)", false},
			{"user info", srv.Keys.Test, "success_url", "https://user:pw@shop.example/ok", false},
			{"too long", srv.Keys.Test, "success_url", "https://shop.example/" + strings.Repeat("a", 2040), false},
			{"on a redirect host", strictKeys.Test, "success_url", "https://shop.example/ok", true},
			{"off the redirect hosts", strictKeys.Test, "success_url", "https://evil.example/ok", false},
			{"subdomain of a redirect host", strictKeys.Test, "cancel_url", "https://a.shop.example/ok", false},
		}
		for _, tc := range cases {
			body := strings.Replace(oneItem, `"success_url":"https://shop.example/ok"`, fmt.Sprintf("%q:%q", tc.param, tc.url), 1)
			r := api.with(tc.key).do("POST", "/v1/checkout/sessions", body)
			switch {
			case tc.ok && (r.Status != 200 || r.JSON[tc.param] != tc.url):
				t.Errorf("%s: refused or changed: %d %s", tc.name, r.Status, r.Raw)
			case !tc.ok && (r.Status != 400 || r.err()["param"] != tc.param):
				t.Errorf("%s: got %d %s, want a 400 naming %s", tc.name, r.Status, r.Raw, tc.param)
			}
		}
	})
}

// fullSession sets every domain field a merchant may set at creation.
const fullSession = `{
	"mode": "payment", "currency": "kwd", "display_currency": "usd",
	"line_items": [
		{"quantity": 2, "tax_amount": 100, "metadata": {"sku": "TEA-1"}, "price_data": {"currency": "kwd", "unit_amount": 1500,
			"lookup_key": "tea_100g",
			"product_data": {"name": "Tea", "description": "Loose leaf", "images": ["https://shop.example/tea.png"], "unit_label": "tin"}}},
		{"quantity": 1, "price_data": {"unit_amount": 2000, "product_data": {"name": "Club"},
			"recurring": {"interval": "month", "interval_count": 3}}}
	],
	"fees": [{"type": "fee", "label": "Service", "amount": 250}, {"type": "discount", "label": "Promo", "amount": 500},
		{"type": "tax", "label": "VAT", "amount": 300}, {"type": "shipping", "label": "Courier", "amount": 1000}],
	"customer": "cus_42", "customer_email": "ada@example.com", "guest": true,
	"customer_details": {"first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 0000 0000", "ip_address": "203.0.113.9",
		"address": {"line1": "1 Main St", "city": "London", "postal_code": "N1", "country": "GB"}},
	"client_reference_id": "ORD-12345",
	"success_url": "https://shop.example/ok?cs={CHECKOUT_SESSION_ID}", "cancel_url": "https://shop.example/cart",
	"pending_url": "https://shop.example/wait", "return_url": "https://shop.example/back",
	"after_completion": {"type": "hosted", "custom_message": "Thank you!"},
	"after_expiration": {"recovery": {"enabled": true}},
	"locale": "ar", "appearance": {"brand_color": "#112233", "border_style": "pill", "theme": "dark"},
	"custom_text": {"submit": {"message": "Pay now"}, "after_submit": {"message": "Ships tomorrow"}},
	"payment_method_types": ["card", "blik"], "wallet_options": {"apple_pay": {"display": "never"}, "link": {"display": "auto"}},
	"metadata": {"cart": "77"}, "attribution": {"utm_source": "newsletter", "utm_campaign": "spring"},
	"contract": {"plan": "gold", "terms": [1, 2.5, true, null]}, "estimate": {"amount_due": 9150},
	"correlation_id": "trace-9", "expires_at": %d,
	"submit_type": "book", "billing_address_collection": "required", "customer_creation": "if_required",
	"description": "Tea for the office", "contract_id": "ct_9", "execution_id": "ex_3", "business_entity_id": "be_kw",
	"client_customer_id": "front-12",
	"expand": ["line_items", "appearance", "refunds", "child_sessions", "contract", "estimate"]
}`

func TestAPIEveryDomainFieldIsSettableAndReturned(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		expires := time.Now().Add(time.Hour).Unix()
		s := api.mustOK("POST", "/v1/checkout/sessions", fmt.Sprintf(fullSession, expires), "Idempotency-Key", "create-full-1")
		id := s["id"].(string)

		// 2×1500 + 2000 = 5000; tax 100 (line) + 300; total 5000+400+1000+250−500.
		want := map[string]any{
			"mode": "payment", "currency": "kwd", "currency_exponent": 3.0, "display_currency": "usd",
			"amount_subtotal": 5000.0, "amount_total": 6150.0, "amount_refunded": 0.0,
			"total_details": map[string]any{"amount_discount": 500.0, "amount_tax": 400.0, "amount_shipping": 1000.0},
			"customer":      "cus_42", "customer_email": "ada@example.com", "guest": true,
			"customer_details": map[string]any{"email": "ada@example.com", "name": "Ada Lovelace", "first_name": "Ada",
				"last_name": "Lovelace", "phone": "+44 20 0000 0000", "ip_address": "203.0.113.9",
				"address": map[string]any{"line1": "1 Main St", "line2": nil, "city": "London", "state": nil, "postal_code": "N1", "country": "GB"}},
			"client_reference_id": "ORD-12345", "url": srv.URL + "/pay/" + id,
			"success_url": "https://shop.example/ok?cs={CHECKOUT_SESSION_ID}", "cancel_url": "https://shop.example/cart",
			"pending_url": "https://shop.example/wait", "return_url": "https://shop.example/back",
			"after_completion": map[string]any{"type": "hosted", "custom_message": "Thank you!"},
			"after_expiration": map[string]any{"recovery": map[string]any{"enabled": true}},
			"recovered_from":   nil, "locale": "ar", "livemode": false, "ui_mode": "hosted",
			"custom_text": map[string]any{"submit": map[string]any{"message": "Pay now"}, "after_submit": map[string]any{"message": "Ships tomorrow"},
				"shipping_address": nil, "terms_of_service_acceptance": nil},
			"payment_method_types": []any{"card", "blik"},
			"wallet_options":       map[string]any{"apple_pay": map[string]any{"display": "never"}, "link": map[string]any{"display": "auto"}},
			"payment_method":       nil, "provider": nil, "payment_intent": nil, "next_action": nil,
			"failure_reason": nil, "failure_message": nil,
			"metadata":        map[string]any{"cart": "77"},
			"attribution":     map[string]any{"utm_source": "newsletter", "utm_campaign": "spring"},
			"contract":        map[string]any{"plan": "gold", "terms": []any{1.0, 2.5, true, nil}},
			"estimate":        map[string]any{"amount_due": 9150.0},
			"idempotency_key": "create-full-1", "correlation_id": "trace-9", "expires_at": float64(expires),
			"confirmed_at": nil, "paid_at": nil, "completed_at": nil, "canceled_at": nil, "expired_at": nil,
			"version": 1.0, "status": "open", "payment_status": "unpaid", "settled_by": nil,
			"submit_type": "book", "billing_address_collection": "required", "customer_creation": "if_required",
			"description": "Tea for the office", "contract_id": "ct_9", "execution_id": "ex_3", "business_entity_id": "be_kw",
			"client_customer_id": "front-12",
			"fees": []any{
				map[string]any{"type": "fee", "label": "Service", "amount": 250.0},
				map[string]any{"type": "discount", "label": "Promo", "amount": 500.0},
				map[string]any{"type": "tax", "label": "VAT", "amount": 300.0},
				map[string]any{"type": "shipping", "label": "Courier", "amount": 1000.0},
			},
			"appearance": map[string]any{"display_name": "Test Shop", "brand_color": "#112233", "border_style": "pill", "theme": "dark"},
			"refunds":    map[string]any{"object": "list", "data": []any{}, "has_more": false, "url": "/v1/checkout/sessions/" + id},
			"child_sessions": map[string]any{"object": "list", "data": []any{}, "has_more": false,
				"url": "/v1/checkout/sessions?recovered_from=" + id},
		}
		for k, v := range want {
			if !reflect.DeepEqual(s[k], v) {
				t.Errorf("%s = %#v, want %#v", k, s[k], v)
			}
		}
		items := s["line_items"].(map[string]any)["data"].([]any)
		tea, club := items[0].(map[string]any), items[1].(map[string]any)
		teaPrice, clubPrice := tea["price"].(map[string]any), club["price"].(map[string]any)
		if tea["description"] != "Tea" || tea["amount_subtotal"] != 3000.0 || tea["amount_tax"] != 100.0 ||
			!reflect.DeepEqual(tea["metadata"], map[string]any{"sku": "TEA-1"}) || teaPrice["lookup_key"] != "tea_100g" ||
			teaPrice["product"].(map[string]any)["unit_label"] != "tin" || !reflect.DeepEqual(club["metadata"], map[string]any{}) ||
			tea["amount_total"] != 3100.0 || teaPrice["type"] != "one_time" || teaPrice["unit_amount_decimal"] != "1500" ||
			teaPrice["product"].(map[string]any)["description"] != "Loose leaf" ||
			clubPrice["type"] != "recurring" || !reflect.DeepEqual(clubPrice["recurring"],
			map[string]any{"interval": "month", "interval_count": 3.0, "usage_type": "licensed"}) {
			t.Errorf("line items: %v", items)
		}

		// Without expand, the optional parts are absent; a list reads the same fields.
		plain := api.mustOK("GET", "/v1/checkout/sessions/"+id, "")
		for _, k := range []string{"line_items", "appearance", "refunds", "child_sessions", "contract", "estimate"} {
			if _, ok := plain[k]; ok {
				t.Errorf("%s present without expand", k)
			}
		}
		listed := api.mustOK("GET", "/v1/checkout/sessions?limit=1", "")["data"].([]any)[0].(map[string]any)
		if !reflect.DeepEqual(listed, plain) {
			t.Errorf("a listed session differs from the retrieved one:\n%v\n%v", listed, plain)
		}

		// The payment's life: 3-D Secure, a decline, success, refunds.
		ctx := context.Background()
		steps := []store.Transition{
			{Action: store.ActionProcess, Source: "test", Provider: "stripe", PaymentMethod: "card", PaymentIntent: "pi_1",
				NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds", AllowedOrigins: []string{"https://acs.example"}}},
			{Action: store.ActionFail, Source: "test", FailureReason: "card_declined", FailureMessage: "Your card was declined."},
		}
		for _, tr := range steps {
			if _, err := srv.Store.Transition(ctx, id, tr); err != nil {
				t.Fatalf("%s: %v", tr.Action, err)
			}
		}
		failed := api.mustOK("GET", "/v1/checkout/sessions/"+id, "")
		if failed["status"] != "open" || failed["payment_status"] != "failed" || failed["failure_reason"] != "card_declined" ||
			failed["failure_message"] != "Your card was declined." || failed["provider"] != "stripe" || failed["payment_method"] != "card" ||
			failed["payment_intent"] != "pi_1" || failed["confirmed_at"] == nil || failed["version"] != 3.0 || failed["next_action"] != nil {
			t.Errorf("after a decline: %v", failed)
		}
		if _, err := srv.Store.Transition(ctx, id, store.Transition{Action: store.ActionProcess, Source: "test",
			NextAction: &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://bank.example/pay"}}); err != nil {
			t.Fatal(err)
		}
		pending := api.mustOK("GET", "/v1/checkout/sessions/"+id, "")
		if !reflect.DeepEqual(pending["next_action"], map[string]any{"type": "redirect_to_url",
			"redirect_to_url": map[string]any{"url": "https://bank.example/pay", "return_url": nil}, "three_d_secure": nil}) || pending["status"] != "processing" {
			t.Errorf("processing: %v %v", pending["status"], pending["next_action"])
		}
		for _, tr := range []store.Transition{
			{Action: store.ActionSucceed, Source: "test"},
			{Action: store.ActionRefund, Source: "test", Refund: &store.RefundParams{Amount: 1000, Reason: "requested_by_customer"}},
			{Action: store.ActionRefund, Source: "test", Refund: &store.RefundParams{Amount: 150, Reason: "duplicate", Status: store.RefundFailed, FailureReason: "lost_or_stolen_card"}},
		} {
			if _, err := srv.Store.Transition(ctx, id, tr); err != nil {
				t.Fatalf("%s: %v", tr.Action, err)
			}
		}
		paid := api.mustOK("GET", "/v1/checkout/sessions/"+id+"?expand[]=refunds", "")
		if paid["status"] != "complete" || paid["payment_status"] != "partially_refunded" || paid["paid_at"] == nil ||
			paid["completed_at"] == nil || paid["amount_refunded"] != 1000.0 || paid["failure_reason"] != nil {
			t.Errorf("after success and refunds: %v", paid)
		}
		refunds := paid["refunds"].(map[string]any)["data"].([]any)
		if len(refunds) != 2 {
			t.Fatalf("refunds: %v", refunds)
		}
		// Both were recorded in the same second: the store's order between
		// them is its id order, so find each by its amount.
		byAmount := map[float64]map[string]any{}
		for _, r := range refunds {
			byAmount[r.(map[string]any)["amount"].(float64)] = r.(map[string]any)
		}
		for _, w := range []map[string]any{
			{"amount": 1000.0, "status": "succeeded", "reason": "requested_by_customer", "failure_reason": nil, "currency": "kwd"},
			{"amount": 150.0, "status": "failed", "reason": "duplicate", "failure_reason": "lost_or_stolen_card"},
		} {
			r := byAmount[w["amount"].(float64)]
			for k, v := range w {
				if r[k] != v {
					t.Errorf("refund of %v: %s = %v, want %v", w["amount"], k, r[k], v)
				}
			}
			if r["object"] != "refund" || r["checkout_session"] != id || !strings.HasPrefix(fmt.Sprint(r["id"]), "re_") {
				t.Errorf("refund of %v: %v", w["amount"], r)
			}
		}
	})
}

func TestAPIFormAndJSONCreateTheSameSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		expires := time.Now().Add(time.Hour).Unix()
		jsonBody := fmt.Sprintf(fullSession, expires)
		var tree map[string]any
		dec := json.NewDecoder(strings.NewReader(jsonBody))
		dec.UseNumber() // numbers keep their literal form in the form encoding
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		delete(tree, "contract") // form values are strings: compared separately below
		delete(tree, "estimate")
		tree["expand"] = []any{"line_items", "appearance"}
		jsonOnly, _ := json.Marshal(tree)
		// Stripe's encoding: indexed arrays, except a[]= for the flat lists.
		form := url.Values{}
		flatten(form, "", tree)
		formBody := strings.NewReplacer("payment_method_types%5B0%5D", "payment_method_types%5B%5D",
			"payment_method_types%5B1%5D", "payment_method_types%5B%5D", "expand%5B0%5D", "expand%5B%5D",
			"expand%5B1%5D", "expand%5B%5D").Replace(form.Encode())
		if !strings.Contains(formBody, "line_items%5B1%5D%5Bprice_data%5D%5Brecurring%5D%5Binterval%5D=month") ||
			!strings.Contains(formBody, "payment_method_types%5B%5D=card") {
			t.Fatalf("form encoding is not what the test means: %s", formBody)
		}

		fromJSON := api.mustOK("POST", "/v1/checkout/sessions", string(jsonOnly))
		fromForm := api.mustOK("POST", "/v1/checkout/sessions", formBody)
		for _, o := range []map[string]any{fromJSON, fromForm} {
			for _, k := range []string{"id", "url", "created", "updated", "last_activity_at"} {
				delete(o, k)
			}
			for _, li := range o["line_items"].(map[string]any)["data"].([]any) {
				delete(li.(map[string]any), "id")
				price := li.(map[string]any)["price"].(map[string]any)
				delete(price, "created")
				delete(price, "id") // every new price and product gets ids of its own
				delete(price["product"].(map[string]any), "id")
			}
			delete(o["line_items"].(map[string]any), "url")
		}
		if !reflect.DeepEqual(fromJSON, fromForm) {
			a, _ := json.MarshalIndent(fromJSON, "", " ")
			b, _ := json.MarshalIndent(fromForm, "", " ")
			t.Fatalf("JSON and form created different sessions:\nJSON: %s\nform: %s", a, b)
		}

		// Opaque contract data through a form: a hash of strings.
		withContract := api.mustOK("POST", "/v1/checkout/sessions",
			"line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1"+
				"&line_items[0][price_data][product_data][name]=X&contract[plan]=gold&contract[seats]=3&expand[]=contract&locale=")
		if !reflect.DeepEqual(withContract["contract"], map[string]any{"plan": "gold", "seats": "3"}) || withContract["locale"] != "auto" {
			t.Fatalf("form contract %v, locale %v", withContract["contract"], withContract["locale"])
		}
	})
}

// flatten writes a JSON tree as Stripe's form encoding (a[b][0][c]=v).
func flatten(form url.Values, prefix string, v any) {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "[" + k + "]"
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(form, key(k), e)
		}
	case []any:
		for i, e := range x {
			flatten(form, key(fmt.Sprint(i)), e)
		}
	default:
		form.Set(prefix, fmt.Sprint(x))
	}
}

func TestAPIListPaginatesAndFilters(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		var clock atomic.Int64
		clock.Store(time.Now().Unix())
		srv.Store.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
		api := newAPIClient(t, srv, srv.Keys.Test)
		var ids []string // oldest first
		var created []int64
		for i := range 7 {
			clock.Add(10)
			body := strings.Replace(oneItem, `"currency"`, fmt.Sprintf(`"client_reference_id":"ref-%d","customer":"cus_%d","currency"`, i%3, i%2), 1)
			s := api.mustOK("POST", "/v1/checkout/sessions", body)
			ids = append(ids, s["id"].(string))
			created = append(created, int64(s["created"].(float64)))
		}
		api.mustOK("POST", "/v1/checkout/sessions/"+ids[1]+"/expire", "")
		other := api.with(srv.Keys.Live)
		other.mustOK("POST", "/v1/checkout/sessions", oneItem) // live mode: never in test lists

		list := func(query string) ([]string, bool) {
			t.Helper()
			r := api.mustOK("GET", "/v1/checkout/sessions"+query, "")
			if r["object"] != "list" || r["url"] != "/v1/checkout/sessions" {
				t.Fatalf("list envelope: %v", r)
			}
			var out []string
			for _, d := range r["data"].([]any) {
				out = append(out, d.(map[string]any)["id"].(string))
			}
			return out, r["has_more"].(bool)
		}
		rev := func(idx ...int) []string {
			var out []string
			for _, i := range idx {
				out = append(out, ids[i])
			}
			return out
		}
		cases := []struct {
			query string
			want  []string
			more  bool
		}{
			{"", rev(6, 5, 4, 3, 2, 1, 0), false},
			{"?limit=3", rev(6, 5, 4), true},
			{"?limit=3&starting_after=" + ids[4], rev(3, 2, 1), true},
			{"?limit=3&starting_after=" + ids[1], rev(0), false},
			{"?limit=2&ending_before=" + ids[2], rev(4, 3), true},
			{"?limit=3&ending_before=" + ids[5], rev(6), false},
			{"?status=expired", rev(1), false},
			{"?status=open&limit=2", rev(6, 5), true},
			{"?client_reference_id=ref-1", rev(4, 1), false},
			{"?customer=cus_1&status=open", rev(5, 3), false},
			{fmt.Sprintf("?created[gte]=%d&created[lte]=%d", created[2], created[4]), rev(4, 3, 2), false},
			{fmt.Sprintf("?created[gt]=%d&created[lt]=%d", created[2], created[4]), rev(3), false},
			{fmt.Sprintf("?created=%d", created[5]), rev(5), false},
			{fmt.Sprintf("?created[lt]=%d", created[0]), nil, false},
			{"?created[lte]=0", nil, false},
		}
		for _, tc := range cases {
			got, more := list(tc.query)
			if !reflect.DeepEqual(got, tc.want) || more != tc.more {
				t.Errorf("list%s = %v more=%v, want %v more=%v", tc.query, got, more, tc.want, tc.more)
			}
		}
		expanded := api.mustOK("GET", "/v1/checkout/sessions?limit=1&expand[]=data.line_items", "")
		first := expanded["data"].([]any)[0].(map[string]any)
		if first["line_items"].(map[string]any)["data"].([]any)[0].(map[string]any)["quantity"] != 2.0 {
			t.Errorf("expand[]=data.line_items: %v", first["line_items"])
		}
		for _, bad := range []struct{ query, code, param string }{
			{"?limit=0", "parameter_invalid", "limit"},
			{"?limit=101", "parameter_invalid", "limit"},
			{"?limit=ten", "parameter_invalid_integer", "limit"},
			{"?status=lost", "parameter_invalid", "status"},
			{"?colour=red", "parameter_unknown", "colour"},
			{"?created[after]=1", "parameter_unknown", "created[after]"},
			{"?starting_after=cs_test_nope", "parameter_invalid", "starting_after"},
			{"?starting_after=" + ids[0] + "&ending_before=" + ids[1], "parameter_invalid", "ending_before"},
			{"?expand[]=line_items", "parameter_invalid", "expand[0]"},
		} {
			r := api.do("GET", "/v1/checkout/sessions"+bad.query, "")
			if e := r.err(); r.Status != 400 || e["code"] != bad.code || e["param"] != bad.param {
				t.Errorf("list%s: %d %s, want 400 %s naming %s", bad.query, r.Status, r.Raw, bad.code, bad.param)
			}
		}
		// Another merchant's session is not a cursor here.
		if r := other.do("GET", "/v1/checkout/sessions?starting_after="+ids[3], ""); r.Status != 400 {
			t.Errorf("a test session as a live cursor: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAPILineItemsArePaginated(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		var items []string
		for i := range 5 {
			items = append(items, fmt.Sprintf(`{"quantity":%d,"price_data":{"unit_amount":100,"product_data":{"name":"Item %d"}}}`, i+1, i))
		}
		s := api.mustOK("POST", "/v1/checkout/sessions", `{"currency":"usd","line_items":[`+strings.Join(items, ",")+`]}`)
		id := s["id"].(string)
		names := func(r map[string]any) (out []string) {
			for _, d := range r["data"].([]any) {
				out = append(out, d.(map[string]any)["description"].(string))
			}
			return out
		}
		all := api.mustOK("GET", "/v1/checkout/sessions/"+id+"/line_items", "")
		if got := names(all); len(got) != 5 || got[0] != "Item 0" || all["has_more"] != false || all["url"] != "/v1/checkout/sessions/"+id+"/line_items" {
			t.Fatalf("all line items: %v", all)
		}
		ids := []string{}
		for _, d := range all["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		page := api.mustOK("GET", "/v1/checkout/sessions/"+id+"/line_items?limit=2&starting_after="+ids[1], "")
		if got := names(page); !reflect.DeepEqual(got, []string{"Item 2", "Item 3"}) || page["has_more"] != true {
			t.Fatalf("page after the second: %v %v", got, page["has_more"])
		}
		back := api.mustOK("GET", "/v1/checkout/sessions/"+id+"/line_items?limit=2&ending_before="+ids[4]+"&expand[]=data.price.product", "")
		if got := names(back); !reflect.DeepEqual(got, []string{"Item 2", "Item 3"}) || back["has_more"] != true {
			t.Fatalf("page before the last: %v %v", got, back["has_more"])
		}
		if r := api.do("GET", "/v1/checkout/sessions/"+id+"/line_items?limit=500", ""); r.Status != 400 || r.err()["param"] != "limit" {
			t.Fatalf("limit 500: %d %s", r.Status, r.Raw)
		}
		if r := api.do("GET", "/v1/checkout/sessions/cs_test_none/line_items", ""); r.Status != 404 {
			t.Fatalf("unknown session: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAPIExpireOnlyWhileOpen(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		var clock atomic.Int64
		clock.Store(time.Now().Unix())
		srv.Store.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
		api := newAPIClient(t, srv, srv.Keys.Test)
		create := func() string { return api.mustOK("POST", "/v1/checkout/sessions", oneItem)["id"].(string) }

		open := create()
		s := api.mustOK("POST", "/v1/checkout/sessions/"+open+"/expire", "expand[]=line_items")
		if s["status"] != "expired" || s["expired_at"] != float64(clock.Load()) || s["version"] != 2.0 || s["line_items"] == nil {
			t.Fatalf("expired: %v", s)
		}
		paid := create()
		if _, err := srv.Store.Transition(context.Background(), paid, store.Transition{Action: store.ActionSucceed, Source: "test"}); err != nil {
			t.Fatal(err)
		}
		canceled := create()
		if _, err := srv.Store.Transition(context.Background(), canceled, store.Transition{Action: store.ActionCancel, Source: "test"}); err != nil {
			t.Fatal(err)
		}
		late := create()
		clock.Add(int64((25 * time.Hour).Seconds())) // late is past its expiry, unswept
		for _, tc := range []struct{ id, status string }{{open, "expired"}, {paid, "complete"}, {canceled, "canceled"}, {late, "expired"}} {
			r := api.do("POST", "/v1/checkout/sessions/"+tc.id+"/expire", "")
			e := r.err()
			if r.Status != 400 || e["code"] != "checkout_session_unexpected_state" || !strings.Contains(e["message"].(string), `status "`+tc.status+`"`) {
				t.Errorf("expire a %s session: %d %s", tc.status, r.Status, r.Raw)
			}
		}
	})
}

func TestAPIOtherMerchantsSessionIsAnUnknownID(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		owner := newAPIClient(t, srv, srv.Keys.Test)
		otherKeys, err := srv.Store.CreateMerchant(context.Background(), &store.Merchant{Name: "Other Shop"})
		if err != nil {
			t.Fatal(err)
		}
		stranger := owner.with(otherKeys.Test)
		id := owner.mustOK("POST", "/v1/checkout/sessions", oneItem)["id"].(string)

		requests := []struct{ method, path, body string }{
			{"GET", "/v1/checkout/sessions/" + id, ""},
			{"GET", "/v1/checkout/sessions/" + id + "?expand[]=line_items", ""},
			{"GET", "/v1/checkout/sessions/" + id + "/line_items", ""},
			{"POST", "/v1/checkout/sessions/" + id + "/expire", ""},
		}
		var foreign []apiResponse
		for _, rq := range requests {
			foreign = append(foreign, stranger.do(rq.method, rq.path, rq.body))
		}
		// Now make the id unknown, and ask again.
		if _, err := srv.Store.DB().Exec(srv.Store.DB().Rebind(`DELETE FROM checkout_sessions WHERE id = ?`), id); err != nil {
			t.Fatal(err)
		}
		for i, rq := range requests {
			unknown := stranger.do(rq.method, rq.path, rq.body)
			a, b := foreign[i], unknown
			if a.Status != 404 || b.Status != 404 {
				t.Fatalf("%s %s: %d and %d, want 404s", rq.method, rq.path, a.Status, b.Status)
			}
			strip := func(r apiResponse) string {
				return strings.Replace(string(r.Raw), r.Header.Get("Request-Id"), "REQ", 1)
			}
			if strip(a) != strip(b) {
				t.Errorf("%s %s: another merchant's session answers\n%s\nbut an unknown id\n%s", rq.method, rq.path, a.Raw, b.Raw)
			}
			for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control"} {
				if a.Header.Get(h) != b.Header.Get(h) {
					t.Errorf("%s %s: header %s differs: %q vs %q", rq.method, rq.path, h, a.Header.Get(h), b.Header.Get(h))
				}
			}
		}
		// An id of any other shape is missing too, as at Stripe.
		for _, id := range []string{"not-an-id", "sess_12345", "cs_test_" + strings.Repeat("x", 65)} {
			if r := owner.do("GET", "/v1/checkout/sessions/"+id, ""); r.Status != 404 || r.err()["code"] != "resource_missing" || r.err()["param"] != "id" {
				t.Errorf("malformed id %s: %d %s", id, r.Status, r.Raw)
			}
		}
	})
}

func TestAPIErrorsNeverLeakInternals(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		id := api.mustOK("POST", "/v1/checkout/sessions", oneItem)["id"].(string)
		if _, err := srv.Store.DB().Exec(`DROP TABLE refunds`); err != nil {
			t.Fatal(err)
		}
		r := api.do("GET", "/v1/checkout/sessions/"+id, "")
		e := r.err()
		if r.Status != 500 || e["type"] != "api_error" || e["message"] != "An internal error occurred." {
			t.Fatalf("broken database: %d %s", r.Status, r.Raw)
		}
		for _, leak := range []string{"refunds", "SQL", "sql", "pq:", "sqlite", "table", "SELECT"} {
			if strings.Contains(string(r.Raw), leak) {
				t.Errorf("the error body leaks %q: %s", leak, r.Raw)
			}
		}
	})
}

func TestAPIRecoveredSessionsAreChildSessions(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		parent := api.mustOK("POST", "/v1/checkout/sessions", oneItem)["id"].(string)
		api.mustOK("POST", "/v1/checkout/sessions/"+parent+"/expire", "")
		child, err := srv.Store.Recover(context.Background(), parent)
		if err != nil {
			t.Fatal(err)
		}
		got := api.mustOK("GET", "/v1/checkout/sessions/"+parent+"?expand[]=child_sessions", "")
		children := got["child_sessions"].(map[string]any)
		data := children["data"].([]any)
		if len(data) != 1 || children["has_more"] != false || children["url"] != "/v1/checkout/sessions?recovered_from="+parent {
			t.Fatalf("child_sessions: %v", children)
		}
		c := data[0].(map[string]any)
		if c["id"] != child.ID || c["recovered_from"] != parent || c["status"] != "open" || c["amount_total"] != 2500.0 {
			t.Fatalf("child: %v", c)
		}
		// The list's url gives the same children.
		listed := api.mustOK("GET", children["url"].(string), "")["data"].([]any)
		if len(listed) != 1 || listed[0].(map[string]any)["id"] != child.ID {
			t.Fatalf("recovered_from filter: %v", listed)
		}
		if self := api.mustOK("GET", "/v1/checkout/sessions/"+child.ID, ""); self["recovered_from"] != parent {
			t.Fatalf("child's recovered_from: %v", self["recovered_from"])
		}
	})
}
