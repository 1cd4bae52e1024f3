package seed002_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/seedclients/internal/conform"
	"github.com/paypage/paypage/handlers/seedclients/seed002"
)

// example is the document's response example, verbatim (it is valid JSON).
const example = `{
  "id": "21210021c2855007efa2d657018",
  "currency": {
    "iso": "usd",
    "scale": 2
  },
  "description": null,
  "mode": "payment",
  "ui_mode": "hosted",
  "amount_total": 100,
  "url": "https://www.example.com",
  "cancel_url": null,
  "success_url": null,
  "return_url": null,
  "payment_method_types": [
    "string"
  ],
  "submit_type": "auto",
  "wallet_options": {
    "apple_pay": {
      "display": "auto"
    },
    "google_pay": {
      "display": "auto"
    }
  },
  "client_reference_id": null,
  "client_customer_id": null,
  "expires_at": null,
  "line_items": [
    {
      "quantity": 2,
      "price_data": {
        "active": true,
        "billing_scheme": "per_unit",
        "created": 1,
        "currency": "string",
        "livemode": true,
        "lookup_key": null,
        "product": "01K755J9SV2364REVHB915Z2FW",
        "product_data": {
          "active": true,
          "name": "string",
          "description": "string",
          "unit_label": "string",
          "id": "string"
        },
        "recurring": {
          "interval": "day",
          "interval_count": 1,
          "meter": null,
          "usage_type": "licensed"
        },
        "type": "one_time",
        "unit_amount": null,
        "unit_amount_decimal": null,
        "id": "string"
      },
      "metadata": {
        "additionalProperty": "string"
      }
    }
  ],
  "saved_payment_method_options": {
    "payment_method_save": "disabled"
  },
  "metadata": {
    "additionalProperty": "string"
  },
  "after_completion": {
    "type": "redirect",
    "redirect": {
      "url": "https://example.com"
    },
    "hosted": {
      "custom_message": "string"
    }
  },
  "locale": null,
  "customer": "01K755J9SV2364REVHB915Z2FW",
  "customer_email": null,
  "customer_creation": "always",
  "payment_intent": "01K755J9SY55CS04SQ3JX1NX36",
  "setup_intent": "01K755J9SY55CS04SQ3JX1NX36",
  "payment_link": "01K755J9SV2364REVHB915Z2FW",
  "payment_status": "no_payment_required",
  "status": "complete",
  "next_action": {
    "redirect_to_url": {
      "return_url": null,
      "url": null
    },
    "type": "string",
    "three_d_secure": {
      "flow": "frictionless",
      "status_url": "https://api.yourco.com/v1/payment_intents/pi_123",
      "return_url": null,
      "message": {
        "allowed_origins": [
          "https://merchant.example.com"
        ]
      },
      "hint": {
        "scheme": "visa",
        "version": "2.2.0"
      },
      "idempotency_key": "string"
    }
  },
  "livemode": true,
  "billing_address_collection": "auto"
}`

const (
	token = "YOUR_SECRET_TOKEN"
	id    = "21210021c2855007efa2d657018"
)

// expandedExample is example with payment_intent expanded to an object.
func expandedExample() []byte {
	return []byte(strings.Replace(example, `"payment_intent": "01K755J9SY55CS04SQ3JX1NX36"`,
		`"payment_intent": {"id": "01K755J9SY55CS04SQ3JX1NX36", "status": "succeeded"}`, 1))
}

type recorder struct{ rawQuery string }

func server(t *testing.T, rec *recorder) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		rec.rawQuery = r.URL.RawQuery
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"type":"authentication_error","message":"invalid token"}}`))
			return
		}
		switch r.URL.EscapedPath() {
		case "/v1/checkouts/" + id:
			expand := strings.Join(r.URL.Query()["expand"], ",")
			if strings.Contains(expand, "payment_intent") {
				_, _ = w.Write(expandedExample())
				return
			}
			_, _ = w.Write([]byte(example))
		case "/v1/checkouts/bad-request":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"id too long"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"no such checkout"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetrieve(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec)
	cl := seed002.New(srv.URL, token)
	cases := []struct {
		name          string
		opts          []seed002.Option
		wantQuery     string
		wantPIObject  bool
		wantCheckFail bool // plain Check (no expand) must reject an expanded reference
	}{
		{"no expand: as the document's curl", nil, "expand=", false, false},
		{"expand, repeated", []seed002.Option{seed002.Expand("line_items", "customer")}, "expand=line_items&expand=customer", false, false},
		{"expand payment_intent", []seed002.Option{seed002.Expand("payment_intent")}, "expand=payment_intent", true, true},
		{"expand, comma list", []seed002.Option{seed002.ExpandCommaList("customer", "payment_intent")}, "expand=customer,payment_intent", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, raw, err := cl.Retrieve(context.Background(), id, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if rec.rawQuery != c.wantQuery {
				t.Errorf("query = %q, want %q", rec.rawQuery, c.wantQuery)
			}
			if s.PaymentIntent == nil || s.PaymentIntent.ID != "01K755J9SY55CS04SQ3JX1NX36" || (s.PaymentIntent.Object != nil) != c.wantPIObject {
				t.Errorf("payment_intent = %+v, want id and object=%v", s.PaymentIntent, c.wantPIObject)
			}
			if v := seed002.CheckExpanded(raw, "customer,payment_intent"); len(v) != 0 {
				t.Errorf("CheckExpanded = %q, want none", v)
			}
			if v := seed002.Check(raw); (len(v) != 0) != c.wantCheckFail {
				t.Errorf("Check = %q, want failure=%v", v, c.wantCheckFail)
			}
		})
	}

	s, _, err := cl.Retrieve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	li := s.LineItems[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"currency.iso", s.Currency.ISO, "usd"},
		{"currency.scale", s.Currency.Scale, 2},
		{"amount_total", s.AmountTotal, int64(100)},
		{"description null", s.Description == nil, true},
		{"expires_at null", s.ExpiresAt == nil, true},
		{"status", s.Status, "complete"},
		{"payment_status", s.PaymentStatus, "no_payment_required"},
		{"wallet apple_pay", s.WalletOptions.ApplePay.Display, "auto"},
		{"line item quantity", li.Quantity, int64(2)},
		{"line item metadata", li.Metadata["additionalProperty"], "string"},
		{"product unit_label", *li.PriceData.ProductData.UnitLabel, "string"},
		{"recurring interval_count", li.PriceData.Recurring.IntervalCount, int64(1)},
		{"lookup_key null", li.PriceData.LookupKey == nil, true},
		{"after_completion redirect", s.AfterCompletion.Redirect.URL, "https://example.com"},
		{"3ds flow", s.NextAction.ThreeDSecure.Flow, "frictionless"},
		{"3ds hint version", s.NextAction.ThreeDSecure.Hint.Version, "2.2.0"},
		{"3ds allowed origins", s.NextAction.ThreeDSecure.Message.AllowedOrigins[0], "https://merchant.example.com"},
		{"customer", s.Customer.ID, "01K755J9SV2364REVHB915Z2FW"},
		{"billing_address_collection", s.BillingAddressCollection, "auto"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRetrieveErrors(t *testing.T) {
	srv := server(t, &recorder{})
	cases := []struct {
		name, token, id string
		wantStatus      int
		wantMsg         string
	}{
		{"unknown id", token, "nope", 404, "no such checkout"},
		{"bad token", "wrong", id, 401, "invalid token"},
		{"validation", token, "bad-request", 400, "id too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, raw, err := seed002.New(srv.URL, c.token).Retrieve(context.Background(), c.id)
			var e seed002.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want seed002.Error", err)
			}
			if e.Status != c.wantStatus || e.Message != c.wantMsg || string(e.Body) != string(raw) {
				t.Errorf("got %d %q, want %d %q", e.Status, e.Message, c.wantStatus, c.wantMsg)
			}
		})
	}
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

func priceData(m map[string]any) map[string]any {
	return m["line_items"].([]any)[0].(map[string]any)["price_data"].(map[string]any)
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"document example conforms", func(map[string]any) {}, nil},
		{"optional objects and references null", func(m map[string]any) {
			for _, k := range []string{"wallet_options", "saved_payment_method_options", "after_completion", "next_action",
				"customer", "payment_intent", "setup_intent", "payment_link"} {
				m[k] = nil
			}
			priceData(m)["recurring"] = nil
		}, nil},
		{"expires_at as unix int", func(m map[string]any) { m["expires_at"] = json.Number("1705320000") }, nil},
		{"extra property is fine", func(m map[string]any) { m["object"] = "checkout" }, nil},
		{"missing property", func(m map[string]any) { delete(m, "client_customer_id") },
			[]string{`$.client_customer_id: required property is missing`}},
		{"missing nested property", func(m map[string]any) {
			delete(priceData(m)["product_data"].(map[string]any), "unit_label")
		}, []string{`$.line_items[0].price_data.product_data.unit_label: required property is missing`}},
		{"missing 3-D Secure hint member", func(m map[string]any) {
			delete(m["next_action"].(map[string]any)["three_d_secure"].(map[string]any)["hint"].(map[string]any), "scheme")
		}, []string{`$.next_action.three_d_secure.hint.scheme: required property is missing`}},
		{"currency as a bare string", func(m map[string]any) { m["currency"] = "usd" },
			[]string{`$.currency: want object, got string`}},
		{"upper-case currency iso", func(m map[string]any) { m["currency"].(map[string]any)["iso"] = "USD" },
			[]string{`$.currency.iso: string "USD" is not a lower-case three-letter ISO 4217 code`}},
		{"scale as string", func(m map[string]any) { m["currency"].(map[string]any)["scale"] = "2" },
			[]string{`$.currency.scale: want integer, got string`}},
		{"ISO time instead of unix int", func(m map[string]any) { m["expires_at"] = "2024-01-15T12:00:00Z" },
			[]string{`$.expires_at: want integer, got string`}},
		{"milliseconds timestamp", func(m map[string]any) { priceData(m)["created"] = json.Number("1705320000000") },
			[]string{`$.line_items[0].price_data.created: integer 1705320000000 is not a unix timestamp in seconds`}},
		{"metadata value not a string", func(m map[string]any) { m["metadata"] = map[string]any{"n": json.Number("1")} },
			[]string{`$.metadata.n: want string, got integer`}},
		{"line_items null", func(m map[string]any) { m["line_items"] = nil },
			[]string{`$.line_items: is null, want array`}},
		{"livemode as string", func(m map[string]any) { m["livemode"] = "true" },
			[]string{`$.livemode: want boolean, got string`}},
		{"unexpanded reference as object", func(m map[string]any) { m["customer"] = map[string]any{"id": "cus_1"} },
			[]string{`$.customer: want string, got object`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertViolations(t, seed002.Check(mutate(t, c.mutate)), c.want)
		})
	}
	t.Run("expanded reference without id", func(t *testing.T) {
		raw := mutate(t, func(m map[string]any) { m["customer"] = map[string]any{"name": "x"} })
		assertViolations(t, seed002.CheckExpanded(raw, "customer"),
			[]string{`$.customer: object is not an id string or an expanded object with an id`})
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
