package dialect

import (
	"errors"
	"testing"

	"github.com/paypage/paypage/store"
)

func TestStripeStatesAsStripeReportsThem(t *testing.T) {
	t.Parallel()
	threeDS := &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds"}
	for _, tc := range []struct {
		status, payment string
		next            *store.NextAction
		want, wantPay   string
	}{
		{store.StatusOpen, store.PaymentUnpaid, nil, "open", "unpaid"},
		{store.StatusOpen, store.PaymentFailed, nil, "open", "unpaid"},
		{store.StatusOpen, store.PaymentNoPaymentRequired, nil, "open", "no_payment_required"},
		{store.StatusProcessing, store.PaymentPending, nil, "complete", "unpaid"},
		{store.StatusProcessing, store.PaymentPending, threeDS, "open", "unpaid"},
		{store.StatusComplete, store.PaymentPaid, nil, "complete", "paid"},
		{store.StatusComplete, store.PaymentPartiallyRefunded, nil, "complete", "paid"},
		{store.StatusComplete, store.PaymentRefunded, nil, "complete", "paid"},
		{store.StatusComplete, store.PaymentReversed, nil, "complete", "paid"},
		{store.StatusComplete, store.PaymentNoPaymentRequired, nil, "complete", "no_payment_required"},
		{store.StatusExpired, store.PaymentUnpaid, nil, "expired", "unpaid"},
		{store.StatusExpired, store.PaymentFailed, nil, "expired", "unpaid"},
		{store.StatusCanceled, store.PaymentUnpaid, nil, "expired", "unpaid"},
	} {
		s := &store.Session{Status: tc.status, PaymentStatus: tc.payment, NextAction: tc.next}
		if got, pay := stripeStates(s); got != tc.want || pay != tc.wantPay {
			t.Errorf("%s/%s (next action %v): %s/%s, want %s/%s", tc.status, tc.payment, tc.next != nil, got, pay, tc.want, tc.wantPay)
		}
	}
}

func TestResolvePicksTheVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		paypage, stripe, pinned string
		want                    *Dialect
		name, errParam          string
	}{
		{"", "", "", Native, store.APIVersionNative, ""},
		{"", "", store.APIVersionBLIK, BLIK, store.APIVersionBLIK, ""},
		{"", "", store.APIVersionStripe, Stripe, store.APIVersionStripe, ""},
		{"", "2026-10-28.endive", store.APIVersionBLIK, Stripe, "2026-10-28.endive", ""},
		{"", "2020-08-27", "", Stripe, "2020-08-27", ""},
		{store.APIVersionNative, "2026-10-28.endive", store.APIVersionBLIK, Native, store.APIVersionNative, ""},
		{"blik-1999-01-01", "", "", nil, "", HeaderPaypageVersion},
		{"", "endive", "", nil, "", HeaderStripeVersion},
		{"", "", "bogus", nil, "", "api_version"},
	} {
		v, err := Resolve(tc.paypage, tc.stripe, tc.pinned)
		if tc.errParam != "" {
			var se *store.Error
			if !errors.As(err, &se) || se.Param != tc.errParam {
				t.Errorf("Resolve(%q, %q, %q) = %v, %v; want an error naming %s", tc.paypage, tc.stripe, tc.pinned, v, err, tc.errParam)
			}
			continue
		}
		if err != nil || v.Dialect != tc.want || v.Name != tc.name {
			t.Errorf("Resolve(%q, %q, %q) = %s %v, %v; want %s %s", tc.paypage, tc.stripe, tc.pinned, v.Name, v.Dialect.Name, err, tc.name, tc.want.Name)
		}
	}
}

func TestParseExpandPerDialect(t *testing.T) {
	t.Parallel()
	if e, err := Stripe.ParseExpand([]string{"line_items.data.price.product"}, ""); err != nil || !e.LineItems || !e.Products {
		t.Errorf("Stripe line_items.data.price.product: %+v %v", e, err)
	}
	if _, err := Stripe.ParseExpand([]string{"appearance"}, ""); err == nil {
		t.Error("Stripe's dialect expanded paypage's appearance")
	}
	if e, err := Native.ParseExpand([]string{"data.refunds", "data.child_sessions"}, "data."); err != nil || !e.Refunds || !e.ChildSessions {
		t.Errorf("native list expand: %+v %v", e, err)
	}
	if _, err := Native.ParseExpand([]string{"line_items"}, "data."); err == nil {
		t.Error("a list took an expand without data.")
	}
	if e, err := Stripe.ParseItemExpand([]string{"data.price.product"}); err != nil || !e.Products {
		t.Errorf("Stripe item expand: %+v %v", e, err)
	}
}
