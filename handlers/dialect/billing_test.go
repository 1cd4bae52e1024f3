package dialect

import (
	"testing"

	"github.com/paypage/paypage/store"
)

func TestBillingStatesAsTheBillingPlatformWordsThem(t *testing.T) {
	t.Parallel()
	confirmed := int64(1)
	for _, tc := range []struct {
		status, payment string
		confirmedAt     *int64
		want, wantPay   string
	}{
		{store.StatusOpen, store.PaymentUnpaid, nil, "open", "not_started"},
		{store.StatusOpen, store.PaymentFailed, &confirmed, "open", "failed"},
		{store.StatusOpen, store.PaymentNoPaymentRequired, nil, "open", "no_payment_required"},
		{store.StatusProcessing, store.PaymentPending, &confirmed, "processing", "pending"},
		{store.StatusComplete, store.PaymentPaid, &confirmed, "completed", "paid"},
		{store.StatusComplete, store.PaymentPartiallyRefunded, &confirmed, "completed", "paid"},
		{store.StatusComplete, store.PaymentRefunded, &confirmed, "completed", "paid"},
		{store.StatusComplete, store.PaymentReversed, &confirmed, "completed", "failed"},
		{store.StatusComplete, store.PaymentNoPaymentRequired, &confirmed, "completed", "no_payment_required"},
		{store.StatusExpired, store.PaymentUnpaid, nil, "closed", "not_started"},
		{store.StatusExpired, store.PaymentFailed, &confirmed, "closed", "failed"},
		{store.StatusCanceled, store.PaymentUnpaid, nil, "cancelled", "not_started"},
		{store.StatusCanceled, store.PaymentUnpaid, &confirmed, "cancelled", "failed"}, // voided while processing
	} {
		s := &store.Session{Status: tc.status, PaymentStatus: tc.payment, ConfirmedAt: tc.confirmedAt}
		if got, pay := billingStates(s); got != tc.want || pay != tc.wantPay {
			t.Errorf("%s/%s (confirmed %v): %s/%s, want %s/%s", tc.status, tc.payment, tc.confirmedAt != nil, got, pay, tc.want, tc.wantPay)
		}
	}
}

func TestBillingDocumentsKeepTheSeedsShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc, contract, estimates string
	}{
		{"", `{}`, `null`},
		{`null`, `{}`, `null`},
		{` {"plan_id": "gold"}`, `{"plan_id": "gold"}`, `{"amount_due":null,"credit_notes":null,"current_invoice":null,"estimation_id":null,"future_invoices":null,"plan_id":"gold"}`},
		{`{"estimation_id":"e","current_invoice":{},"future_invoices":[],"amount_due":1,"credit_notes":[]}`,
			`{"estimation_id":"e","current_invoice":{},"future_invoices":[],"amount_due":1,"credit_notes":[]}`,
			`{"estimation_id":"e","current_invoice":{},"future_invoices":[],"amount_due":1,"credit_notes":[]}`},
		{`[1, 2]`, `{}`, `null`}, // not the object the seed promises
	} {
		if got := string(billingContract(store.RawJSON(tc.doc))); got != tc.contract {
			t.Errorf("contract %q: %s, want %s", tc.doc, got, tc.contract)
		}
		if got := string(billingEstimates(store.RawJSON(tc.doc))); got != tc.estimates {
			t.Errorf("estimates %q: %s, want %s", tc.doc, got, tc.estimates)
		}
	}
}
