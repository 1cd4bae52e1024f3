package seed001_test

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
	"github.com/paypage/paypage/handlers/seedclients/seed001"
)

// exampleVerbatim is the document's "Example JSON Response" with one
// adaptation: the document omits the comma after `"metadata": null`, which
// makes it invalid JSON; the comma is added here. Nothing else is changed.
const exampleVerbatim = `{
	"id": "AW-kLcRRC5P8U68CYe0kVA",
	"amount_total": 1000,
	"amount_sub_total": 1000,
	"currency": "usd",
	"cancel_url": "",
	"customer_firstname": "John",
	"customer_lastname": "Doe",
	"customer_email": "john@example.com",
	"expire_at": null,
	"success_url": "",
	"payment_method_types": ["blik"],
	"locale": "",
	"url": "https://{provided url}/pay/2AW-kLcRRC5P8U68CYe0kVA",
	"fees": null,
	"metadata": null,
	"status": "open",
	"livemode": false
}`

// conforming is the example completed with what the table promises and the
// example leaves out (amount_subtotal, expires_at, customer_ip, created_at),
// with a real host in url and the id the url and the curl example use.
const conforming = `{
	"id": "2AW-kLcRRC5P8U68CYe0kVA",
	"amount_total": 1000,
	"amount_subtotal": 1000,
	"amount_sub_total": 1000,
	"currency": "usd",
	"cancel_url": "",
	"customer_firstname": "John",
	"customer_lastname": "Doe",
	"customer_email": "john@example.com",
	"customer_ip": "203.0.113.7",
	"expires_at": 1705320000,
	"expire_at": 1705320000,
	"created_at": 1705316400,
	"success_url": "",
	"payment_method_types": ["blik"],
	"locale": "",
	"url": "https://pay.example.com/pay/2AW-kLcRRC5P8U68CYe0kVA",
	"fees": null,
	"metadata": null,
	"status": "open",
	"livemode": false
}`

const secret = "sk_test_BQokikJOvBiI2HlWgH4olfQ2"

func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodGet || !ok || user != secret || pass != "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`))
			return
		}
		switch r.URL.EscapedPath() {
		case "/v1/checkout/sessions/AW-kLcRRC5P8U68CYe0kVA":
			_, _ = w.Write([]byte(exampleVerbatim))
		case "/v1/checkout/sessions/2AW-kLcRRC5P8U68CYe0kVA":
			_, _ = w.Write([]byte(conforming))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"No such checkout session"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetrieve(t *testing.T) {
	srv := server(t)
	cl := seed001.New(srv.URL, secret)

	ex, raw, err := cl.Retrieve(context.Background(), "AW-kLcRRC5P8U68CYe0kVA")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != exampleVerbatim {
		t.Error("raw body not returned verbatim")
	}
	sub, okSub := ex.AmountSubtotalValue()
	_, okExp := ex.ExpiresAtValue()
	exChecks := []struct {
		name      string
		got, want any
	}{
		{"id", ex.ID, "AW-kLcRRC5P8U68CYe0kVA"},
		{"amount_total", ex.AmountTotal, int64(1000)},
		{"subtotal via amount_sub_total", sub, int64(1000)},
		{"subtotal found", okSub, true},
		{"expire_at null", okExp, false},
		{"currency", ex.Currency, "usd"},
		{"payment_method_types", strings.Join(ex.PaymentMethodTypes, ","), "blik"},
		{"fees null", ex.Fees == nil, true},
		{"metadata null", ex.Metadata == nil, true},
		{"status", ex.Status, "open"},
		{"url", ex.URL, "https://{provided url}/pay/2AW-kLcRRC5P8U68CYe0kVA"},
	}
	for _, c := range exChecks {
		if c.got != c.want {
			t.Errorf("example %s = %v, want %v", c.name, c.got, c.want)
		}
	}

	s, raw, err := cl.Retrieve(context.Background(), "2AW-kLcRRC5P8U68CYe0kVA")
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := s.ExpiresAtValue()
	if s.CustomerIP != "203.0.113.7" || !s.Created().Equal(time.Unix(1705316400, 0)) || !exp.Equal(time.Unix(1705320000, 0)) {
		t.Errorf("conforming session decoded wrong: %+v", s)
	}
	if v := seed001.Check(raw); len(v) != 0 {
		t.Errorf("Check(conforming) = %q, want none", v)
	}
}

// The document's own example does not carry what its table promises; Check
// names exactly those gaps.
func TestCheckDocumentExample(t *testing.T) {
	assertViolations(t, seed001.Check([]byte(exampleVerbatim)), []string{
		"$.amount_subtotal: required property is missing",
		"$.customer_ip: required property is missing",
		"$.expires_at: required property is missing",
		"$.created_at: required property is missing",
		`$.url: "https://{provided url}/pay/2AW-kLcRRC5P8U68CYe0kVA" is not an absolute URL`,
	})
}

func TestRetrieveErrors(t *testing.T) {
	srv := server(t)
	cases := []struct {
		name       string
		key, id    string
		wantStatus int
		wantMsg    string
	}{
		{"unknown id", secret, "cs_nope", 404, "No such checkout session"},
		{"wrong key", "sk_test_wrong", "2AW-kLcRRC5P8U68CYe0kVA", 401, "Invalid API Key provided"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, raw, err := seed001.New(srv.URL, c.key).Retrieve(context.Background(), c.id)
			var e seed001.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want seed001.Error", err)
			}
			if e.Status != c.wantStatus || e.Message != c.wantMsg || string(e.Body) != string(raw) {
				t.Errorf("got %d %q, want %d %q", e.Status, e.Message, c.wantStatus, c.wantMsg)
			}
		})
	}
}

func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	v, err := conform.Decode([]byte(conforming))
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
		want   []string
	}{
		{"conforms", func(map[string]any) {}, nil},
		{"expiry null under both names", func(m map[string]any) { m["expires_at"], m["expire_at"] = nil, nil }, nil},
		{"metadata and fees populated", func(m map[string]any) {
			m["metadata"] = map[string]any{"order": "42"}
			m["fees"] = []any{map[string]any{"amount": json.Number("50")}}
		}, nil},
		{"locale tag", func(m map[string]any) { m["locale"] = "pl-PL" }, nil},
		{"extra property is fine", func(m map[string]any) { m["object"] = "checkout.session" }, nil},
		{"status outside the set", func(m map[string]any) { m["status"] = "complete" },
			[]string{`$.status: "complete" is not one of open|pending|expired|completed`}},
		{"payment method outside the set", func(m map[string]any) { m["payment_method_types"] = []any{"card"} },
			[]string{`$.payment_method_types[0]: "card" is not one of blik`}},
		{"amount as string", func(m map[string]any) { m["amount_total"] = "1000" },
			[]string{`$.amount_total: want integer, got string`}},
		{"amount with fraction", func(m map[string]any) { m["amount_total"] = json.Number("10.00") },
			[]string{`$.amount_total: want integer, got number 10.00`}},
		{"only the example's spelling", func(m map[string]any) { delete(m, "amount_subtotal") },
			[]string{`$.amount_subtotal: required property is missing`}},
		{"only the table's spelling", func(m map[string]any) { delete(m, "expire_at") },
			[]string{`$.expire_at: required property is missing`}},
		{"spellings disagree", func(m map[string]any) { m["amount_sub_total"] = json.Number("900") },
			[]string{`$.amount_sub_total: 900 differs from $.amount_subtotal: 1000`}},
		{"ISO time instead of unix int", func(m map[string]any) { m["created_at"] = "2024-01-15T11:00:00Z" },
			[]string{`$.created_at: want integer, got string`}},
		{"milliseconds instead of seconds", func(m map[string]any) {
			m["expires_at"], m["expire_at"] = json.Number("1705320000000"), json.Number("1705320000000")
		}, []string{
			`$.expires_at: integer 1705320000000 is not a unix timestamp in seconds`,
			`$.expire_at: integer 1705320000000 is not a unix timestamp in seconds`,
		}},
		{"upper-case currency", func(m map[string]any) { m["currency"] = "USD" },
			[]string{`$.currency: string "USD" is not a lower-case three-letter ISO 4217 code`}},
		{"empty metadata not null", func(m map[string]any) { m["metadata"] = map[string]any{} },
			[]string{`$.metadata: is empty`}},
		{"empty fees not null", func(m map[string]any) { m["fees"] = []any{} },
			[]string{`$.fees: is empty`}},
		{"null where the table says string", func(m map[string]any) { m["customer_email"] = nil },
			[]string{`$.customer_email: is null, want string`}},
		{"locale not a tag", func(m map[string]any) { m["locale"] = "Polish please" },
			[]string{`$.locale: string "Polish please" is not "" or an IETF language tag`}},
		{"url for another session", func(m map[string]any) { m["url"] = "https://pay.example.com/pay/other" },
			[]string{`$.url: "https://pay.example.com/pay/other" does not end in /pay/2AW-kLcRRC5P8U68CYe0kVA`}},
		{"livemode as string", func(m map[string]any) { m["livemode"] = "false" },
			[]string{`$.livemode: want boolean, got string`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertViolations(t, seed001.Check(mutate(t, c.mutate)), c.want)
		})
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
