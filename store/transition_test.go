package store

import (
	"errors"
	"reflect"
	"testing"
)

// The state machine, without a database: apply on sessions built in memory.

const paid3000 = 3000

// inState is a session of 3000 (or nothing to pay) in the given state.
func inState(status, payment string) Session {
	s := Session{ID: "cs_test_x", Status: status, PaymentStatus: payment, AmountTotal: paid3000,
		Currency: "eur", ExpiresAt: 2_000_000_000, Version: 4}
	switch payment {
	case PaymentNoPaymentRequired:
		s.AmountTotal = 0
	case PaymentPartiallyRefunded:
		s.AmountRefunded = 1
		s.Refunds = []Refund{{ID: "re_1", Amount: 1, Status: RefundSucceeded}}
	case PaymentRefunded:
		s.AmountRefunded = paid3000
		s.Refunds = []Refund{{ID: "re_1", Amount: paid3000, Status: RefundSucceeded}}
	}
	if status == StatusExpired {
		at := int64(1_000_000_000)
		s.ExpiredAt = &at
	}
	return s
}

func TestApplyIsTheStateMachine(t *testing.T) {
	t.Parallel()
	const no = "refused"
	pending := RefundParams{Amount: 1, Status: RefundPending}
	actions := []Transition{
		{Action: ActionProcess}, {Action: ActionSucceed}, {Action: ActionFail}, {Action: ActionExpire},
		{Action: ActionCancel}, {Action: ActionRefund, Refund: &RefundParams{Amount: 1, Status: RefundSucceeded}},
		{Action: ActionRefund, Refund: &pending}, {Action: ActionReverse},
		{Action: ActionSettleByChild, Child: "cs_test_child"},
	}
	machine := map[string][9]string{
		//                              process               succeed                         fail           expire                          cancel                          refund                        pending refund  reverse            settle by child
		"open/unpaid":                  {"processing/pending", "complete/paid", "open/failed", "expired/unpaid", "canceled/unpaid", no, no, no, no},
		"open/failed":                  {"processing/pending", "complete/paid", "open/failed", "expired/failed", "canceled/failed", no, no, no, no},
		"open/no_payment_required":     {no, "complete/no_payment_required", no, "expired/no_payment_required", "canceled/no_payment_required", no, no, no, no},
		"processing/pending":           {no, "complete/paid", "open/failed", no, "canceled/unpaid", no, no, no, no},
		"complete/paid":                {no, no, no, no, no, "complete/partially_refunded", "complete/paid", "complete/reversed", no},
		"complete/partially_refunded":  {no, no, no, no, no, "complete/partially_refunded", "complete/partially_refunded", "complete/reversed", no},
		"complete/refunded":            {no, no, no, no, no, no, no, no, no},
		"complete/reversed":            {no, no, no, no, no, no, no, no, no},
		"complete/no_payment_required": {no, no, no, no, no, no, no, no, no},
		"expired/unpaid":               {no, no, no, no, no, no, no, no, "expired/unpaid"},
		"canceled/unpaid":              {no, no, no, no, no, no, no, no, no},
	}
	for state, row := range machine {
		status, payment, _ := cut(state)
		for i, tr := range actions {
			before := inState(status, payment)
			after, _, err := apply(before, tr, 1_500_000_000)
			got := after.Status + "/" + after.PaymentStatus
			if err != nil {
				got = no
				if ErrorCode(err) != ESTATE {
					t.Errorf("%s, %s: %v, want an ESTATE refusal", state, tr.Action, err)
				}
				if !reflect.DeepEqual(after, before) {
					t.Errorf("%s, %s: a refusal changed the session", state, tr.Action)
				}
			}
			if got != row[i] {
				t.Errorf("%s, %s (%v): %s, want %s", state, tr.Action, tr.Refund, got, row[i])
			}
			if err == nil && after.Version != before.Version+1 {
				t.Errorf("%s, %s: version %d, want %d", state, tr.Action, after.Version, before.Version+1)
			}
		}
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Pending refunds hold their amount, and settle once: succeeded moves the
// money, failed and canceled free it.
func TestApplyRefundLifecycle(t *testing.T) {
	t.Parallel()
	now := int64(1_500_000_000)
	s := inState(StatusComplete, PaymentPaid)
	step := func(tr Transition) (Session, effects) {
		t.Helper()
		after, eff, err := apply(s, tr, now)
		if err != nil {
			t.Fatalf("%s: %v", tr.Action, err)
		}
		s = after
		return after, eff
	}
	refuse := func(tr Transition, code, param string) {
		t.Helper()
		before := s
		_, _, err := apply(s, tr, now)
		var se *Error
		if ErrorCode(err) != code || (param != "" && (!errors.As(err, &se) || se.Param != param)) {
			t.Errorf("%s %+v: %v, want %s naming %q", tr.Action, tr.Refund, err, code, param)
		}
		if !reflect.DeepEqual(s, before) {
			t.Error("a refusal changed the session")
		}
	}
	refundOf := func(amount int64, status string) Transition {
		return Transition{Action: ActionRefund, Refund: &RefundParams{Amount: amount, Status: status, Reason: "requested_by_customer"}}
	}
	_, eff := step(refundOf(2000, RefundPending))
	held := eff.newRefund
	if held == nil || held.Status != RefundPending || held.Created != now || held.Updated != now || s.AmountRefunded != 0 || s.PaymentStatus != PaymentPaid {
		t.Fatalf("a pending refund: %+v, session refunded %d %s", held, s.AmountRefunded, s.PaymentStatus)
	}
	refuse(refundOf(1001, RefundSucceeded), EINVALID, "amount") // 2000 of 3000 is held
	step(refundOf(1000, RefundSucceeded))
	if s.AmountRefunded != 1000 || s.PaymentStatus != PaymentPartiallyRefunded {
		t.Fatalf("after 1000: refunded %d, %s", s.AmountRefunded, s.PaymentStatus)
	}
	refuse(refundOf(1, RefundPending), EINVALID, "amount") // nothing is left
	settle := func(status, reason string) Transition {
		return Transition{Action: ActionRefundUpdate, RefundID: held.ID, Refund: &RefundParams{Status: status, FailureReason: reason}}
	}
	refuse(Transition{Action: ActionRefundUpdate, RefundID: "re_nope", Refund: &RefundParams{Status: RefundSucceeded}}, ENOTFOUND, "refund")

	// It fails: the money it held can be refunded again.
	later := now + 60
	after, eff, err := apply(s, settle(RefundFailed, "expired_card"), later)
	if err != nil || eff.updatedRefund == nil || eff.updatedRefund.Status != RefundFailed ||
		eff.updatedRefund.FailureReason != "expired_card" || eff.updatedRefund.Updated != later || after.AmountRefunded != 1000 {
		t.Fatalf("failed: %v %+v %d", err, eff.updatedRefund, after.AmountRefunded)
	}
	s = after
	refuse(settle(RefundSucceeded, ""), ESTATE, "") // settled once
	step(refundOf(2000, RefundPending))
	second := s.Refunds[len(s.Refunds)-1]
	step(Transition{Action: ActionRefundUpdate, RefundID: second.ID, Refund: &RefundParams{Status: RefundSucceeded}})
	if s.AmountRefunded != paid3000 || s.PaymentStatus != PaymentRefunded {
		t.Fatalf("all refunded: %d %s", s.AmountRefunded, s.PaymentStatus)
	}
}

// A reversal is the payment's outcome: it keeps what was refunded, records
// why, and nothing can be refunded after it.
func TestApplyReversal(t *testing.T) {
	t.Parallel()
	s := inState(StatusComplete, PaymentPartiallyRefunded)
	after, _, err := apply(s, Transition{Action: ActionReverse, FailureMessage: "Disputed by the cardholder"}, 1_500_000_000)
	if err != nil || after.PaymentStatus != PaymentReversed || after.FailureReason != "chargeback" ||
		after.FailureMessage != "Disputed by the cardholder" || after.AmountRefunded != 1 {
		t.Fatalf("reversed: %v %+v", err, after)
	}
}

// The clock: an open session past its expiry is expired for every action
// but the merchant's own expire, which records when it really expired.
func TestApplySeesTheClock(t *testing.T) {
	t.Parallel()
	s := inState(StatusOpen, PaymentUnpaid)
	s.ExpiresAt = 100
	if _, _, err := apply(s, Transition{Action: ActionSucceed}, 100); ErrorCode(err) != ESTATE {
		t.Errorf("paying at the second of expiry: %v, want ESTATE", err)
	}
	after, _, err := apply(s, Transition{Action: ActionExpire}, 160)
	if err != nil || after.ExpiredAt == nil || *after.ExpiredAt != 100 {
		t.Errorf("expire after the fact: %v, expired at %v, want 100", err, after.ExpiredAt)
	}
}
