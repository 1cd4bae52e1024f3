package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// hcpGet is what a merchant's front end does with an hcpToken.
func hcpGet(t *testing.T, base, id, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/pay/"+id+"/session", nil)
	req.Header.Set("Origin", "https://shop.example")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return rawStatus(t, req)
}

func hcpCode(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error struct{ Code string } }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return e.Error.Code
}

// The hcpToken opens GET /pay/{id}/session for the merchant's front end,
// from any origin: that session's public state, nothing personal or
// secret, and nothing of any other session. Tampered tokens, tokens of
// another session and tokens of an expired or canceled session are
// refused before anything is read.
func TestSeed003TokenOpensOneSessionsPublicState(t *testing.T) {
	t.Parallel()
	srv := handlertest.Start(t, storetest.SQLiteURL(t))
	client := seed003.New(srv.URL, srv.Merchant.ID, srv.Keys.Test)
	ctx := context.Background()
	token := func(id string) string {
		t.Helper()
		got, _, err := client.Retrieve(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Data.HcpToken
	}
	private := func(p *store.SessionParams) {
		p.ClientReferenceID, p.CustomerEmail = "ORD-SECRET-77", "grace@example.com"
		p.CustomerDetails = &store.Customer{FirstName: "Grace", LastName: "Hopper", Phone: "+15550100", IPAddress: "198.51.100.9"}
		p.Metadata = store.Metadata{"internal": "margin-42"}
		p.SuccessURL = "https://shop.example/thanks?order=secret"
	}
	a := handlertest.MugSession(t, srv.Store, srv.Merchant, private)
	b := handlertest.MugSession(t, srv.Store, srv.Merchant, private)
	tokenA := token(a.ID)

	status, header, body := hcpGet(t, srv.URL, a.ID, tokenA)
	if v := seed003.CheckInit(withToken(t, body)); status != 200 || len(v) > 0 {
		t.Errorf("its own session: %d %s %q", status, body, v)
	}
	if header.Get("Access-Control-Allow-Origin") != "*" || header.Get("Cache-Control") != "no-store" || header.Get("Set-Cookie") != "" {
		t.Errorf("headers: %v", header)
	}
	if strings.Contains(body, "hcpToken") || !strings.Contains(body, `"appearance"`) || !strings.Contains(body, `"checkoutSessionStatus":"INITIATED"`) {
		t.Errorf("the session's public state, without a token: %s", body)
	}
	for _, secret := range []string{"ORD-SECRET", "grace", "Grace", "Hopper", "5550100", "198.51.100.9", "margin-42", "thanks", "Mug",
		srv.Keys.Test, srv.Merchant.ID, "sk_"} {
		if strings.Contains(body, secret) {
			t.Errorf("the answer shows %q: %s", secret, body)
		}
	}

	// The browser's preflight, for the Authorization header.
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/pay/"+a.ID+"/session", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	if status, h, _ := rawStatus(t, req); status != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.EqualFold(h.Get("Access-Control-Allow-Headers"), "Authorization") || h.Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("preflight: %d %v", status, h)
	}

	canceled := handlertest.MugSession(t, srv.Store, srv.Merchant, nil)
	tokenCanceled := token(canceled.ID)
	handlertest.TransitionTo(t, srv, canceled.ID, store.Transition{Action: store.ActionCancel, Source: "api"})
	expired := handlertest.MugSession(t, srv.Store, srv.Merchant, nil)
	tokenExpired := token(expired.ID)
	handlertest.TransitionTo(t, srv, expired.ID, store.Transition{Action: store.ActionExpire, Source: "api"})

	for _, tc := range []struct {
		name, id, token string
		status          int
		code            string
	}{
		{"no token", a.ID, "", 401, "INVALID_TOKEN"},
		{"session A's token on session B", b.ID, tokenA, 401, "INVALID_TOKEN"},
		{"session A's token on an unknown session", "cs_test_aaaaaaaaaaaaaaaaaaaaaaaa", tokenA, 401, "INVALID_TOKEN"},
		{"a tampered signature", a.ID, tokenA[:len(tokenA)-2] + "AA", 401, "INVALID_TOKEN"},
		{"a later expiry", a.ID, laterExpiry(t, tokenA), 401, "INVALID_TOKEN"},
		{"the secret key", a.ID, srv.Keys.Test, 401, "INVALID_TOKEN"},
		{"a session expired since the token was given", expired.ID, tokenExpired, 401, "TOKEN_EXPIRED"},
		{"a session canceled since the token was given", canceled.ID, tokenCanceled, 410, "SESSION_CANCELED"},
	} {
		status, header, body := hcpGet(t, srv.URL, tc.id, tc.token)
		if status != tc.status || hcpCode(t, body) != tc.code || header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
		if strings.Contains(body, "INITIATED") {
			t.Errorf("%s: the refusal shows the session: %s", tc.name, body)
		}
	}
	// The token given for an expired session (one a recovery continues:
	// the retrieve answers it) opens nothing from the start.
	parent := handlertest.MugSession(t, srv.Store, srv.Merchant, nil)
	handlertest.TransitionTo(t, srv, parent.ID, store.Transition{Action: store.ActionExpire, Source: "api"})
	if _, err := srv.Store.Recover(ctx, parent.ID); err != nil {
		t.Fatal(err)
	}
	if status, _, body := hcpGet(t, srv.URL, parent.ID, token(parent.ID)); status != 401 || hcpCode(t, body) != "TOKEN_EXPIRED" {
		t.Errorf("a token given for an expired session: %d %s", status, body)
	}
}

// withToken is a /pay/{id}/session answer with an hcpToken added, to check
// it as the retrieve's.
func withToken(t *testing.T, body string) []byte {
	t.Helper()
	var v map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil || v["data"] == nil {
		t.Fatalf("%v: %s", err, body)
	}
	v["data"]["hcpToken"] = "x"
	b, _ := json.Marshal(v)
	return b
}

// laterExpiry is token with its expiry a day later and its signature kept.
func laterExpiry(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if len(parts) != 3 || err != nil {
		t.Fatalf("a token of another shape: %q", token)
	}
	parts[1] = strconv.FormatInt(exp+86400, 10)
	return strings.Join(parts, ".")
}

// A token is short-lived and expires with its session, by the clock
// paypage decides expiry with: an hour at most, and never past the
// session's expires_at, even for a paid session that stays readable to
// its merchant.
func TestSeed003TokenExpiresByTheClock(t *testing.T) {
	t.Parallel()
	in := handlertest.StartInstance(t, storetest.SQLiteURL(t), time.Second)
	now := time.Now().Unix()
	in.Frozen.Store(now)
	m, keys := handlertest.Merchant(t, in.Store)
	srv := &handlertest.Server{URL: in.URL, Store: in.Store, Merchant: m, Keys: keys}
	client := seed003.New(in.URL, m.ID, keys.Test)
	ctx := context.Background()

	day := handlertest.MugSession(t, in.Store, m, nil)
	handlertest.TransitionTo(t, srv, day.ID, store.Transition{Action: store.ActionSucceed, Source: "api"})
	short := handlertest.MugSession(t, in.Store, m, func(p *store.SessionParams) { p.ExpiresAt = now + 600 })
	tokens := map[string]string{}
	for _, id := range []string{day.ID, short.ID} {
		got, _, err := client.Retrieve(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		tokens[id] = got.Data.HcpToken
	}
	for _, tc := range []struct {
		name   string
		at     int64
		id     string
		status int
	}{
		{"a paid session, just before the hour", now + 3599, day.ID, 200},
		{"a paid session, after the hour", now + 3600, day.ID, 401},
		{"a ten-minute session, just before its expiry", now + 599, short.ID, 200},
		{"a ten-minute session, at its expiry", now + 600, short.ID, 401},
	} {
		in.Frozen.Store(tc.at)
		if status, _, body := hcpGet(t, in.URL, tc.id, tokens[tc.id]); status != tc.status || (status == 401 && hcpCode(t, body) != "TOKEN_EXPIRED") {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
	}
	// The merchant still reads the paid session, with a fresh token.
	in.Frozen.Store(now + 3600)
	got, _, err := client.Retrieve(ctx, day.ID)
	if err != nil || got.Data.CheckoutSession.CheckoutSessionStatus != "COMPLETED" {
		t.Fatalf("the paid session: %+v %v", got, err)
	}
	if status, _, body := hcpGet(t, in.URL, day.ID, got.Data.HcpToken); status != 200 {
		t.Errorf("a fresh token: %d %s", status, body)
	}
}
