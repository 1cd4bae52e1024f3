package seed004_test

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
	"github.com/paypage/paypage/handlers/seedclients/seed004"
)

// example is the document's response example, verbatim (valid JSON). It
// contradicts the document's own rule: a PENDING session with refunds
// populated (see TestCheckDocumentExample).
const example = `{
"id": "e4b8c1a2-1234-5678-abcd-ef1234567890",
"orderReference": "ORD-12345",
"status": "PENDING",
"failureReason": "EXPIRED",
"providerName": "stripe",
"paymentMethod": "card",
"expiresAt": "2024-01-15T12:00:00.000Z",
"createdAt": "2024-01-15T11:00:00.000Z",
"updatedAt": "2024-01-15T11:30:00.000Z",
"refunds": [
{
"id": "3d72f30c-2977-44bf-b2e8-ff09b9b3216d",
"amount": 45.01,
"currency": "USD",
"status": "PENDING",
"failureReason": "LOST_OR_STOLEN_CARD",
"reason": "REQUESTED_BY_CUSTOMER",
"createdAt": "2024-01-15T11:00:00.000Z",
"updatedAt": "2024-01-15T11:30:00.000Z"
}
]
}`

// The document's error examples, verbatim, by status.
var errorExamples = map[int]string{
	401: `{
"error": "Unauthorized",
"message": "Authentication required. Please provide a valid API token",
"code": 401
}`,
	404: `{
"error": "Not Found",
"message": "The requested resource was not found",
"code": 404
}`,
	500: `{
"error": "Internal Server Error",
"message": "An unexpected error occurred on the server",
"code": 500,
"requestId": "req_1234567890"
}`,
	502: `{
"error": "Error",
"message": "Service temporarily unavailable.",
"code": 502
}`,
	504: `{
"error": "Error",
"message": "Request timed out.",
"code": 504
}`,
}

const token = "YOUR_API_TOKEN"

func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Content-Type") != "application/json" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(errorExamples[401]))
			return
		}
		p := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1/sessions/")
		switch p {
		case "e4b8c1a2-1234-5678-abcd-ef1234567890":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(example))
			return
		case "html-404":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`<html><body>Cannot GET</body></html>`))
			return
		}
		if status, ok := map[string]int{"boom": 500, "bad-gateway": 502, "slow": 504}[p]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(errorExamples[status]))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(errorExamples[404]))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRetrieve(t *testing.T) {
	srv := server(t)
	s, raw, err := seed004.New(srv.URL, token).Retrieve(context.Background(), "e4b8c1a2-1234-5678-abcd-ef1234567890")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != example {
		t.Error("raw body not returned verbatim")
	}
	r := s.Refunds[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", s.ID, "e4b8c1a2-1234-5678-abcd-ef1234567890"},
		{"orderReference", s.OrderReference, "ORD-12345"},
		{"status", s.Status, "PENDING"},
		{"failureReason", *s.FailureReason, "EXPIRED"},
		{"providerName", *s.ProviderName, "stripe"},
		{"paymentMethod", s.PaymentMethod, "card"},
		{"expiresAt", *s.ExpiresAt, time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)},
		{"updatedAt", s.UpdatedAt, time.Date(2024, 1, 15, 11, 30, 0, 0, time.UTC)},
		{"refund amount (exact decimal)", r.Amount.String(), "45.01"},
		{"refund currency", r.Currency, "USD"},
		{"refund reason", *r.Reason, "REQUESTED_BY_CUSTOMER"},
		{"refund createdAt", r.CreatedAt, time.Date(2024, 1, 15, 11, 0, 0, 0, time.UTC)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCheckDocumentExample(t *testing.T) {
	assertViolations(t, seed004.Check([]byte(example)), []string{`$.refunds: not null on a PENDING session`})
}

func TestRetrieveErrors(t *testing.T) {
	srv := server(t)
	cases := []struct {
		name, token, id string
		want            seed004.Error // Body not compared
		checkErrorFails bool
	}{
		{"unauthorized", "wrong", "e4b8c1a2-1234-5678-abcd-ef1234567890",
			seed004.Error{Status: 401, ErrorName: "Unauthorized", Message: "Authentication required. Please provide a valid API token", Code: 401}, false},
		{"not found", token, "nope",
			seed004.Error{Status: 404, ErrorName: "Not Found", Message: "The requested resource was not found", Code: 404}, false},
		{"internal error with requestId", token, "boom",
			seed004.Error{Status: 500, ErrorName: "Internal Server Error", Message: "An unexpected error occurred on the server", Code: 500, RequestID: "req_1234567890"}, false},
		{"bad gateway", token, "bad-gateway",
			seed004.Error{Status: 502, ErrorName: "Error", Message: "Service temporarily unavailable.", Code: 502}, false},
		{"gateway timeout", token, "slow",
			seed004.Error{Status: 504, ErrorName: "Error", Message: "Request timed out.", Code: 504}, false},
		{"HTML 404 is still an Error, but not the documented body", token, "html-404",
			seed004.Error{Status: 404}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, raw, err := seed004.New(srv.URL, c.token).Retrieve(context.Background(), c.id)
			var e seed004.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want seed004.Error", err)
			}
			if string(e.Body) != string(raw) {
				t.Error("Body differs from the raw body")
			}
			got := [...]any{e.Status, e.ErrorName, e.Message, e.Code, e.RequestID}
			want := [...]any{c.want.Status, c.want.ErrorName, c.want.Message, c.want.Code, c.want.RequestID}
			if got != want {
				t.Errorf("error = %+v, want %+v", e, c.want)
			}
			if v := seed004.CheckError(e.Status, raw); (len(v) != 0) != c.checkErrorFails {
				t.Errorf("CheckError = %q, want failure=%v", v, c.checkErrorFails)
			}
		})
	}
}

func TestCheckError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"documented 500", 500, errorExamples[500], nil},
		{"code differs from status", 404, errorExamples[401], []string{`$.code: 401 differs from the HTTP status 404`}},
		{"code as string", 404, `{"error":"Not Found","message":"m","code":"404"}`, []string{`$.code: want integer, got string`}},
		{"message missing", 404, `{"error":"Not Found","code":404}`, []string{`$.message: required property is missing`}},
		{"requestId not a string", 500, `{"error":"E","message":"m","code":500,"requestId":7}`, []string{`$.requestId: want string, got integer`}},
		{"HTML", 404, `<html></html>`, []string{`$: not valid JSON`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertViolations(t, seed004.CheckError(c.status, []byte(c.body)), c.want) })
	}
}

// conforming: the example made self-consistent (a partially refunded
// session, no failure reason).
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	v, err := conform.Decode([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	m["status"] = "PARTIALLY_REFUNDED"
	m["failureReason"] = nil
	f(m)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func refund(m map[string]any) map[string]any { return m["refunds"].([]any)[0].(map[string]any) }

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"conforms", func(map[string]any) {}, nil},
		{"expired: PENDING, EXPIRED, refunds null", func(m map[string]any) {
			m["status"], m["failureReason"], m["refunds"] = "PENDING", "EXPIRED", nil
		}, nil},
		{"paid without refunds: empty array", func(m map[string]any) { m["status"], m["refunds"] = "SUCCEEDED", []any{} }, nil},
		{"reversed", func(m map[string]any) { m["status"] = "REVERSED" }, nil},
		{"optional properties absent", func(m map[string]any) {
			m["status"] = "FAILED"
			for _, k := range []string{"failureReason", "providerName", "expiresAt", "refunds"} {
				delete(m, k)
			}
		}, nil},
		{"integer amount", func(m map[string]any) { refund(m)["amount"] = json.Number("45") }, nil},
		{"extra property is fine", func(m map[string]any) { m["amount"] = json.Number("100.00") }, nil},
		{"status outside the set", func(m map[string]any) { m["status"] = "EXPIRED" },
			[]string{`$.status: "EXPIRED" is not one of PENDING|SUCCEEDED|FAILED|PARTIALLY_REFUNDED|REFUNDED|REVERSED`,
				`$.refunds: not null on a EXPIRED session`}},
		{"lower-case status", func(m map[string]any) { m["status"], m["refunds"] = "pending", nil },
			[]string{`$.status: "pending" is not one of`}},
		{"refund status outside the set", func(m map[string]any) { refund(m)["status"] = "succeeded" },
			[]string{`$.refunds[0].status: "succeeded" is not one of PENDING|SUCCEEDED|FAILED|CANCELED`}},
		{"missing required", func(m map[string]any) { delete(m, "orderReference") },
			[]string{`$.orderReference: required property is missing`}},
		{"missing refund property", func(m map[string]any) { delete(refund(m), "reason") },
			[]string{`$.refunds[0].reason: required property is missing`}},
		{"time without milliseconds", func(m map[string]any) { m["createdAt"] = "2024-01-15T11:00:00Z" },
			[]string{`$.createdAt: string "2024-01-15T11:00:00Z" is not ISO 8601 UTC with milliseconds`}},
		{"time not UTC", func(m map[string]any) { m["updatedAt"] = "2024-01-15T12:30:00.000+01:00" },
			[]string{`$.updatedAt: string "2024-01-15T12:30:00.000+01:00" is not ISO 8601 UTC with milliseconds`}},
		{"time with microseconds", func(m map[string]any) { refund(m)["updatedAt"] = "2024-01-15T11:30:00.000000Z" },
			[]string{`$.refunds[0].updatedAt: string "2024-01-15T11:30:00.000000Z" is not ISO 8601 UTC with milliseconds`}},
		{"unix time", func(m map[string]any) { m["expiresAt"] = json.Number("1705320000") },
			[]string{`$.expiresAt: want string, got integer`}},
		{"amount in minor units as string", func(m map[string]any) { refund(m)["amount"] = "4501" },
			[]string{`$.refunds[0].amount: want number, got string`}},
		{"amount in exponent form", func(m map[string]any) { refund(m)["amount"] = json.Number("4.501e1") },
			[]string{`$.refunds[0].amount: number 4.501e1 is not a plain decimal in major units`}},
		{"lower-case refund currency", func(m map[string]any) { refund(m)["currency"] = "usd" },
			[]string{`$.refunds[0].currency: string "usd" is not an upper-case ISO 4217 code`}},
		{"reason not upper-snake", func(m map[string]any) { refund(m)["reason"] = "requested_by_customer" },
			[]string{`$.refunds[0].reason: string "requested_by_customer" is not an UPPER_SNAKE code`}},
		{"failure reason not upper-snake", func(m map[string]any) { m["failureReason"] = "Expired" },
			[]string{`$.failureReason: string "Expired" is not an UPPER_SNAKE code`}},
		{"refunds populated while PENDING", func(m map[string]any) { m["status"] = "PENDING" },
			[]string{`$.refunds: not null on a PENDING session`}},
		{"refunds empty array while FAILED", func(m map[string]any) { m["status"], m["refunds"] = "FAILED", []any{} },
			[]string{`$.refunds: not null on a FAILED session`}},
		{"refunds null while SUCCEEDED", func(m map[string]any) { m["status"], m["refunds"] = "SUCCEEDED", nil },
			[]string{`$.refunds: null or absent on a SUCCEEDED session`}},
		{"refunds absent while REFUNDED", func(m map[string]any) { m["status"] = "REFUNDED"; delete(m, "refunds") },
			[]string{`$.refunds: null or absent on a REFUNDED session`}},
		{"refunds empty while REFUNDED", func(m map[string]any) { m["status"], m["refunds"] = "REFUNDED", []any{} },
			[]string{`$.refunds: empty on a REFUNDED session`}},
		{"refunds not an array", func(m map[string]any) { m["refunds"] = map[string]any{} },
			[]string{`$.refunds: want array, got object`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertViolations(t, seed004.Check(mutate(t, c.mutate)), c.want) })
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
