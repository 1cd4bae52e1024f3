package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// TestPaymentEventsCarryTheRefundLifecycleAndReversals: a provider's
// integration records a pending refund, settles it, is refused what would
// over-refund, reverses the payment; the session's history shows each step.
func TestPaymentEventsCarryTheRefundLifecycleAndReversals(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		api := newAPIClient(t, srv, srv.Keys.Test)
		sess := handlertest.CreateSession(t, srv, false, store.SessionParams{}) // 2 × 12.50 EUR
		n := 0
		event := func(typ string, fields ...string) apiResponse {
			t.Helper()
			n++
			body := fmt.Sprintf(`{"id":"evt_life_%d","type":%q,"session":%q`, n, typ, sess.ID)
			for i := 0; i+1 < len(fields); i += 2 {
				body += fmt.Sprintf(`,%q:%s`, fields[i], fields[i+1])
			}
			return api.do("POST", "/v1/payment_events", body+"}")
		}
		ok := func(r apiResponse) map[string]any {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			return r.JSON["session"].(map[string]any)
		}
		ok(event("payment.succeeded"))
		ok(event("payment.refunded", "amount", "2000", "refund_status", `"pending"`, "refund_reason", `"requested_by_customer"`))
		if r := event("payment.refunded", "amount", "501"); r.Status != 400 || r.err()["param"] != "amount" {
			t.Errorf("a refund over what the pending one leaves: %d %s", r.Status, r.Raw)
		}
		refunds := api.mustOK("GET", "/v1/checkout/sessions/"+sess.ID+"?expand[]=refunds", "")["refunds"].(map[string]any)["data"].([]any)
		pending := refunds[0].(map[string]any)
		if pending["status"] != "pending" || pending["amount"] != 2000.0 {
			t.Fatalf("refunds: %v", refunds)
		}
		for _, tc := range []struct{ typ, param string }{
			{"refund.succeeded", "refund"}, // the refund is required
		} {
			if r := event(tc.typ); r.Status != 400 || r.err()["param"] != tc.param {
				t.Errorf("%s without a refund: %d %s", tc.typ, r.Status, r.Raw)
			}
		}
		if r := event("refund.failed", "refund", `"re_nope"`); r.Status != 404 || r.err()["param"] != "refund" {
			t.Errorf("an unknown refund: %d %s", r.Status, r.Raw)
		}
		s := ok(event("refund.succeeded", "refund", fmt.Sprintf("%q", pending["id"])))
		if s["payment_status"] != "partially_refunded" || s["amount_refunded"] != 2000.0 {
			t.Fatalf("after the refund succeeded: %v %v", s["payment_status"], s["amount_refunded"])
		}
		if r := event("refund.canceled", "refund", fmt.Sprintf("%q", pending["id"])); r.Status != 400 || r.err()["code"] != "checkout_session_unexpected_state" {
			t.Errorf("settling a refund twice: %d %s", r.Status, r.Raw)
		}
		s = ok(event("payment.reversed", "failure_reason", `"fraudulent"`, "failure_message", `"Disputed by the cardholder"`))
		if s["payment_status"] != "reversed" || s["failure_reason"] != "fraudulent" || s["status"] != "complete" {
			t.Fatalf("after the reversal: %v", s)
		}
		if r := event("payment.refunded", "amount", "1"); r.Status != 400 || r.err()["code"] != "checkout_session_unexpected_state" {
			t.Errorf("a refund after the reversal: %d %s", r.Status, r.Raw)
		}
		if r := event("payment.reversed", "refund_status", `"pending"`); r.Status != 400 || r.err()["param"] != "refund_status" ||
			!strings.Contains(r.err()["message"].(string), "payment.refunded") {
			t.Errorf("a parameter of another type: %d %s", r.Status, r.Raw)
		}

		history := api.mustOK("GET", "/v1/checkout/sessions/"+sess.ID+"/events", "")["data"].([]any)
		var actions []string
		for _, e := range history {
			e := e.(map[string]any)
			actions = append(actions, e["action"].(string)+":"+e["to_payment_status"].(string))
		}
		want := "succeed:paid refund:paid refund_update:partially_refunded reverse:reversed"
		if got := strings.Join(actions, " "); got != want {
			t.Errorf("history %s, want %s", got, want)
		}
		if last := history[len(history)-1].(map[string]any); last["source"] != "payment_event" || last["external_id"] == nil {
			t.Errorf("last event: %v", last)
		}
	})
}
