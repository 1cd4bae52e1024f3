package seed000_test

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
	"github.com/paypage/paypage/handlers/seedclients/seed000"
)

// The document has no example response, only its list of properties; this
// fixture has every property it lists (names per issue 11), with values of
// the types the descriptions imply.
const example = `{
  "id": "123e4567-e89b-12d3-a456-426614174000",
  "checkout_session_status": "completed",
  "payment_status": "paid",
  "contract": {"currency": "USD", "is_plan_based": true, "plan_id": "plan_1"},
  "guest_checkout": false,
  "contract_id": "ctr_1",
  "execution_id": "exe_1",
  "confirmed_at": "2024-01-15T11:10:00Z",
  "paid_at": "2024-01-15T11:12:00.250Z",
  "payment_intent_id": "pi_1",
  "estimates": {
    "estimation_id": "est_1",
    "current_invoice": {"total": 29.99},
    "future_invoices": [],
    "amount_due": 29.99,
    "credit_notes": []
  },
  "customer_id": "cus_1",
  "business_entity_id": "be_1",
  "customer_data": {"name": "Acme Inc."},
  "expires_at": "2024-01-16T11:00:00+00:00",
  "last_activity_at": "2024-01-15T11:12:00Z",
  "completed_at": "2024-01-15T11:12:00Z",
  "created_at": "2024-01-15T11:00:00",
  "updated_at": "2024-01-15T11:12:00Z",
  "idempotency_key": "idem_1",
  "correlation_id": "corr_1",
  "currency": "USD",
  "display_currency": "USD",
  "success_url": "https://merchant.example/success",
  "cancel_url": "https://merchant.example/cancel",
  "pending_url": null,
  "attribution": {"utm_source": "newsletter", "utm_medium": "email"},
  "metadata": {"order": "42"}
}`

const (
	key = "sk_test_000"
	org = "org_000"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("x-api-key") != key || r.Header.Get("organisation") != org {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"invalid credentials"}`))
			return
		}
		switch r.URL.EscapedPath() {
		case "/checkout/123e4567-e89b-12d3-a456-426614174000":
			_, _ = w.Write([]byte(example))
		case "/checkout/boom":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`not json`))
		case "/checkout/garbled":
			_, _ = w.Write([]byte(`{"id":`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"checkout session not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetrieve(t *testing.T) {
	srv := server(t)
	s, raw, err := seed000.New(srv.URL+"/", key, org).Retrieve(context.Background(), "123e4567-e89b-12d3-a456-426614174000")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != example {
		t.Errorf("raw body not returned verbatim")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", s.ID, "123e4567-e89b-12d3-a456-426614174000"},
		{"checkout_session_status", s.CheckoutSessionStatus, "completed"},
		{"payment_status", s.PaymentStatus, "paid"},
		{"guest_checkout", s.GuestCheckout, false},
		{"contract_id", *s.ContractID, "ctr_1"},
		{"estimates.amount_due", s.Estimates.AmountDue.String(), "29.99"},
		{"paid_at", s.PaidAt.Time, time.Date(2024, 1, 15, 11, 12, 0, 250e6, time.UTC)},
		{"expires_at", s.ExpiresAt.Time.Equal(time.Date(2024, 1, 16, 11, 0, 0, 0, time.UTC)), true},
		{"created_at (no zone read as UTC)", s.CreatedAt.Time, time.Date(2024, 1, 15, 11, 0, 0, 0, time.UTC)},
		{"pending_url", s.PendingURL == nil, true},
		{"display_currency", *s.DisplayCurrency, "USD"},
		{"metadata.order", s.Metadata["order"], "42"},
		{"attribution.utm_source", s.Attribution["utm_source"], "newsletter"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if v := seed000.Check(raw); len(v) != 0 {
		t.Errorf("Check(example) = %q, want no violations", v)
	}
}

func TestRetrieveErrors(t *testing.T) {
	srv := server(t)
	cases := []struct {
		name       string
		key, org   string
		id         string
		wantStatus int
		wantMsg    string
	}{
		{"unknown id", key, org, "cs_missing", 404, "checkout session not found"},
		{"wrong key", "sk_wrong", org, "123e4567-e89b-12d3-a456-426614174000", 401, "invalid credentials"},
		{"organisation mismatch", key, "org_other", "123e4567-e89b-12d3-a456-426614174000", 401, "invalid credentials"},
		{"non-JSON error body", key, org, "boom", 500, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, raw, err := seed000.New(srv.URL, c.key, c.org).Retrieve(context.Background(), c.id)
			var e seed000.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want seed000.Error", err)
			}
			if s != nil || e.Status != c.wantStatus || e.Message != c.wantMsg || string(e.Body) != string(raw) {
				t.Errorf("got session=%v status=%d message=%q, want nil %d %q", s, e.Status, e.Message, c.wantStatus, c.wantMsg)
			}
		})
	}
	t.Run("undecodable 200", func(t *testing.T) {
		_, raw, err := seed000.New(srv.URL, key, org).Retrieve(context.Background(), "garbled")
		var e seed000.Error
		if err == nil || errors.As(err, &e) || string(raw) != `{"id":` {
			t.Errorf("err = %v raw = %q, want a decode error and the raw body", err, raw)
		}
	})
}

func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	v, err := conform.Decode([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	f(v.(map[string]any))
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string // substrings of the violations, one each; nil = conforms
	}{
		{"conforms", func(map[string]any) {}, nil},
		{"every status of the set", func(m map[string]any) { m["checkout_session_status"] = "cancelled" }, nil},
		{"nullable properties null", func(m map[string]any) {
			for _, k := range []string{"contract_id", "execution_id", "confirmed_at", "paid_at", "payment_intent_id", "estimates",
				"customer_id", "business_entity_id", "customer_data", "last_activity_at", "completed_at", "idempotency_key",
				"correlation_id", "display_currency", "success_url", "cancel_url", "pending_url", "attribution", "metadata"} {
				m[k] = nil
			}
		}, nil},
		{"extra property is fine", func(m map[string]any) { m["utm"] = map[string]any{"utm_source": "x"} }, nil},
		{"offset time is fine", func(m map[string]any) { m["updated_at"] = "2024-01-15T12:12:00+01:00" }, nil},
		{"status outside the set", func(m map[string]any) { m["checkout_session_status"] = "expired" },
			[]string{`$.checkout_session_status: "expired" is not one of open|processing|completed|closed|cancelled`}},
		{"payment status outside the set", func(m map[string]any) { m["payment_status"] = "unpaid" },
			[]string{`$.payment_status: "unpaid" is not one of`}},
		{"wrong type", func(m map[string]any) { m["guest_checkout"] = "false" },
			[]string{`$.guest_checkout: want boolean, got string`}},
		{"missing property", func(m map[string]any) { delete(m, "execution_id") },
			[]string{`$.execution_id: required property is missing`}},
		{"attribution not an object", func(m map[string]any) { m["attribution"] = "utm_source=newsletter" },
			[]string{`$.attribution: want object, got string`}},
		{"missing estimates member", func(m map[string]any) { delete(m["estimates"].(map[string]any), "credit_notes") },
			[]string{`$.estimates.credit_notes: required property is missing`}},
		{"unix time instead of ISO 8601", func(m map[string]any) { m["created_at"] = json.Number("1705316400") },
			[]string{`$.created_at: want string, got integer`}},
		{"non-ISO time string", func(m map[string]any) { m["paid_at"] = "15/01/2024 11:12" },
			[]string{`$.paid_at: string "15/01/2024 11:12" is not an ISO 8601 date-time`}},
		{"impossible date", func(m map[string]any) { m["expires_at"] = "2024-02-30T00:00:00Z" },
			[]string{`$.expires_at: string "2024-02-30T00:00:00Z" is not an ISO 8601 date-time`}},
		{"lower-case currency", func(m map[string]any) { m["display_currency"] = "usd" },
			[]string{`$.display_currency: string "usd" is not an upper-case ISO 4217 code`}},
		{"non-null required null", func(m map[string]any) { m["created_at"] = nil },
			[]string{`$.created_at: is null, want string`}},
		{"not an object", func(m map[string]any) { m["contract"] = []any{} },
			[]string{`$.contract: want object, got array`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := seed000.Check(mutate(t, c.mutate))
			assertViolations(t, got, c.want)
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		assertViolations(t, seed000.Check([]byte(`<html>`)), []string{"$: not valid JSON"})
	})
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
