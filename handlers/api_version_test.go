package handlers_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/stripeschema"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// stripeVersion is what a Stripe client sends (stripe-go v85's version).
const stripeVersion = "2026-03-25.dahlia"

// TestAPIVersionsPickTheDialect: the merchant's pinned version answers a
// request without a version header; Paypage-Version, then Stripe-Version,
// override it; the answer names the version that answered; an unknown one is
// a 400 naming its header, and nothing is created.
func TestAPIVersionsPickTheDialect(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		id := handlertest.CreateSession(t, srv, false, store.SessionParams{}).ID
		path := "/v1/checkout/sessions/" + id
		for _, tc := range []struct {
			name    string
			headers []string
			version string
			uiMode  string
		}{
			{"pinned (native by default)", nil, store.APIVersionNative, "hosted"},
			{"Stripe-Version", []string{"Stripe-Version", stripeVersion}, stripeVersion, "hosted_page"},
			{"Paypage-Version names Stripe's", []string{"Paypage-Version", store.APIVersionStripe}, store.APIVersionStripe, "hosted_page"},
			{"Paypage-Version wins", []string{"Paypage-Version", store.APIVersionNative, "Stripe-Version", stripeVersion}, store.APIVersionNative, "hosted"},
			{"BLIK", []string{"Paypage-Version", store.APIVersionBLIK}, store.APIVersionBLIK, ""},
		} {
			r := api.do("GET", path, "", tc.headers...)
			if r.Status != 200 || r.Header.Get("Paypage-Version") != tc.version || r.JSON["ui_mode"] != anyOrNil(tc.uiMode) {
				t.Errorf("%s: %d, Paypage-Version %q, ui_mode %v; want %s answering with ui_mode %q",
					tc.name, r.Status, r.Header.Get("Paypage-Version"), r.JSON["ui_mode"], tc.version, tc.uiMode)
			}
			if stripe := r.Header.Get("Stripe-Version"); (tc.uiMode == "hosted_page") != (stripe == tc.version) {
				t.Errorf("%s: Stripe-Version answered %q", tc.name, stripe)
			}
		}
		before := count(t, srv, "checkout_sessions")
		for _, tc := range []struct{ header, value string }{
			{"Paypage-Version", "paypage-1999-01-01"}, {"Paypage-Version", "latest"}, {"Stripe-Version", "dahlia"},
		} {
			r := api.do("POST", "/v1/checkout/sessions", mugForm, tc.header, tc.value)
			if r.Status != 400 || r.err()["param"] != tc.header || !strings.Contains(r.err()["message"].(string), tc.value) {
				t.Errorf("%s: %s: %d %s, want a 400 naming the header", tc.header, tc.value, r.Status, r.Raw)
			}
		}
		if n := count(t, srv, "checkout_sessions"); n != before {
			t.Errorf("refused versions created %d sessions", n-before)
		}

		// A merchant pinned to Stripe's version is answered as Stripe
		// answers, without any header.
		if _, err := srv.Store.UpdateMerchant(t.Context(), srv.Merchant.ID, func(m *store.Merchant) error {
			m.APIVersion = store.APIVersionStripe
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if r := api.do("GET", path, ""); r.JSON["ui_mode"] != "hosted_page" || r.Header.Get("Paypage-Version") != store.APIVersionStripe {
			t.Errorf("pinned to Stripe: ui_mode %v, version %q", r.JSON["ui_mode"], r.Header.Get("Paypage-Version"))
		}
	})
}

func anyOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const mugForm = "line_items[0][quantity]=1&line_items[0][price_data][currency]=eur" +
	"&line_items[0][price_data][unit_amount]=1250&line_items[0][price_data][product_data][name]=Mug"

// stateCase is a session in one of paypage's states and what Stripe's
// dialect must call it.
type stateCase struct {
	name, id                      string
	stripeStatus, stripePayment   string
	paypageStatus, paypagePayment string
	open                          bool // the url is set
}

// everyState makes a session in each of paypage's states.
func everyState(t *testing.T, srv *handlertest.Server) []stateCase {
	t.Helper()
	free := int64(0)
	cases := []struct {
		name, stripeStatus, stripePayment string
		params                            store.SessionParams
		steps                             []store.Transition
	}{
		{"open", "open", "unpaid", store.SessionParams{}, nil},
		{"declined, may retry", "open", "unpaid", store.SessionParams{}, []store.Transition{{Action: store.ActionFail}}},
		{"processing, settling", "complete", "unpaid", store.SessionParams{}, []store.Transition{{Action: store.ActionProcess}}},
		{"processing, 3-D Secure", "open", "unpaid", store.SessionParams{}, []store.Transition{{Action: store.ActionProcess,
			NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds"}}}},
		{"paid", "complete", "paid", store.SessionParams{}, []store.Transition{{Action: store.ActionSucceed}}},
		{"partially refunded", "complete", "paid", store.SessionParams{}, []store.Transition{{Action: store.ActionSucceed},
			{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 100}}}},
		{"refunded", "complete", "paid", store.SessionParams{}, []store.Transition{{Action: store.ActionSucceed},
			{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 2500}}}},
		{"free, open", "open", "no_payment_required", store.SessionParams{LineItems: []store.LineItemParams{{Quantity: 1,
			PriceData: &store.PriceData{UnitAmount: &free, ProductData: &store.ProductData{Name: "Sample"}}}}}, nil},
		{"free, complete", "complete", "no_payment_required", store.SessionParams{LineItems: []store.LineItemParams{{Quantity: 1,
			PriceData: &store.PriceData{UnitAmount: &free, ProductData: &store.ProductData{Name: "Sample"}}}}},
			[]store.Transition{{Action: store.ActionSucceed}}},
		{"expired", "expired", "unpaid", store.SessionParams{}, []store.Transition{{Action: store.ActionExpire}}},
		{"canceled", "expired", "unpaid", store.SessionParams{}, []store.Transition{{Action: store.ActionCancel}}},
	}
	var out []stateCase
	for _, c := range cases {
		sess := handlertest.CreateSession(t, srv, false, c.params)
		for _, tr := range c.steps {
			tr.Source = "api"
			sess = handlertest.TransitionTo(t, srv, sess.ID, tr)
		}
		out = append(out, stateCase{name: c.name, id: sess.ID, stripeStatus: c.stripeStatus, stripePayment: c.stripePayment,
			paypageStatus: sess.Status, paypagePayment: sess.PaymentStatus, open: c.stripeStatus == "open"})
	}
	return out
}

// TestAPIStripeDialectInEveryState: in every state paypage has, Stripe's
// dialect answers an object valid against Stripe's schema, with Stripe's
// status words as Stripe reports the same situation, the url only while
// open, and paypage's true state in its own member.
func TestAPIStripeDialectInEveryState(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		for _, sc := range everyState(t, srv) {
			for _, q := range []string{"", "?expand[]=line_items", "?expand[]=line_items.data.price.product"} {
				r := api.do("GET", "/v1/checkout/sessions/"+sc.id+q, "", "Stripe-Version", stripeVersion)
				if r.Status != 200 {
					t.Fatalf("%s: %d %s", sc.name, r.Status, r.Raw)
				}
				if err := stripeschema.Validate("checkout.session", r.Raw); err != nil {
					t.Errorf("%s%s: %v", sc.name, q, err)
				}
				pp, _ := r.JSON["paypage"].(map[string]any)
				if r.JSON["status"] != sc.stripeStatus || r.JSON["payment_status"] != sc.stripePayment ||
					pp["status"] != sc.paypageStatus || pp["payment_status"] != sc.paypagePayment {
					t.Errorf("%s: status %v/%v (paypage %v/%v), want %s/%s (paypage %s/%s)", sc.name, r.JSON["status"],
						r.JSON["payment_status"], pp["status"], pp["payment_status"], sc.stripeStatus, sc.stripePayment,
						sc.paypageStatus, sc.paypagePayment)
				}
				if url, _ := r.JSON["url"].(string); (url != "") != sc.open || (sc.open && !strings.HasSuffix(url, "/pay/"+sc.id)) {
					t.Errorf("%s: url %v, want it only while open", sc.name, r.JSON["url"])
				}
			}
			items := api.do("GET", "/v1/checkout/sessions/"+sc.id+"/line_items?expand[]=data.price.product", "", "Stripe-Version", stripeVersion)
			if err := stripeschema.ValidateList("item", items.Raw); err != nil {
				t.Errorf("%s line items: %v", sc.name, err)
			}
		}
	})
}

// TestAPIStripeStatusFilterMatchesTheObjects: listing by a Stripe status
// finds exactly the sessions whose objects carry it (the store's SQL
// mirrors the dialect's mapping).
func TestAPIStripeStatusFilterMatchesTheObjects(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		cases := everyState(t, srv)
		for _, status := range []string{"open", "complete", "expired"} {
			var want, got []string
			for _, sc := range cases {
				if sc.stripeStatus == status {
					want = append(want, sc.id)
				}
			}
			list := api.mustOK("GET", "/v1/checkout/sessions?limit=100&status="+status, "", "Stripe-Version", stripeVersion)
			for _, o := range list["data"].([]any) {
				got = append(got, o.(map[string]any)["id"].(string))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("status=%s lists %v, want %v", status, got, want)
			}
		}
		if r := api.do("GET", "/v1/checkout/sessions?status=processing", "", "Stripe-Version", stripeVersion); r.Status != 400 || r.err()["param"] != "status" {
			t.Errorf("Stripe has no processing status: %d %s", r.Status, r.Raw)
		}
	})
}

// TestAPIStoredPrices: a price_data line item gets price and product ids
// that stay put, and a later session may name the price instead of its data.
func TestAPIStoredPrices(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		first := api.mustOK("POST", "/v1/checkout/sessions", mugForm+"&line_items[0][price_data][recurring][interval]=week&mode=subscription&expand[]=line_items")
		price := first["line_items"].(map[string]any)["data"].([]any)[0].(map[string]any)["price"].(map[string]any)
		priceID, productID := price["id"].(string), price["product"].(map[string]any)["id"].(string)
		if !strings.HasPrefix(priceID, "price_") || !strings.HasPrefix(productID, "prod_") {
			t.Fatalf("ids %q %q", priceID, productID)
		}
		again := api.mustOK("GET", "/v1/checkout/sessions/"+first["id"].(string)+"/line_items", "")
		p2 := again["data"].([]any)[0].(map[string]any)["price"].(map[string]any)
		if p2["id"] != priceID || p2["product"].(map[string]any)["id"] != productID {
			t.Errorf("ids changed between reads: %v", p2)
		}

		second := api.mustOK("POST", "/v1/checkout/sessions", "mode=subscription&line_items[0][quantity]=3&line_items[0][price]="+priceID+"&expand[]=line_items")
		item := second["line_items"].(map[string]any)["data"].([]any)[0].(map[string]any)
		p3 := item["price"].(map[string]any)
		if second["currency"] != "eur" || second["amount_total"] != float64(3750) || p3["id"] != priceID ||
			p3["product"].(map[string]any)["id"] != productID || p3["recurring"].(map[string]any)["interval"] != "week" || item["description"] != "Mug" {
			b, _ := json.Marshal(second)
			t.Errorf("a session naming %s: %s", priceID, b)
		}

		before := count(t, srv, "checkout_sessions")
		_, otherKeys := handlertest.Merchant(t, srv.Store)
		for _, key := range []string{otherKeys.Test, srv.Keys.Live} { // another merchant's, another mode's
			if r := api.with(key).do("POST", "/v1/checkout/sessions", "line_items[0][quantity]=1&line_items[0][price]="+priceID); r.Status != 400 ||
				r.err()["code"] != "resource_missing" || r.err()["param"] != "line_items[0][price]" {
				t.Errorf("a price not of this merchant and mode: %d %s", r.Status, r.Raw)
			}
		}
		for _, body := range []string{
			"line_items[0][quantity]=1&line_items[0][price]=price_12345",
			"line_items[0][quantity]=1&line_items[0][price]=nope",
		} {
			if r := api.do("POST", "/v1/checkout/sessions", body); r.Status != 400 || r.err()["code"] != "resource_missing" || r.err()["param"] != "line_items[0][price]" {
				t.Errorf("%s: %d %s, want 400 resource_missing naming the price", body, r.Status, r.Raw)
			}
		}
		if n := count(t, srv, "checkout_sessions"); n != before {
			t.Errorf("refused prices created %d sessions", n-before)
		}
	})
}

// TestAPICreateNamesTheRightParameter: what Stripe's clients were told the
// wrong thing about.
func TestAPICreateNamesTheRightParameter(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		before := count(t, srv, "checkout_sessions")
		for _, tc := range []struct {
			body, param string
			headers     []string
		}{
			{"mode=payment", "line_items", nil},
			{"mode=payment&currency=eur", "line_items", nil},
			{mugForm + "&locale=xx", "locale", nil},
			{mugForm + "&locale=klingon", "locale", nil},
			{mugForm + "&locale=ar", "locale", []string{"Stripe-Version", stripeVersion}}, // not one of Stripe's
			{mugForm + "&ui_mode=embedded_page", "ui_mode", nil},
			{mugForm + "&ui_mode=popup", "ui_mode", nil},
		} {
			r := api.do("POST", "/v1/checkout/sessions", tc.body, tc.headers...)
			if r.Status != 400 || r.err()["param"] != tc.param {
				t.Errorf("%s: %d %s, want a 400 naming %s", tc.body, r.Status, r.Raw, tc.param)
			}
		}
		if n := count(t, srv, "checkout_sessions"); n != before {
			t.Errorf("refused creates stored %d sessions", n-before)
		}
		for _, tc := range []struct {
			body    string
			headers []string
			want    string
		}{
			{mugForm + "&ui_mode=hosted_page", nil, "hosted"},
			{mugForm + "&ui_mode=hosted", []string{"Stripe-Version", stripeVersion}, "hosted_page"},
			{mugForm + "&locale=ar", nil, "hosted"}, // paypage's own dialect shows Arabic
			{mugForm + "&locale=pt-BR", []string{"Stripe-Version", stripeVersion}, "hosted_page"},
		} {
			if r := api.do("POST", "/v1/checkout/sessions", tc.body, tc.headers...); r.Status != 200 || r.JSON["ui_mode"] != tc.want {
				t.Errorf("%s: %d %s", tc.body, r.Status, r.Raw)
			}
		}
	})
}
