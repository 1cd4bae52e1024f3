package handlers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/seedclients/seed001"
	"github.com/paypage/paypage/handlers/seedclients/seed004"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// seedState is a session in one of paypage's states, for the seed
// systems' clients to read.
type seedState struct {
	name string
	sess *store.Session
}

// seedStates makes a session of srv's merchant in every state a seed
// system can see: open, declined, processing (settling and 3-D Secure),
// paid, refunds pending, partial and full, reversed, free, expired,
// canceled, and an expired one settled by its paid recovery.
func seedStates(t *testing.T, srv *handlertest.Server, edit func(*store.SessionParams)) []seedState {
	t.Helper()
	create := func() *store.Session {
		p := store.SessionParams{ClientReferenceID: "ORD-1042", CustomerEmail: "ada@example.com",
			CustomerDetails: &store.Customer{FirstName: "Ada", LastName: "Lovelace", IPAddress: "203.0.113.7"},
			Metadata:        store.Metadata{"order": "1042"}}
		if edit != nil {
			edit(&p)
		}
		return handlertest.CreateSession(t, srv, false, p)
	}
	pendingRefund := store.Transition{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 500, Status: store.RefundPending, Reason: "requested_by_customer"}}
	cases := []struct {
		name  string
		steps []store.Transition
	}{
		{"open", nil},
		{"declined", []store.Transition{{Action: store.ActionFail, FailureReason: "card_declined", Provider: "acmepay", PaymentMethod: "card"}}},
		{"processing", []store.Transition{{Action: store.ActionProcess, Provider: "acmepay", PaymentMethod: "blik"}}},
		{"3-D Secure", []store.Transition{{Action: store.ActionProcess, NextAction: &store.NextAction{Type: "three_d_secure",
			RedirectURL: "https://acs.example/3ds", Flow: "challenge", StatusURL: "https://acs.example/3ds/status",
			Hint: &store.ThreeDSHint{Scheme: "visa", Version: "2.2.0"}}}}},
		{"paid", []store.Transition{{Action: store.ActionSucceed, Provider: "acmepay", PaymentMethod: "card", PaymentIntent: "pi_1"}}},
		{"refund pending", []store.Transition{{Action: store.ActionSucceed}, pendingRefund}},
		{"partially refunded", []store.Transition{{Action: store.ActionSucceed}, {Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 1001, Reason: "requested_by_customer"}},
			{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 100, Status: store.RefundFailed, FailureReason: "lost_or_stolen_card"}}}},
		{"refunded", []store.Transition{{Action: store.ActionSucceed}, {Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 2500}}}},
		{"reversed", []store.Transition{{Action: store.ActionSucceed}, {Action: store.ActionReverse, FailureReason: "fraudulent"}}},
		{"expired", []store.Transition{{Action: store.ActionExpire}}},
		{"canceled", []store.Transition{{Action: store.ActionCancel}}},
	}
	var out []seedState
	for _, c := range cases {
		sess := create()
		for _, tr := range c.steps {
			tr.Source = "api"
			sess = handlertest.TransitionTo(t, srv, sess.ID, tr)
		}
		out = append(out, seedState{c.name, sess})
	}
	// An expired session whose recovery was paid, and that recovery.
	parent := create()
	handlertest.TransitionTo(t, srv, parent.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
	child, err := srv.Store.Recover(context.Background(), parent.ID)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	child = handlertest.TransitionTo(t, srv, child.ID, store.Transition{Action: store.ActionSucceed, Source: "api"})
	settled, err := srv.Store.Session(context.Background(), parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, seedState{"settled by its recovery", settled}, seedState{"paid recovery", child})
}

// Seed 004's client, written from its document alone, reads every state
// and gets the gateway's errors, unchanged but for base URL and key.
func TestSeed004GatewayClient(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		client := seed004.New(srv.URL, srv.Keys.Test)
		ctx := context.Background()
		want := map[string]struct{ status, reason string }{
			"open": {"PENDING", ""}, "declined": {"FAILED", "CARD_DECLINED"}, "processing": {"PENDING", ""},
			"3-D Secure": {"PENDING", ""}, "paid": {"SUCCEEDED", ""}, "refund pending": {"SUCCEEDED", ""},
			"partially refunded": {"PARTIALLY_REFUNDED", ""}, "refunded": {"REFUNDED", ""},
			"reversed": {"REVERSED", "FRAUDULENT"}, "expired": {"FAILED", "EXPIRED"}, "canceled": {"FAILED", "CANCELED"},
			"settled by its recovery": {"FAILED", "EXPIRED"}, "paid recovery": {"SUCCEEDED", ""},
		}
		for _, st := range seedStates(t, srv, nil) {
			got, raw, err := client.Retrieve(ctx, st.sess.ID)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if v := seed004.Check(raw); len(v) > 0 {
				t.Errorf("%s: the document's contract is broken: %q\n%s", st.name, v, raw)
			}
			w := want[st.name]
			reason := ""
			if got.FailureReason != nil {
				reason = *got.FailureReason
			}
			if got.ID != st.sess.ID || got.OrderReference != "ORD-1042" || got.Status != w.status || reason != w.reason ||
				!got.CreatedAt.Equal(timeOf(st.sess.Created)) || got.ExpiresAt == nil || !got.ExpiresAt.Equal(timeOf(st.sess.ExpiresAt)) {
				t.Errorf("%s: %+v, want %s %q", st.name, got, w.status, w.reason)
			}
		}
		// Refunds, in major units, with their own statuses.
		paid := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		for _, tr := range []store.Transition{{Action: store.ActionSucceed},
			{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 1001, Status: store.RefundPending, Reason: "requested_by_customer"}}} {
			tr.Source = "api"
			handlertest.TransitionTo(t, srv, paid.ID, tr)
		}
		got, _, err := client.Retrieve(ctx, paid.ID)
		if err != nil || len(got.Refunds) != 1 || got.Refunds[0].Amount != "10.01" || got.Refunds[0].Currency != "EUR" ||
			got.Refunds[0].Status != "PENDING" || got.Refunds[0].Reason == nil || *got.Refunds[0].Reason != "REQUESTED_BY_CUSTOMER" {
			t.Fatalf("refunds: %+v, %v", got, err)
		}

		// The gateway's errors: JSON with the status, a message and the request id.
		_, otherKeys := handlertest.Merchant(t, srv.Store)
		for _, tc := range []struct {
			name   string
			client *seed004.Client
			id     string
			status int
		}{
			{"a bad token", seed004.New(srv.URL, "sk_test_nope"), paid.ID, 401},
			{"no token", seed004.New(srv.URL, ""), paid.ID, 401},
			{"an unknown session", client, "cs_test_unknown", 404},
			{"an id of another shape", client, "e4b8c1a2-1234-5678-abcd-ef1234567890", 404},
			{"another merchant's session", seed004.New(srv.URL, otherKeys.Test), paid.ID, 404},
			{"the other mode's key", seed004.New(srv.URL, srv.Keys.Live), paid.ID, 404},
		} {
			_, raw, err := tc.client.Retrieve(ctx, tc.id)
			var e seed004.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.status || !strings.HasPrefix(e.RequestID, "req_") {
				t.Errorf("%s: %v (%s), want %d", tc.name, err, raw, tc.status)
			}
			if v := seed004.CheckError(tc.status, raw); len(v) > 0 {
				t.Errorf("%s: %q", tc.name, v)
			}
		}
		resp, err := http.Get(srv.URL + "/api/v1/no/such/path")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if v := seed004.CheckError(404, body); resp.StatusCode != 404 || len(v) > 0 {
			t.Errorf("an unknown path under /api/: %d %s %q", resp.StatusCode, body, v)
		}
	})
}

// timeOf is a unix time as a time.Time.
func timeOf(unix int64) time.Time { return time.Unix(unix, 0) }

// Seed 001's client, written from its document alone, reads every state of
// a merchant pinned to the BLIK version, on Stripe's path with Basic auth,
// unchanged but for base URL and key.
func TestSeed001BLIKClient(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		if _, err := srv.Store.UpdateMerchant(context.Background(), srv.Merchant.ID, func(m *store.Merchant) error {
			m.APIVersion = store.APIVersionBLIK
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		client := seed001.New(srv.URL, srv.Keys.Test)
		ctx := context.Background()
		want := map[string]string{
			"open": "open", "declined": "open", "processing": "pending", "3-D Secure": "pending", "paid": "completed",
			"refund pending": "completed", "partially refunded": "completed", "refunded": "completed", "reversed": "completed",
			"expired": "expired", "canceled": "expired", "settled by its recovery": "expired", "paid recovery": "completed",
		}
		states := seedStates(t, srv, func(p *store.SessionParams) { p.PaymentMethodTypes = []string{"blik"} })
		for _, st := range states {
			got, raw, err := client.Retrieve(ctx, st.sess.ID)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if v := seed001.Check(raw); len(v) > 0 {
				t.Errorf("%s: the document's contract is broken: %q\n%s", st.name, v, raw)
			}
			sub, _ := got.AmountSubtotalValue()
			exp, _ := got.ExpiresAtValue()
			if got.ID != st.sess.ID || got.Status != want[st.name] || got.AmountTotal != st.sess.AmountTotal || sub != st.sess.AmountSubtotal ||
				got.CustomerFirstname != "Ada" || got.CustomerLastname != "Lovelace" || got.CustomerEmail != "ada@example.com" ||
				got.CustomerIP != "203.0.113.7" || got.Locale != "" || !exp.Equal(timeOf(st.sess.ExpiresAt)) ||
				!got.Created().Equal(timeOf(st.sess.Created)) || got.URL != srv.URL+"/pay/"+st.sess.ID || got.Livemode {
				t.Errorf("%s: %+v, want status %s", st.name, got, want[st.name])
			}
		}
		// Empty fees and metadata are null, a session's own are there.
		plain := handlertest.CreateSession(t, srv, false, store.SessionParams{PaymentMethodTypes: []string{"blik"}, Locale: "pl",
			Fees: []store.AdjustmentParams{{Type: store.AdjustFee, Label: "Obsługa", Amount: 100}}})
		_, raw, err := client.Retrieve(ctx, plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v := seed001.Check(raw); len(v) > 0 || !strings.Contains(string(raw), `"metadata":null`) || !strings.Contains(string(raw), `"label":"Obsługa"`) ||
			!strings.Contains(string(raw), `"locale":"pl"`) {
			t.Errorf("fees, metadata and locale: %q\n%s", v, raw)
		}
		// Stripe's errors, as the API it mirrors.
		for _, tc := range []struct {
			name   string
			client *seed001.Client
			id     string
			status int
		}{
			{"a bad key", seed001.New(srv.URL, "sk_test_nope"), plain.ID, 401},
			{"an unknown session", client, "cs_test_unknown", 404},
			{"an id of another shape", client, "AW-kLcRRC5P8U68CYe0kVA", 404},
		} {
			_, _, err := tc.client.Retrieve(ctx, tc.id)
			var e seed001.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Message == "" {
				t.Errorf("%s: %v, want %d with a message", tc.name, err, tc.status)
			}
		}
	})
}

// An expired session paid through its recovery offers nothing to pay any
// more: each of its pages sends the shopper to the same page of the
// recovery that was paid (the widget too, its origin kept).
func TestSettledParentPagesLeadToThePaidRecovery(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		states := seedStates(t, srv, nil)
		parent, child := states[len(states)-2].sess, states[len(states)-1].sess
		if parent.SettledBy != child.ID {
			t.Fatalf("fixture: %s settled by %q, want %s", parent.ID, parent.SettledBy, child.ID)
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, suffix := range []string{"", "/success", "/cancel", "/pending", "/embed?origin=http%3A%2F%2F127.0.0.2%3A9999"} {
			resp, err := noRedirect.Get(srv.URL + "/pay/" + parent.ID + suffix)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := "/pay/" + child.ID + suffix; resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
				t.Errorf("%s: %d to %q, want 303 to %s", suffix, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
		// Followed, it is the paid receipt.
		resp, err := http.Get(srv.URL + "/pay/" + parent.ID)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `data-status="complete"`) || strings.Contains(string(body), `data-testid="recover"`) {
			t.Errorf("the parent's page, followed: %d, not the paid receipt", resp.StatusCode)
		}
	})
}
