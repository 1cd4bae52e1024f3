package dialect

import (
	"errors"
	"net/url"
	"testing"

	"github.com/paypage/paypage/store"
)

// Seed 003's words for each of paypage's states, and which it refuses.
func TestCheckoutStatesAsTheDocumentWordsThem(t *testing.T) {
	t.Parallel()
	paidChild := &store.Session{ID: "cs_child", Status: store.StatusComplete, PaymentStatus: store.PaymentPaid, PaymentMethod: "card"}
	openChild := &store.Session{ID: "cs_child", Status: store.StatusOpen, PaymentStatus: store.PaymentUnpaid}
	for _, tc := range []struct {
		name     string
		s        store.Session
		children []*store.Session
		status   string // "" when refused
		expired  bool
		payment  string
		refused  int
	}{
		{"open", store.Session{Status: store.StatusOpen, PaymentStatus: store.PaymentUnpaid}, nil, "INITIATED", false, "UNPAID", 0},
		{"declined, may retry", store.Session{Status: store.StatusOpen, PaymentStatus: store.PaymentFailed}, nil, "FAILED", false, "FAILED", 0},
		{"processing", store.Session{Status: store.StatusProcessing, PaymentStatus: store.PaymentPending}, nil, "INITIATED", false, "PENDING", 0},
		{"paid", store.Session{Status: store.StatusComplete, PaymentStatus: store.PaymentPaid}, nil, "COMPLETED", false, "PAID", 0},
		{"reversed", store.Session{Status: store.StatusComplete, PaymentStatus: store.PaymentReversed}, nil, "COMPLETED", false, "REVERSED", 0},
		{"expired", store.Session{Status: store.StatusExpired, PaymentStatus: store.PaymentUnpaid}, nil, "", false, "", 401},
		{"expired, recovery open", store.Session{Status: store.StatusExpired, PaymentStatus: store.PaymentUnpaid},
			[]*store.Session{openChild}, "INITIATED", true, "UNPAID", 0},
		{"expired, paid by its recovery", store.Session{Status: store.StatusExpired, PaymentStatus: store.PaymentUnpaid, SettledBy: "cs_child"},
			[]*store.Session{paidChild}, "COMPLETED", false, "PAID", 0},
		{"canceled", store.Session{Status: store.StatusCanceled, PaymentStatus: store.PaymentUnpaid}, nil, "", false, "", 410},
	} {
		v := &View{Session: &tc.s, Merchant: &store.Merchant{}, Children: tc.children}
		err := checkoutRefuse(v)
		var se *StatusError
		if tc.refused != 0 {
			if !errors.As(err, &se) || se.Status != tc.refused {
				t.Errorf("%s: %v, want %d", tc.name, err, tc.refused)
			}
			continue
		}
		o := checkoutSession(v, true)
		if err != nil || o.CheckoutSessionStatus != tc.status || o.Expired != tc.expired || o.PaymentStatus != tc.payment {
			t.Errorf("%s: %v %s expired=%v %s, want %s expired=%v %s", tc.name, err, o.CheckoutSessionStatus, o.Expired, o.PaymentStatus,
				tc.status, tc.expired, tc.payment)
		}
		if (len(tc.children) > 0) != (o.ChildSession != nil) {
			t.Errorf("%s: childSession %+v", tc.name, o.ChildSession)
		}
	}
}

func TestCheckoutOptionsTakeInitOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query      string
		appearance bool
		param      string // the parameter a refusal names
	}{
		{"", false, ""}, {"init=true", true, ""}, {"init=True", true, ""}, {"init=false", false, ""},
		{"init=1", false, "init"}, {"init=", false, "init"}, {"init=true&init=true", false, "init"},
		{"expand=x&init=true", false, "expand"}, {"a%00=1", false, "a\uFFFD"},
	} {
		q, _ := url.ParseQuery(tc.query)
		e, err := checkoutOptions(q)
		var se *store.Error
		switch {
		case tc.param != "" && (!errors.As(err, &se) || se.Param != tc.param):
			t.Errorf("%q: %v, want a refusal naming %q", tc.query, err, tc.param)
		case tc.param == "" && (err != nil || e.Appearance != tc.appearance || !e.ChildSessions):
			t.Errorf("%q: %+v %v", tc.query, e, err)
		}
	}
}
