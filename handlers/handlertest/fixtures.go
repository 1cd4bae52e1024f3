package handlertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
)

// PageCase is one page the tests look at: a session in some state, at a
// path, with the state its <main> must report.
type PageCase struct {
	Name           string
	Path           string
	Status         string // data-status the page must carry ("error" for error pages)
	Payment        string // data-payment-status, when status is not "error"
	HTTPStatus     int
	SettledReturns bool // a return page that counts down to the merchant
}

// SeedPages creates the demo merchant with a session in every state (the
// same as `paypage demo`), plus the states and appearances the demo does
// not show, and lists every page to look at.
func SeedPages(t testing.TB, srv *Server) []PageCase {
	t.Helper()
	ctx := context.Background()
	st := srv.Store
	demo, err := st.SeedDemo(ctx)
	if err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	var cases []PageCase
	add := func(name, id, suffix string) {
		sess, err := st.Session(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cases = append(cases, PageCase{Name: name, Path: "/pay/" + id + suffix, Status: sess.Status,
			Payment: sess.PaymentStatus, HTTPStatus: 200})
	}
	names := map[string]string{
		"open, unpaid (EUR)": "open-eur", "open, unpaid (JPY, no minor units)": "open-jpy",
		"open, unpaid (KWD, three decimals)": "open-kwd", "payment failed, retry possible": "failed",
		"processing (needs confirmation)": "processing", "complete, paid": "paid",
		"complete, partially refunded": "partially-refunded", "complete, refunded": "refunded",
		"no payment required": "no-payment-required", "canceled": "canceled", "expired (recoverable)": "expired",
	}
	byName := map[string]string{}
	for _, s := range demo.Sessions {
		name, ok := names[s.Label]
		if !ok {
			t.Fatalf("demo session %q has no page case; add it to SeedPages", s.Label)
		}
		byName[name] = s.ID
		add(name, s.ID, "")
	}
	m := demo.Merchant
	unit := int64(2400)
	create := func(live bool, p store.SessionParams) *store.Session {
		t.Helper()
		if p.Currency == "" {
			p.Currency = "eur"
		}
		if p.LineItems == nil {
			p.LineItems = []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
				ProductData: &store.ProductData{Name: "Colombia Huila, 1 kg", Description: "Natural process"}}}}
		}
		if p.CancelURL == "" {
			p.CancelURL = "https://demo.example/cart"
		}
		sess, err := st.CreateSession(ctx, m, live, &p)
		if err != nil {
			t.Fatalf("create session: %v", err)
		}
		return sess
	}
	transition := func(id string, tr store.Transition) {
		t.Helper()
		if _, err := st.Transition(ctx, id, tr); err != nil {
			t.Fatalf("transition %s: %v", tr.Action, err)
		}
	}

	live := create(true, store.SessionParams{})
	add("live-waiting-for-provider", live.ID, "")
	threeDS := create(true, store.SessionParams{})
	transition(threeDS.ID, store.Transition{Action: store.ActionProcess, Source: "api", Provider: "Acme Pay",
		NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.acmepay.example/3ds/abc"}})
	add("live-requires-action", threeDS.ID, "")

	soon := create(false, store.SessionParams{ExpiresAt: st.Now().Add(4 * time.Minute).Unix()})
	add("expiring-countdown", soon.ID, "")

	hosted := create(false, store.SessionParams{SuccessURL: "https://demo.example/thanks",
		AfterCompletion: &store.AfterCompletion{Type: "hosted", CustomMessage: "Thanks! We roast on Mondays and ship on Tuesdays."}})
	transition(hosted.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "card"})
	add("hosted-receipt", hosted.ID, "")

	reversed := create(false, store.SessionParams{SuccessURL: "https://demo.example/thanks"})
	transition(reversed.ID, store.Transition{Action: store.ActionSucceed, Source: "test_panel", PaymentMethod: "blik"})
	transition(reversed.ID, store.Transition{Action: store.ActionReverse, Source: "payment_event", FailureReason: "chargeback"})
	add("reversed", reversed.ID, "")
	add("return-success-reversed", reversed.ID, "/success")

	branded := create(false, store.SessionParams{
		Mode: "subscription", ClientReferenceID: "SUB-77", CustomerEmail: "grace@example.com",
		LineItems: []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Espresso club"},
			Recurring:   &store.Recurring{Interval: "week", IntervalCount: 2}}}},
		Appearance: &store.Appearance{DisplayName: "Night Owl Coffee", BrandColor: "#ffcc00", ButtonColor: "#ffcc00",
			BackgroundColor: "#101318", BorderStyle: "pill", FontFamily: "serif", Theme: "dark"},
		CustomText: &store.CustomText{Submit: "You can pause the club at any time.",
			AfterSubmit: "Your first bag ships within two days.", TermsOfService: "By paying you accept our terms."},
	})
	add("branded-dark-pill", branded.ID, "")

	square := create(false, store.SessionParams{Locale: "ar",
		Appearance: &store.Appearance{BrandColor: "#0b5563", ButtonColor: "#0b5563", BorderStyle: "rectangular", FontFamily: "sans-serif", Theme: "light"}})
	add("rtl-arabic", square.ID, "")

	child, err := st.Recover(ctx, byName["expired"])
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	add("recovered-child", child.ID, "")

	add("return-success-paid", byName["paid"], "/success")
	cases[len(cases)-1].SettledReturns = true
	add("return-success-unpaid", byName["open-eur"], "/success")
	add("return-cancel-open", byName["open-eur"], "/cancel")
	add("return-cancel-paid", byName["paid"], "/cancel")
	add("return-pending-processing", byName["processing"], "/pending")
	add("return-pending-failed", byName["failed"], "/pending")
	add("return-pending-hosted", hosted.ID, "/pending")

	cases = append(cases, PageCase{Name: "not-found", Path: "/pay/cs_test_doesnotexist", Status: "error", HTTPStatus: 404})
	return cases
}

// CreateSession creates a session of the test merchant: p as given, with
// one line item and a cancel URL when p has none.
func CreateSession(t testing.TB, srv *Server, live bool, p store.SessionParams) *store.Session {
	t.Helper()
	if p.Currency == "" {
		p.Currency = "eur"
	}
	if p.LineItems == nil {
		unit := int64(1250)
		p.LineItems = []store.LineItemParams{{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Mug", Description: "Stoneware, 300 ml"}}}}
	}
	if p.CancelURL == "" {
		p.CancelURL = "https://shop.example/cart"
	}
	sess, err := srv.Store.CreateSession(context.Background(), srv.Merchant, live, &p)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return sess
}

// TransitionTo applies tr to session id, failing t when it is refused.
func TransitionTo(t testing.TB, srv *Server, id string, tr store.Transition) *store.Session {
	t.Helper()
	sess, err := srv.Store.Transition(context.Background(), id, tr)
	if err != nil {
		t.Fatalf("transition %s: %v", tr.Action, err)
	}
	return sess
}

// Merchant creates a merchant allowed to embed from origins.
func Merchant(t testing.TB, st *store.Store, origins ...string) (*store.Merchant, store.Keys) {
	t.Helper()
	m := &store.Merchant{Name: "Live Shop", AllowedOrigins: store.StringList(origins)}
	keys, err := st.CreateMerchant(context.Background(), m)
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m, keys
}

// MugSession creates an open test-mode session of 2 × 12.50 EUR for m,
// with p edited by edit first when it is not nil.
func MugSession(t testing.TB, st *store.Store, m *store.Merchant, edit func(*store.SessionParams)) *store.Session {
	t.Helper()
	unit := int64(1250)
	p := &store.SessionParams{Currency: "eur", CancelURL: "https://shop.example/cart",
		SuccessURL: "https://shop.example/ok", CustomerDetails: &store.Customer{Email: "shopper@example.com"},
		Metadata: store.Metadata{"order": "secret-order-42"},
		LineItems: []store.LineItemParams{{Quantity: 2, PriceData: &store.PriceData{UnitAmount: &unit,
			ProductData: &store.ProductData{Name: "Mug"}}}}}
	if edit != nil {
		edit(p)
	}
	sess, err := st.CreateSession(context.Background(), m, false, p)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return sess
}

// PostEvent sends a payment event with the secret key and decodes the
// JSON answer.
func (in *Instance) PostEvent(t testing.TB, key string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/v1/payment_events", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post event: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("post event: %d, not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}
