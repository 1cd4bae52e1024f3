package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/seedclients/seed000"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Seed 000's client, written from its document alone, reads every state
// in the billing platform's words and gets its refusals, unchanged but for
// base URL, key and organisation.
func TestSeed000BillingPlatformClient(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		client := seed000.New(srv.URL, srv.Keys.Test, srv.Merchant.ID)
		ctx := context.Background()
		const contract = `{"is_plan_based": true, "plan_id": "plan_gold", "currency": "EUR"}`
		const estimate = `{"estimation_id": "est_1", "current_invoice": {"total": 25.5}, "future_invoices": [],
			"amount_due": 25.5, "credit_notes": []}`
		n := 0
		states := seedStates(t, srv, func(p *store.SessionParams) {
			n++ // the store answers a repeated idempotency key with its first session
			p.Customer, p.ContractID, p.ExecutionID, p.BusinessEntityID = "cus_ada", "ctr_1", "exe_1", "be_1"
			p.Contract, p.Estimate = store.RawJSON(contract), store.RawJSON(estimate)
			p.Attribution = map[string]string{"utm_source": "newsletter", "utm_campaign": "spring"}
			p.CorrelationID, p.IdempotencyKey, p.DisplayCurrency = "corr-1", fmt.Sprint("idem-", n), "usd"
			p.SuccessURL, p.PendingURL = "https://shop.example/ok", "https://shop.example/pending"
		})
		want := map[string]struct{ status, payment string }{
			"open": {"open", "not_started"}, "declined": {"open", "failed"}, "processing": {"processing", "pending"},
			"3-D Secure": {"processing", "pending"}, "paid": {"completed", "paid"}, "refund pending": {"completed", "paid"},
			"partially refunded": {"completed", "paid"}, "refunded": {"completed", "paid"}, "reversed": {"completed", "failed"},
			"expired": {"closed", "not_started"}, "canceled": {"cancelled", "not_started"},
			"settled by its recovery": {"closed", "not_started"}, "paid recovery": {"completed", "paid"},
		}
		var child string
		for _, st := range states {
			if st.name == "paid recovery" {
				child = st.sess.ID
			}
		}
		for _, st := range states {
			got, raw, err := client.Retrieve(ctx, st.sess.ID)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if v := seed000.Check(raw); len(v) > 0 {
				t.Errorf("%s: the document's contract is broken: %q\n%s", st.name, v, raw)
			}
			s, w := st.sess, want[st.name]
			if got.ID != s.ID || got.CheckoutSessionStatus != w.status || got.PaymentStatus != w.payment {
				t.Errorf("%s: %s %s/%s, want %s/%s", st.name, got.ID, got.CheckoutSessionStatus, got.PaymentStatus, w.status, w.payment)
			}
			for _, f := range []struct {
				name string
				ok   bool
			}{
				{"contract", sameJSON(got.Contract, contract)},
				{"references", textOf(got.ContractID) == "ctr_1" && textOf(got.ExecutionID) == "exe_1" &&
					textOf(got.BusinessEntityID) == "be_1" && textOf(got.CustomerID) == "cus_ada" && !got.GuestCheckout},
				{"estimates", got.Estimates != nil && textOf(got.Estimates.EstimationID) == "est_1" &&
					got.Estimates.AmountDue != nil && got.Estimates.AmountDue.String() == "25.5"},
				{"customer_data", strings.Contains(string(got.CustomerData), `"email":"ada@example.com"`) &&
					strings.Contains(string(got.CustomerData), `"first_name":"Ada"`)},
				{"times", got.CreatedAt.Equal(timeOf(s.Created)) && got.ExpiresAt.Equal(timeOf(s.ExpiresAt)) &&
					got.UpdatedAt.Equal(timeOf(s.Updated)) && got.LastActivityAt != nil && got.LastActivityAt.Equal(timeOf(s.LastActivityAt)) &&
					sameTime(got.ConfirmedAt, s.ConfirmedAt) && sameTime(got.PaidAt, s.PaidAt) && sameTime(got.CompletedAt, s.CompletedAt)},
				{"payment_intent_id", textOf(got.PaymentIntentID) == s.PaymentIntent},
				{"currencies", got.Currency == "EUR" && textOf(got.DisplayCurrency) == "USD"},
				{"tracking", textOf(got.CorrelationID) == "corr-1" && textOf(got.IdempotencyKey) == s.IdempotencyKey},
				{"urls", textOf(got.SuccessURL) == "https://shop.example/ok" && textOf(got.CancelURL) == "https://shop.example/cart" &&
					textOf(got.PendingURL) == "https://shop.example/pending"},
				{"metadata", reflect.DeepEqual(got.Metadata, map[string]any{"order": "1042"})},
			} {
				if !f.ok {
					t.Errorf("%s: %s mapped wrong:\n%s", st.name, f.name, raw)
				}
			}
			if !reflect.DeepEqual(got.Attribution, map[string]any{"utm_source": "newsletter", "utm_campaign": "spring"}) {
				t.Errorf("%s: attribution %v", st.name, got.Attribution)
			}
			var extra struct {
				SettledBy *string `json:"settled_by"` // paypage's, beside the seed's
			}
			if err := json.Unmarshal(raw, &extra); err != nil {
				t.Fatal(err)
			}
			if wantSettled := map[bool]string{true: child}[st.name == "settled by its recovery"]; textOf(extra.SettledBy) != wantSettled {
				t.Errorf("%s: settled_by %v, want %q", st.name, extra.SettledBy, wantSettled)
			}
		}
		if got, _, err := client.Retrieve(ctx, states[0].sess.ID); err != nil || textOf(got.IdempotencyKey) != "idem-1" {
			t.Errorf("idempotency_key: %+v, %v", got, err)
		}

		// A session with none of the billing platform's data says so in its
		// words: an empty contract, no estimates, nulls.
		bare := handlertest.CreateSession(t, srv, false, store.SessionParams{Guest: true})
		got, raw, err := client.Retrieve(ctx, bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v := seed000.Check(raw); len(v) > 0 || string(got.Contract) != "{}" || got.Estimates != nil || !got.GuestCheckout ||
			got.CustomerID != nil || got.ContractID != nil || got.CustomerData != nil && string(got.CustomerData) != "null" ||
			got.DisplayCurrency != nil || got.PaidAt != nil || got.Attribution == nil || len(got.Attribution) != 0 {
			t.Errorf("a bare session: %q\n%s", v, raw)
		}

		// The refusals: the key and the organisation must name one merchant.
		other, otherKeys := handlertest.Merchant(t, srv.Store)
		theirs := handlertest.MugSession(t, srv.Store, other, nil)
		for _, tc := range []struct {
			name   string
			client *seed000.Client
			id     string
			status int
		}{
			{"a bad key", seed000.New(srv.URL, "sk_test_nope", srv.Merchant.ID), bare.ID, 401},
			{"no key", seed000.New(srv.URL, "", srv.Merchant.ID), bare.ID, 401},
			{"no organisation", seed000.New(srv.URL, srv.Keys.Test, ""), bare.ID, 401},
			{"another organisation", seed000.New(srv.URL, srv.Keys.Test, other.ID), bare.ID, 403},
			{"another organisation's key", seed000.New(srv.URL, otherKeys.Test, srv.Merchant.ID), bare.ID, 403},
			{"an unknown session", client, "cs_test_unknown", 404},
			{"another organisation's session", client, theirs.ID, 404},
			{"the other mode's key", seed000.New(srv.URL, srv.Keys.Live, srv.Merchant.ID), bare.ID, 404},
		} {
			_, raw, err := tc.client.Retrieve(ctx, tc.id)
			var e seed000.Error
			var body struct {
				Detail    string `json:"detail"`
				RequestID string `json:"request_id"`
			}
			if !errors.As(err, &e) || e.Status != tc.status || e.Message == "" ||
				json.Unmarshal(raw, &body) != nil || body.Detail != e.Message || !strings.HasPrefix(body.RequestID, "req_") {
				t.Errorf("%s: %v (%s), want %d with a detail and a request id", tc.name, err, raw, tc.status)
			}
		}
		if _, _, err := seed000.New(srv.URL, otherKeys.Test, other.ID).Retrieve(ctx, theirs.ID); err != nil {
			t.Errorf("the other organisation reading its own session: %v", err)
		}

		// The endpoint takes no query parameters: one is refused by name.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/checkout/"+bare.ID+"?expand=contract", nil)
		req.Header.Set("x-api-key", srv.Keys.Test)
		req.Header.Set("organisation", srv.Merchant.ID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Detail, Code, Param string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 400 ||
			body.Code != "parameter_unknown" || body.Param != "expand" || body.Detail == "" {
			t.Errorf("a query parameter: %d %+v %v", resp.StatusCode, body, err)
		}
	})
}

// textOf is *p, or "" for nil.
func textOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sameTime reports whether a seed 000 time is the unix time want (both
// absent counts).
func sameTime(got *seed000.Time, want *int64) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return got.Equal(timeOf(*want))
}

// sameJSON reports whether two JSON documents hold the same value (a
// PostgreSQL jsonb column may reorder and respace a document).
func sameJSON(a []byte, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}
