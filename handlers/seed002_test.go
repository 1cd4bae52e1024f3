package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/seedclients/seed002"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Seed 002's client, written from its document alone, reads every state in
// Paypercut's shape, with expand as it sends it, and gets its refusals,
// unchanged but for base URL and key.
func TestSeed002PaypercutClient(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		client := seed002.New(srv.URL, srv.Keys.Test)
		ctx := context.Background()
		mug, plan := int64(1000), int64(500) // 2 × 10.00 + 5.00: the 25.00 seedStates refunds in full
		states := seedStates(t, srv, func(p *store.SessionParams) {
			p.LineItems = []store.LineItemParams{
				{Quantity: 2, Metadata: store.Metadata{"sku": "MUG-1"}, PriceData: &store.PriceData{UnitAmount: &mug, LookupKey: "mug-std",
					ProductData: &store.ProductData{Name: "Mug", Description: "Stoneware, 300 ml", UnitLabel: "mug"}}},
				{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &plan, Recurring: &store.Recurring{Interval: "month", IntervalCount: 1},
					ProductData: &store.ProductData{Name: "Care plan"}}},
			}
			p.Customer, p.ClientCustomerID, p.Description = "cus_ada", "web-42", "Spring order"
			p.SubmitType, p.CustomerCreation, p.BillingAddressCollection = "pay", "always", "required"
			p.WalletOptions = store.WalletOptions{"apple_pay": {Display: "auto"}, "google_pay": {Display: "never"}}
			p.SuccessURL = "https://shop.example/ok"
		})
		want := map[string]struct{ status, payment string }{
			"open": {"open", "unpaid"}, "declined": {"open", "unpaid"}, "processing": {"complete", "unpaid"},
			"3-D Secure": {"open", "unpaid"}, "paid": {"complete", "paid"}, "refund pending": {"complete", "paid"},
			"partially refunded": {"complete", "paid"}, "refunded": {"complete", "paid"}, "reversed": {"complete", "paid"},
			"expired": {"expired", "unpaid"}, "canceled": {"expired", "unpaid"},
			"settled by its recovery": {"expired", "unpaid"}, "paid recovery": {"complete", "paid"},
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
			if v := seed002.Check(raw); len(v) > 0 {
				t.Errorf("%s: the document's contract is broken: %q\n%s", st.name, v, raw)
			}
			s, w := st.sess, want[st.name]
			if got.ID != s.ID || got.Status != w.status || got.PaymentStatus != w.payment {
				t.Errorf("%s: %s %s/%s, want %s/%s", st.name, got.ID, got.Status, got.PaymentStatus, w.status, w.payment)
			}
			exp, _ := got.Expires()
			for _, f := range []struct {
				name string
				ok   bool
			}{
				{"currency", got.Currency == seed002.Currency{ISO: "eur", Scale: 2} && got.AmountTotal == 2500},
				{"choices", textOf(got.Description) == "Spring order" && got.SubmitType == "pay" && got.CustomerCreation == "always" &&
					got.BillingAddressCollection == "required" && got.Mode == "payment" && !got.Livemode},
				{"references", textOf(got.ClientCustomerID) == "web-42" && textOf(got.ClientReferenceID) == "ORD-1042" &&
					got.Customer != nil && got.Customer.ID == "cus_ada" && got.Customer.Object == nil &&
					textOf(got.CustomerEmail) == "ada@example.com" && idOf(got.PaymentIntent) == s.PaymentIntent &&
					got.SetupIntent == nil && got.PaymentLink == nil},
				{"wallet_options", got.WalletOptions != nil && got.WalletOptions.ApplePay != nil && got.WalletOptions.ApplePay.Display == "auto" &&
					got.WalletOptions.GooglePay != nil && got.WalletOptions.GooglePay.Display == "never"},
				{"urls", got.URL == srv.URL+"/pay/"+s.ID && textOf(got.SuccessURL) == "https://shop.example/ok" &&
					textOf(got.CancelURL) == "https://shop.example/cart" && got.ReturnURL == nil},
				{"after_completion", got.AfterCompletion != nil && got.AfterCompletion.Type == "redirect" &&
					got.AfterCompletion.Redirect != nil && got.AfterCompletion.Redirect.URL == "https://shop.example/ok" && got.AfterCompletion.Hosted == nil},
				{"expires_at", exp.Equal(timeOf(s.ExpiresAt))},
				{"metadata", reflect.DeepEqual(got.Metadata, map[string]string{"order": "1042"})},
				{"line_items", len(got.LineItems) == 2 && paypercutItemsRight(got.LineItems, s)},
			} {
				if !f.ok {
					t.Errorf("%s: %s mapped wrong:\n%s", st.name, f.name, raw)
				}
			}
			var extra struct {
				Paypage struct { // paypage's own view, beside the seed's
					Status        string  `json:"status"`
					PaymentStatus string  `json:"payment_status"`
					SettledBy     *string `json:"settled_by"`
				} `json:"paypage"`
			}
			if err := json.Unmarshal(raw, &extra); err != nil {
				t.Fatal(err)
			}
			wantSettled := map[bool]string{true: child}[st.name == "settled by its recovery"]
			if p := extra.Paypage; p.Status != s.Status || p.PaymentStatus != s.PaymentStatus || textOf(p.SettledBy) != wantSettled {
				t.Errorf("%s: paypage's own view %+v, want %s/%s settled by %q", st.name, p, s.Status, s.PaymentStatus, wantSettled)
			}
			na := got.NextAction
			if st.name == "3-D Secure" {
				if na == nil || na.Type != "three_d_secure" || na.RedirectToURL == nil || textOf(na.RedirectToURL.URL) != "https://acs.example/3ds" ||
					na.ThreeDSecure == nil || na.ThreeDSecure.Flow != "challenge" || na.ThreeDSecure.StatusURL != "https://acs.example/3ds/status" ||
					na.ThreeDSecure.Hint == nil || na.ThreeDSecure.Hint.Scheme != "visa" || na.ThreeDSecure.Hint.Version != "2.2.0" {
					t.Errorf("%s: next_action %+v\n%s", st.name, na, raw)
				}
			} else if na != nil {
				t.Errorf("%s: a next_action with nothing to do: %+v", st.name, na)
			}
		}

		// Everything a 3-D Secure challenge may carry, and a redirect.
		open := states[0].sess
		threeDS := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		handlertest.TransitionTo(t, srv, threeDS.ID, store.Transition{Action: store.ActionProcess, Source: "api",
			NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds", Flow: "frictionless",
				StatusURL: "https://acs.example/3ds/status", ReturnURL: "https://shop.example/back", IdempotencyKey: "3ds-1",
				AllowedOrigins: []string{"https://acs.example"}}})
		redirect := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		handlertest.TransitionTo(t, srv, redirect.ID, store.Transition{Action: store.ActionProcess, Source: "api",
			NextAction: &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://bank.example/pay", ReturnURL: "https://shop.example/back"}})
		got, raw, err := client.Retrieve(ctx, threeDS.ID)
		if tds := got.NextAction.ThreeDSecure; err != nil || len(seed002.Check(raw)) > 0 || tds == nil || tds.Flow != "frictionless" ||
			textOf(tds.ReturnURL) != "https://shop.example/back" || textOf(tds.IdempotencyKey) != "3ds-1" || tds.Hint != nil ||
			tds.Message == nil || !reflect.DeepEqual(tds.Message.AllowedOrigins, []string{"https://acs.example"}) {
			t.Errorf("3-D Secure in full: %v %q\n%s", err, seed002.Check(raw), raw)
		}
		got, raw, err = client.Retrieve(ctx, redirect.ID)
		if na := got.NextAction; err != nil || len(seed002.Check(raw)) > 0 || na.Type != "redirect_to_url" || na.ThreeDSecure != nil ||
			textOf(na.RedirectToURL.URL) != "https://bank.example/pay" || textOf(na.RedirectToURL.ReturnURL) != "https://shop.example/back" {
			t.Errorf("a redirect: %v\n%s", err, raw)
		}

		// A session with none of the optional parts: nulls, and what the
		// hosted page does by default; a currency of another scale.
		yen := int64(1200)
		bare := handlertest.CreateSession(t, srv, false, store.SessionParams{Currency: "jpy",
			AfterCompletion: &store.AfterCompletion{Type: "hosted", CustomMessage: "Arigato!"},
			LineItems:       []store.LineItemParams{{Quantity: 1, PriceData: &store.PriceData{UnitAmount: &yen, ProductData: &store.ProductData{Name: "Tea"}}}}})
		got, raw, err = client.Retrieve(ctx, bare.ID)
		if err != nil || len(seed002.Check(raw)) > 0 || got.Currency != (seed002.Currency{ISO: "jpy", Scale: 0}) || got.AmountTotal != 1200 ||
			got.Customer != nil || got.WalletOptions != nil || got.SavedPaymentMethodOptions != nil || got.Description != nil ||
			got.SubmitType != "auto" || got.CustomerCreation != "if_required" || got.BillingAddressCollection != "auto" ||
			got.AfterCompletion.Type != "hosted" || got.AfterCompletion.Redirect != nil || got.AfterCompletion.Hosted == nil ||
			textOf(got.AfterCompletion.Hosted.CustomMessage) != "Arigato!" || got.LineItems[0].PriceData.Recurring != nil ||
			got.LineItems[0].PriceData.Type != "one_time" || len(got.LineItems[0].Metadata) != 0 || got.LineItems[0].Metadata == nil {
			t.Errorf("a bare session: %v %q\n%s", err, seed002.Check(raw), raw)
		}

		// expand: repeated, as a comma list, as expand[]; line_items is
		// always inline, customer becomes an object.
		for _, opts := range [][]seed002.Option{
			{seed002.Expand("line_items", "customer")},
			{seed002.ExpandCommaList("line_items", "customer")},
			{seed002.Expand("customer"), seed002.ExpandCommaList("line_items")},
		} {
			got, raw, err := client.Retrieve(ctx, open.ID, opts...)
			var customer struct {
				ID, Object, Email, Name string
			}
			if err != nil || len(seed002.CheckExpanded(raw, "line_items", "customer")) > 0 || len(got.LineItems) != 2 ||
				got.Customer == nil || got.Customer.ID != "cus_ada" || json.Unmarshal(got.Customer.Object, &customer) != nil ||
				customer != (struct{ ID, Object, Email, Name string }{"cus_ada", "customer", "ada@example.com", "Ada Lovelace"}) {
				t.Errorf("expand %v: %v %q\n%s", opts, err, seed002.CheckExpanded(raw, "customer"), raw)
			}
		}
		if code, body := paypercutGet(t, srv, srv.Keys.Test, "/v1/checkouts/"+open.ID+"?expand[]=customer"); code != 200 ||
			!strings.Contains(body, `"customer":{"id":"cus_ada","object":"customer"`) {
			t.Errorf("expand[]=customer: %d %s", code, body)
		}
		// The seed paths do not go through the version of Stripe's paths: a
		// merchant pinned to another dialect, or a version header, changes
		// nothing here.
		if code, body := paypercutGet(t, srv, srv.Keys.Test, "/v1/checkouts/"+open.ID, "Paypage-Version", "bogus"); code != 200 ||
			!strings.Contains(body, `"currency":{"iso":"eur","scale":2}`) {
			t.Errorf("with a version header: %d %s", code, body)
		}
		pinned := &store.Merchant{Name: "BLIK Shop", APIVersion: store.APIVersionBLIK}
		pinnedKeys, err := srv.Store.CreateMerchant(ctx, pinned)
		if err != nil {
			t.Fatal(err)
		}
		theirs := handlertest.MugSession(t, srv.Store, pinned, nil)
		if _, raw, err := seed002.New(srv.URL, pinnedKeys.Test).Retrieve(ctx, theirs.ID); err != nil || len(seed002.Check(raw)) > 0 {
			t.Errorf("a merchant pinned to the BLIK dialect: %v %q", err, seed002.Check(raw))
		}

		// The refusals, in Stripe's envelope as the API it mirrors.
		for _, tc := range []struct {
			name   string
			client *seed002.Client
			id     string
			opts   []seed002.Option
			status int
			param  string
		}{
			{"a bad token", seed002.New(srv.URL, "sk_test_nope"), open.ID, nil, 401, ""},
			{"no token", seed002.New(srv.URL, ""), open.ID, nil, 401, ""},
			{"an unknown session", client, "cs_test_unknown", nil, 404, "id"},
			{"another merchant's session", client, theirs.ID, nil, 404, "id"},
			{"the other mode's key", seed002.New(srv.URL, srv.Keys.Live), open.ID, nil, 404, "id"},
			{"expand a payment intent", client, open.ID, []seed002.Option{seed002.Expand("payment_intent")}, 400, "expand"},
			{"expand something unknown", client, open.ID, []seed002.Option{seed002.ExpandCommaList("line_items", "colour")}, 400, "expand"},
		} {
			_, raw, err := tc.client.Retrieve(ctx, tc.id, tc.opts...)
			var e seed002.Error
			var body struct {
				Error struct{ Type, Message, Param string } `json:"error"`
			}
			if !errors.As(err, &e) || e.Status != tc.status || e.Message == "" || json.Unmarshal(raw, &body) != nil ||
				body.Error.Message != e.Message || body.Error.Type == "" || body.Error.Param != tc.param {
				t.Errorf("%s: %v (%s), want %d naming %q", tc.name, err, raw, tc.status, tc.param)
			}
		}
		if code, body := paypercutGet(t, srv, srv.Keys.Test, "/v1/checkouts/"+open.ID+"?expand=&colour=red"); code != 400 ||
			!strings.Contains(body, `"code":"parameter_unknown"`) || !strings.Contains(body, `"param":"colour"`) {
			t.Errorf("an unknown parameter: %d %s", code, body)
		}
	})
}

// paypercutItemsRight reports whether a session's line items read as s's
// (the seed002 fixture's mug and care plan).
func paypercutItemsRight(items []seed002.LineItem, s *store.Session) bool {
	mug, plan := items[0], items[1]
	mp, pp := mug.PriceData, plan.PriceData
	if mp == nil || pp == nil || mp.ProductData == nil || pp.ProductData == nil {
		return false
	}
	return mug.Quantity == 2 && mug.Metadata["sku"] == "MUG-1" && len(plan.Metadata) == 0 &&
		mp.ID == s.LineItems[0].PriceID && strings.HasPrefix(mp.ID, "price_") &&
		mp.Product == s.LineItems[0].ProductID && mp.ProductData.ID == mp.Product && strings.HasPrefix(mp.Product, "prod_") &&
		mp.ProductData.Name == "Mug" && textOf(mp.ProductData.Description) == "Stoneware, 300 ml" &&
		textOf(mp.ProductData.UnitLabel) == "mug" && textOf(mp.LookupKey) == "mug-std" && mp.Currency == "eur" &&
		mp.UnitAmount != nil && *mp.UnitAmount == 1000 && textOf(mp.UnitAmountDecimal) == "1000" &&
		mp.Type == "one_time" && mp.Recurring == nil && mp.Created == s.Created &&
		pp.Type == "recurring" && pp.Recurring != nil && pp.Recurring.Interval == "month" && pp.Recurring.IntervalCount == 1 &&
		pp.Recurring.Meter == nil && pp.ProductData.Name == "Care plan" && pp.ProductData.UnitLabel == nil && pp.LookupKey == nil
}

func idOf(e *seed002.Expandable) string {
	if e == nil {
		return ""
	}
	return e.ID
}

// paypercutGet is a GET of path with the key as Bearer token and the
// header pairs given; its status and body.
func paypercutGet(t *testing.T, srv *handlertest.Server, key, path string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
