package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/seedclients/seed003"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// checkout003 is what the tests read of a seed 003 answer beyond the
// client's typed fields: paypage's own additions to the object.
type checkout003 struct {
	Data struct {
		CheckoutSession struct {
			PaymentStatus string  `json:"paymentStatus"`
			FailureReason *string `json:"failureReason"`
			PaymentMethod *struct {
				Type, Provider *string
			} `json:"paymentMethod"`
			ChildSession *struct {
				ID                    string `json:"id"`
				CheckoutSessionStatus string `json:"checkoutSessionStatus"`
				Expired               bool   `json:"expired"`
			} `json:"childSession"`
			Appearance *struct {
				DisplayName *string `json:"displayName"`
				BrandColor  *string `json:"brandColor"`
			} `json:"appearance"`
		} `json:"checkoutSession"`
	} `json:"data"`
}

func decode003(t *testing.T, raw []byte) checkout003 {
	t.Helper()
	var v checkout003
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

// Seed 003's client, written from its document alone, reads every state,
// with and without init=true, and gets the document's errors, unchanged but
// for base URL, merchant id and key.
func TestSeed003CheckoutClient(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		// Every answer is also held to docs/openapi.json.
		api := newAPIClient(t, srv, srv.Keys.Test)
		newClient := func(merchantID, key string) *seed003.Client {
			c := seed003.New(srv.URL, merchantID, key)
			c.HTTPClient = api.http
			return c
		}
		client := newClient(srv.Merchant.ID, srv.Keys.Test)
		ctx := context.Background()
		states := seedStates(t, srv, nil)
		byName := map[string]*store.Session{}
		for _, st := range states {
			byName[st.name] = st.sess
		}
		// An expired session whose recovery is still open.
		recovering := handlertest.CreateSession(t, srv, false, store.SessionParams{})
		handlertest.TransitionTo(t, srv, recovering.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
		openChild, err := srv.Store.Recover(ctx, recovering.ID)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, seedState{"expired, its recovery open", recovering})

		type want struct {
			status, payment, reason, method string
			expired                         bool
			child, childStatus              string
			err                             error
		}
		wants := map[string]want{
			"open":               {status: "INITIATED", payment: "UNPAID"},
			"declined":           {status: "FAILED", payment: "FAILED", reason: "CARD_DECLINED", method: "CARD"},
			"processing":         {status: "INITIATED", payment: "PENDING", method: "BLIK"},
			"3-D Secure":         {status: "INITIATED", payment: "PENDING"},
			"paid":               {status: "COMPLETED", payment: "PAID", method: "CARD"},
			"refund pending":     {status: "COMPLETED", payment: "PAID"},
			"partially refunded": {status: "COMPLETED", payment: "PARTIALLY_REFUNDED"},
			"refunded":           {status: "COMPLETED", payment: "REFUNDED"},
			"reversed":           {status: "COMPLETED", payment: "REVERSED", reason: "FRAUDULENT"},
			"expired":            {err: seed003.ErrExpired},
			"canceled":           {err: seed003.ErrCanceled},
			"settled by its recovery": {status: "COMPLETED", payment: "PAID",
				child: byName["paid recovery"].ID, childStatus: "COMPLETED"},
			"paid recovery": {status: "COMPLETED", payment: "PAID"},
			"expired, its recovery open": {status: "INITIATED", payment: "UNPAID", expired: true,
				child: openChild.ID, childStatus: "INITIATED"},
		}
		for _, st := range states {
			w, ok := wants[st.name]
			if !ok {
				t.Fatalf("%s: no expectation", st.name)
			}
			for _, init := range []bool{false, true} {
				got, raw, err := client.Retrieve(ctx, st.sess.ID, seed003.Init(init))
				if w.err != nil {
					var e seed003.Error
					if !errors.Is(err, w.err) || !errors.As(err, &e) || e.Message == "" {
						t.Errorf("%s (init=%v): %v (%s), want %v with a message", st.name, init, err, raw, w.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s (init=%v): %v", st.name, init, err)
				}
				check := seed003.Check
				if init {
					check = seed003.CheckInit
				}
				if v := check(raw); len(v) > 0 {
					t.Errorf("%s (init=%v): the document's contract is broken: %q\n%s", st.name, init, v, raw)
				}
				s := got.Data.CheckoutSession
				expired := s.Expired != nil && *s.Expired
				if s.ID != st.sess.ID || s.CheckoutSessionStatus != w.status || expired != w.expired || s.ChildSessionID() != w.child ||
					!s.CreatedAt.Equal(timeOf(st.sess.Created)) || !s.ExpiresAt.Equal(timeOf(st.sess.ExpiresAt)) || got.Data.HcpToken == "" {
					t.Errorf("%s (init=%v): %+v, want %s expired=%v child %q", st.name, init, got, w.status, w.expired, w.child)
				}
				x := decode003(t, raw).Data.CheckoutSession
				reason, method := "", ""
				if x.FailureReason != nil {
					reason = *x.FailureReason
				}
				if x.PaymentMethod != nil && x.PaymentMethod.Type != nil {
					method = *x.PaymentMethod.Type
				}
				if x.PaymentStatus != w.payment || reason != w.reason || method != w.method {
					t.Errorf("%s: payment %s %q %q, want %s %q %q", st.name, x.PaymentStatus, reason, method, w.payment, w.reason, w.method)
				}
				if w.child != "" && (x.ChildSession == nil || x.ChildSession.CheckoutSessionStatus != w.childStatus) {
					t.Errorf("%s: childSession %s, want %s", st.name, raw, w.childStatus)
				}
				if (x.Appearance != nil) != init || strings.Contains(string(raw), `"cardCategories"`) != init {
					t.Errorf("%s (init=%v): appearance and cardCategories only with init=true: %s", st.name, init, raw)
				}
			}
		}

		// The appearance is the merchant's with the session's override.
		branded := handlertest.CreateSession(t, srv, false, store.SessionParams{Appearance: &store.Appearance{BrandColor: "#ffcc00"}})
		_, raw, err := client.Retrieve(ctx, branded.ID, seed003.Init(true))
		if err != nil {
			t.Fatal(err)
		}
		if a := decode003(t, raw).Data.CheckoutSession.Appearance; a == nil || a.BrandColor == nil || *a.BrandColor != "#ffcc00" ||
			a.DisplayName == nil || *a.DisplayName != "Test Shop" {
			t.Errorf("appearance: %s", raw)
		}

		// The errors the document lists, with the merchant named and the
		// key given; 401 means an expired session only.
		open := byName["open"]
		other, otherKeys := handlertest.Merchant(t, srv.Store)
		for _, tc := range []struct {
			name   string
			client *seed003.Client
			id     string
			want   error
		}{
			{"an unknown session", client, "cs_test_unknown", seed003.ErrNotFound},
			{"an id of another shape", client, "checkout-session-uuid", seed003.ErrNotFound},
			{"another merchant's session", newClient(other.ID, otherKeys.Test), open.ID, seed003.ErrNotFound},
			{"the other mode's key", newClient(srv.Merchant.ID, srv.Keys.Live), open.ID, seed003.ErrNotFound},
			{"another merchant named", newClient(other.ID, srv.Keys.Test), open.ID, seed003.ErrForbidden},
			{"another merchant's key", newClient(srv.Merchant.ID, otherKeys.Test), open.ID, seed003.ErrForbidden},
			{"the merchant id alone", newClient(srv.Merchant.ID, ""), open.ID, seed003.ErrForbidden},
			{"a bad key", newClient(srv.Merchant.ID, "sk_test_nope"), open.ID, seed003.ErrForbidden},
			{"no merchant id", newClient("", srv.Keys.Test), open.ID, seed003.ErrForbidden},
		} {
			_, raw, err := tc.client.Retrieve(ctx, tc.id)
			var e seed003.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.Message == "" || !strings.Contains(string(raw), `"requestId":"req_`) {
				t.Errorf("%s: %v (%s), want %v", tc.name, err, raw, tc.want)
			}
		}
		for _, tc := range []struct{ query, param string }{
			{"init=yes", "init"}, {"init=", "init"}, {"init=true&init=false", "init"}, {"expand=appearance", "expand"},
		} {
			r := api.do("GET", "/v1/checkout-sessions/"+open.ID+"?"+tc.query, "", "X-Merchant-Id", srv.Merchant.ID)
			msg, _ := r.err()["message"].(string)
			if r.Status != 400 || r.err()["param"] != tc.param || !strings.Contains(msg, tc.param) {
				t.Errorf("?%s: %d %s, want 400 naming %s", tc.query, r.Status, r.Raw, tc.param)
			}
		}
		// Case does not matter to init, as to the Java clients the document
		// was written for.
		if r := api.do("GET", "/v1/checkout-sessions/"+open.ID+"?init=TRUE", "", "X-Merchant-Id", srv.Merchant.ID); r.Status != 200 || seed003.CheckInit(r.Raw) != nil {
			t.Errorf("init=TRUE: %d %s", r.Status, r.Raw)
		}
	})
}
