package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Bytes that are not text never reach the database: PostgreSQL refused them
// with a 500, SQLite stored them. Each text field refuses NUL and invalid
// UTF-8, naming itself, and nothing is stored.
func TestTextFieldsRefuseNULAndInvalidUTF8(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		fields := []struct {
			param string
			set   func(p *store.SessionParams, v string)
		}{
			{"line_items[0][price_data][product_data][name]", func(p *store.SessionParams, v string) { p.LineItems[0].PriceData.ProductData.Name = v }},
			{"line_items[0][price_data][product_data][description]", func(p *store.SessionParams, v string) {
				p.LineItems[0].PriceData.ProductData.Description = v
			}},
			{"fees[0][label]", func(p *store.SessionParams, v string) {
				p.Fees = []store.AdjustmentParams{{Type: "fee", Label: v, Amount: 1}}
			}},
			{"client_reference_id", func(p *store.SessionParams, v string) { p.ClientReferenceID = v }},
			{"customer", func(p *store.SessionParams, v string) { p.Customer = v }},
			{"correlation_id", func(p *store.SessionParams, v string) { p.CorrelationID = v }},
			{"customer_details[first_name]", func(p *store.SessionParams, v string) { p.CustomerDetails = &store.Customer{FirstName: v} }},
			{"customer_details[address][city]", func(p *store.SessionParams, v string) {
				p.CustomerDetails = &store.Customer{Address: store.Address{City: v}}
			}},
			{"after_completion[custom_message]", func(p *store.SessionParams, v string) {
				p.AfterCompletion = &store.AfterCompletion{Type: "hosted", CustomMessage: v}
			}},
			{"custom_text[submit]", func(p *store.SessionParams, v string) { p.CustomText = &store.CustomText{Submit: v} }},
			{"metadata[k]", func(p *store.SessionParams, v string) { p.Metadata = store.Metadata{"k": v} }},
			{"metadata", func(p *store.SessionParams, v string) { p.Metadata = store.Metadata{v: "x"} }},
			{"success_url", func(p *store.SessionParams, v string) { p.SuccessURL = "https://shop.example/" + v }},
			{"appearance[display_name]", func(p *store.SessionParams, v string) { p.Appearance = &store.Appearance{DisplayName: v} }},
			{"locale", func(p *store.SessionParams, v string) { p.Locale = "fr" + v }},
			{"Idempotency-Key", func(p *store.SessionParams, v string) { p.IdempotencyKey = "k" + v }},
			{"contract", func(p *store.SessionParams, v string) { p.Contract = store.RawJSON(`{"a":"` + v + `"}`) }},
		}
		for _, f := range fields {
			for _, bad := range []string{"a\x00b", "a\xffb", "\xc3"} {
				if f.param == "contract" && bad == "a\x00b" {
					continue // a raw NUL is not JSON: refused as such by the binder
				}
				p := validParams()
				f.set(p, bad)
				_, err := s.CreateSession(t.Context(), m, false, p)
				if err == nil {
					t.Errorf("%s = %q was accepted", f.param, bad)
					continue
				}
				wantInvalidParam(t, err, f.param, fmt.Sprintf("%s = %q", f.param, bad))
			}
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 0 {
			t.Fatalf("%d sessions stored from refused requests", n)
		}

		// Reads by a malformed id, or with a malformed cursor, never query.
		for _, id := range []string{"cs_test_\xff", "cs_test_a\x00b", "cs_test_" + strings.Repeat("a", 65)} {
			if _, err := s.Session(t.Context(), id); !store.IsNotFound(err) {
				t.Errorf("Session(%q): %v, want not found", id, err)
			}
			if _, err := s.SessionState(t.Context(), id); !store.IsNotFound(err) {
				t.Errorf("SessionState(%q): %v, want not found", id, err)
			}
		}
		for param, lp := range map[string]store.ListParams{
			"starting_after":      {Limit: 10, StartingAfter: "cs_test_\x00"},
			"ending_before":       {Limit: 10, EndingBefore: "cs_test_\xff"},
			"client_reference_id": {Limit: 10, ClientReferenceID: "\xff"},
			"customer":            {Limit: 10, Customer: "cus\x00"},
		} {
			_, _, err := s.ListSessions(t.Context(), m.ID, false, lp)
			wantInvalidParam(t, err, param, "ListSessions "+param)
		}
	})
}

// Every list and every string has a cap, and an email is an email.
func TestListsAndStringsAreCapped(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		long := strings.Repeat("x", 201)
		for _, tc := range []struct {
			name  string
			edit  func(p *store.SessionParams)
			param string
		}{
			{"51 fees", func(p *store.SessionParams) {
				for range 51 {
					p.Fees = append(p.Fees, store.AdjustmentParams{Type: "fee", Label: "Fee", Amount: 1})
				}
			}, "fees"},
			{"a payment method type twice", func(p *store.SessionParams) { p.PaymentMethodTypes = []string{"card", "ideal", "card"} }, "payment_method_types[2]"},
			{"11 allowed origins", func(p *store.SessionParams) {
				p.NextAction = &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds"}
				for i := range 11 {
					p.NextAction.AllowedOrigins = append(p.NextAction.AllowedOrigins, fmt.Sprintf("https://acs%d.example", i))
				}
			}, "next_action[allowed_origins]"},
			{"address line of 201 characters", func(p *store.SessionParams) {
				p.CustomerDetails = &store.Customer{Address: store.Address{Line1: long}}
			}, "customer_details[address][line1]"},
			{"postal code of 201 characters", func(p *store.SessionParams) {
				p.CustomerDetails = &store.Customer{Address: store.Address{PostalCode: long}}
			}, "customer_details[address][postal_code]"},
		} {
			p := validParams()
			tc.edit(p)
			_, err := s.CreateSession(t.Context(), m, false, p)
			wantInvalidParam(t, err, tc.param, tc.name)
		}
		for _, bad := range []string{"not-an-email@", "@example.com", "ada@", "ada@localhost", "Ada <ada@example.com>",
			"ada@@example.com", "ada example@example.com", "ada@exa mple.com", "ada@-example.com", "ada@[192.0.2.1]",
			strings.Repeat("a", 65) + "@example.com", "ada@example..com", "\"ada\"@example.com"} {
			p := validParams()
			p.CustomerEmail = bad
			_, err := s.CreateSession(t.Context(), m, false, p)
			wantInvalidParam(t, err, "customer_email", "email "+bad)
			p = validParams()
			p.CustomerDetails = &store.Customer{Email: bad}
			_, err = s.CreateSession(t.Context(), m, false, p)
			wantInvalidParam(t, err, "customer_details[email]", "customer_details email "+bad)
		}
		if n := countRows(t, s, "checkout_sessions", ""); n != 0 {
			t.Fatalf("%d sessions stored from refused requests", n)
		}
		for _, good := range []string{"ada@example.com", "o'brien+tag@mail.shop.co.uk", "ADA@EXAMPLE.COM", "jürgen@münchen.example"} {
			p := validParams()
			p.CustomerEmail = good
			if _, err := s.CreateSession(t.Context(), m, false, p); err != nil {
				t.Errorf("email %q refused: %v", good, err)
			}
		}
	})
}

// A payment event signed with the webhook secret may move the shopper only
// within the provider origin the session was created with; one sent with the
// secret key (or the creation itself) may name any https URL.
func TestPinnedNextActionStaysOnTheCreationsOrigin(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		p := validParams()
		p.NextAction = &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://pay.provider.example/s/1"}
		sess := createSession(t, s, m, true, p)
		plain := createSession(t, s, m, true, validParams())

		elsewhere := &store.NextAction{Type: "three_d_secure", RedirectURL: "https://phish.example/3ds"}
		_, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionProcess, Source: "payment_event",
			NextAction: elsewhere, PinNextAction: true})
		wantInvalidParam(t, err, "next_action[redirect_url]", "a pinned next_action to another origin")
		_, err = s.Transition(t.Context(), plain.ID, store.Transition{Action: store.ActionProcess, Source: "payment_event",
			NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://pay.provider.example/3ds"}, PinNextAction: true})
		wantInvalidParam(t, err, "next_action[redirect_url]", "a pinned next_action on a session created without one")
		if got := getSession(t, s, sess.ID); got.Version != 1 || got.NextAction.RedirectURL != "https://pay.provider.example/s/1" {
			t.Fatalf("a refused event changed the session: version %d, next_action %+v", got.Version, got.NextAction)
		}

		same := &store.NextAction{Type: "three_d_secure", RedirectURL: "https://PAY.provider.example/s/1/3ds"}
		if got := transition(t, s, sess.ID, store.Transition{Action: store.ActionProcess, NextAction: same, PinNextAction: true}); got.NextAction.RedirectURL != same.RedirectURL {
			t.Fatalf("pinned next_action on the same origin: %+v", got.NextAction)
		}
		retry := &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://bank.example/retry"}
		if got := transition(t, s, sess.ID, store.Transition{Action: store.ActionFail, NextAction: retry}); got.NextAction.RedirectURL != retry.RedirectURL {
			t.Fatalf("unpinned next_action elsewhere: %+v", got.NextAction)
		}
	})
}

// wantInvalidParam is wantInvalid with a description of the case, that does
// not stop the test.
func wantInvalidParam(t *testing.T, err error, param, what string) {
	t.Helper()
	var e *store.Error
	if !errors.As(err, &e) || e.Code != store.EINVALID || e.Param != param {
		t.Errorf("%s: %v, want invalid %s", what, err, param)
	}
}
