package seed003_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/seedclients/internal/conform"
	"github.com/paypage/paypage/handlers/seedclients/seed003"
)

// sample is the document's "Sample Success Response", adapted only where it
// is not JSON: its // comments are replaced by small objects, and the status
// placeholder "INITIATED|COMPLETED|FAILED|CANCELED" by one of its values.
// The document shows appearance "only included if init=true" and says
// init=true also adds cardCategories, which the sample does not show; it is
// added next to appearance (its shape is undocumented). So sample is the
// init=true answer and sampleDefault the same without those two.
const sample = `{
"data": {
"checkoutSession": {
"id": "checkout-session-uuid",
"checkoutSessionStatus": "INITIATED",
"createdAt": "2023-01-01T12:00:00Z",
"expiresAt": "2023-01-01T13:00:00Z",
"paymentMethod": {
"type": "CARD"
},
"childSession": {
"id": "child-session-uuid"
},
"appearance": {
"theme": "light"
},
"cardCategories": ["CREDIT", "DEBIT"]
},
"hcpToken": "token-value"
}
}`

func sampleDefault(t *testing.T) []byte {
	return mutate(t, sample, func(cs map[string]any) {
		delete(cs, "appearance")
		delete(cs, "cardCategories")
	})
}

const (
	merchant = "merchant-1"
	secret   = "sk_003"
)

type recorder struct{ rawQuery string }

func server(t *testing.T, rec *recorder) *httptest.Server {
	t.Helper()
	def := sampleDefault(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		rec.rawQuery = r.URL.RawQuery
		if r.Header.Get("X-Merchant-Id") != merchant || r.Header.Get("Authorization") != "Bearer "+secret {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":"FORBIDDEN","message":"merchant not authorised"}}`))
			return
		}
		answers := map[string]struct {
			status int
			body   string
		}{
			"/v1/checkout-sessions/expired-session":  {401, `{"message":"session expired"}`},
			"/v1/checkout-sessions/canceled-session": {410, `{"errors":[{"message":"session canceled"}]}`},
			"/v1/checkout-sessions/bad%20id":         {400, `{"detail":"invalid session id"}`},
			"/v1/checkout-sessions/teapot":           {418, `I'm a teapot`},
		}
		if a, ok := answers[r.URL.EscapedPath()]; ok {
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(a.body))
			return
		}
		if r.URL.EscapedPath() != "/v1/checkout-sessions/checkout-session-uuid" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"session not found"}`))
			return
		}
		if r.URL.Query().Get("init") == "true" {
			_, _ = w.Write([]byte(sample))
			return
		}
		_, _ = w.Write(def)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetrieve(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec)
	cl := seed003.New(srv.URL, merchant, secret)
	cases := []struct {
		name           string
		opts           []seed003.Option
		wantQuery      string
		wantAppearance bool
		check          func([]byte) []string
	}{
		{"default", nil, "", false, seed003.Check},
		{"init=false sends nothing", []seed003.Option{seed003.Init(false)}, "", false, seed003.Check},
		{"init=true", []seed003.Option{seed003.Init(true)}, "init=true", true, seed003.CheckInit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, raw, err := cl.Retrieve(context.Background(), "checkout-session-uuid", c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if rec.rawQuery != c.wantQuery {
				t.Errorf("query = %q, want %q", rec.rawQuery, c.wantQuery)
			}
			s := r.Data.CheckoutSession
			got := []any{s.ID, s.CheckoutSessionStatus, s.CreatedAt, s.ExpiresAt, r.Data.HcpToken, s.ChildSessionID(), s.Appearance != nil, s.CardCategories != nil, s.Expired == nil}
			want := []any{"checkout-session-uuid", "INITIATED", time.Date(2023, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 13, 0, 0, 0, time.UTC), "token-value", "child-session-uuid", c.wantAppearance, c.wantAppearance, true}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("field %d = %v, want %v", i, got[i], want[i])
				}
			}
			if v := c.check(raw); len(v) != 0 {
				t.Errorf("check = %q, want none", v)
			}
		})
	}
}

func TestRetrieveErrors(t *testing.T) {
	srv := server(t, &recorder{})
	cases := []struct {
		name             string
		merchant, secret string
		id               string
		wantStatus       int
		wantIs           error
		wantMsg          string
	}{
		{"unknown session", merchant, secret, "nope", 404, seed003.ErrNotFound, "session not found"},
		{"expired session", merchant, secret, "expired-session", 401, seed003.ErrExpired, "session expired"},
		{"merchant not authorised", "merchant-2", secret, "checkout-session-uuid", 403, seed003.ErrForbidden, "merchant not authorised"},
		{"merchant id without the secret key", merchant, "", "checkout-session-uuid", 403, seed003.ErrForbidden, "merchant not authorised"},
		{"canceled session", merchant, secret, "canceled-session", 410, seed003.ErrCanceled, "session canceled"},
		{"validation error", merchant, secret, "bad id", 400, seed003.ErrValidation, "invalid session id"},
		{"undocumented status", merchant, secret, "teapot", 418, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, raw, err := seed003.New(srv.URL, c.merchant, c.secret).Retrieve(context.Background(), c.id)
			var e seed003.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want seed003.Error", err)
			}
			if r != nil || e.Status != c.wantStatus || e.Message != c.wantMsg || string(e.Body) != string(raw) {
				t.Errorf("got %d %q, want %d %q", e.Status, e.Message, c.wantStatus, c.wantMsg)
			}
			for _, s := range []error{seed003.ErrNotFound, seed003.ErrExpired, seed003.ErrForbidden, seed003.ErrCanceled, seed003.ErrValidation} {
				if errors.Is(err, s) != (s == c.wantIs) {
					t.Errorf("errors.Is(err, %v) = %v", s, errors.Is(err, s))
				}
			}
		})
	}
}

// mutate applies f to data.checkoutSession of body.
func mutate(t *testing.T, body string, f func(cs map[string]any)) []byte {
	t.Helper()
	v, err := conform.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := conform.Get(v, "data", "checkoutSession")
	f(cs.(map[string]any))
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	def := string(sampleDefault(t))
	cases := []struct {
		name   string
		body   string
		init   bool
		mutate func(cs map[string]any)
		want   []string
	}{
		{"conforms", def, false, func(map[string]any) {}, nil},
		{"conforms with init", sample, true, func(map[string]any) {}, nil},
		{"no payment method or child session", def, false, func(cs map[string]any) {
			delete(cs, "paymentMethod")
			cs["childSession"] = nil
		}, nil},
		{"expired flag on INITIATED", def, false, func(cs map[string]any) { cs["expired"] = true }, nil},
		{"fractional seconds and offset", def, false, func(cs map[string]any) { cs["createdAt"] = "2023-01-01T13:00:00.123+01:00" }, nil},
		{"extra property is fine", def, false, func(cs map[string]any) { cs["amount"] = json.Number("100") }, nil},
		{"status outside the set", def, false, func(cs map[string]any) { cs["checkoutSessionStatus"] = "EXPIRED" },
			[]string{`$.data.checkoutSession.checkoutSessionStatus: "EXPIRED" is not one of INITIATED|COMPLETED|FAILED|CANCELED`}},
		{"lower-case status", def, false, func(cs map[string]any) { cs["checkoutSessionStatus"] = "completed" },
			[]string{`"completed" is not one of`}},
		{"snake_case instead of camelCase", def, false, func(cs map[string]any) {
			cs["created_at"] = cs["createdAt"]
			delete(cs, "createdAt")
		}, []string{`$.data.checkoutSession.createdAt: required property is missing`}},
		{"unix time", def, false, func(cs map[string]any) { cs["expiresAt"] = json.Number("1672578000") },
			[]string{`$.data.checkoutSession.expiresAt: want string, got integer`}},
		{"time without zone", def, false, func(cs map[string]any) { cs["expiresAt"] = "2023-01-01T13:00:00" },
			[]string{`$.data.checkoutSession.expiresAt: string "2023-01-01T13:00:00" is not an ISO 8601 date-time with zone designator`}},
		{"payment method as string", def, false, func(cs map[string]any) { cs["paymentMethod"] = "CARD" },
			[]string{`$.data.checkoutSession.paymentMethod: want object, got string`}},
		{"child session without its id", def, false, func(cs map[string]any) { cs["childSession"] = map[string]any{} },
			[]string{`$.data.checkoutSession.childSession.id: required property is missing`}},
		{"appearance without init", def, false, func(cs map[string]any) { cs["appearance"] = map[string]any{} },
			[]string{`$.data.checkoutSession.appearance: present without init=true`}},
		{"init answer lacks cardCategories", sample, true, func(cs map[string]any) { delete(cs, "cardCategories") },
			[]string{`$.data.checkoutSession.cardCategories: required property is missing`}},
		{"expired flag on COMPLETED", def, false, func(cs map[string]any) {
			cs["expired"] = true
			cs["checkoutSessionStatus"] = "COMPLETED"
		}, []string{`$.data.checkoutSession.expired: true on a COMPLETED session`}},
		{"expired flag as string", def, false, func(cs map[string]any) { cs["expired"] = "true" },
			[]string{`$.data.checkoutSession.expired: want boolean, got string`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := seed003.Check
			if c.init {
				check = seed003.CheckInit
			}
			assertViolations(t, check(mutate(t, c.body, c.mutate)), c.want)
		})
	}
	envelope := []struct {
		name string
		body string
		want []string
	}{
		{"bare session, no envelope", `{"id":"x","checkoutSessionStatus":"INITIATED"}`, []string{`$.data: required property is missing`}},
		{"no hcpToken", `{"data":{"checkoutSession":{"id":"x","checkoutSessionStatus":"INITIATED","createdAt":"2023-01-01T12:00:00Z","expiresAt":"2023-01-01T13:00:00Z"}}}`,
			[]string{`$.data.hcpToken: required property is missing`}},
		{"empty hcpToken", `{"data":{"hcpToken":"","checkoutSession":{"id":"x","checkoutSessionStatus":"INITIATED","createdAt":"2023-01-01T12:00:00Z","expiresAt":"2023-01-01T13:00:00Z"}}}`,
			[]string{`$.data.hcpToken: is empty`}},
	}
	for _, c := range envelope {
		t.Run(c.name, func(t *testing.T) { assertViolations(t, seed003.Check([]byte(c.body)), c.want) })
	}
}

func assertViolations(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("violations = %q, want %d matching %q", got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("violation %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}
