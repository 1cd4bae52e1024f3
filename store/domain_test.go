package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Pending refunds raced by many clients at once never add up to more than
// was paid, and settle through the same transaction as any change.
func TestConcurrentPendingRefundsNeverOverRefund(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := sessionIn(t, s, m, startStates[4]) // complete/paid, 3000
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionRefund, Source: "api",
					Refund: &store.RefundParams{Amount: 200, Status: store.RefundPending}})
			}()
		}
		wg.Wait()
		accepted := 0
		for _, err := range errs {
			switch store.ErrorCode(err) {
			case "":
				accepted++
			case store.EINVALID: // nothing left to hold
			default:
				t.Errorf("a concurrent refund: %v", err)
			}
		}
		after := getSession(t, s, sess.ID)
		if accepted != 15 || len(after.Refunds) != 15 || after.AmountRefunded != 0 || after.PaymentStatus != store.PaymentPaid {
			t.Fatalf("%d of 20 pending refunds of 200 accepted on 3000 (%d stored, %d refunded, %s), want 15",
				accepted, len(after.Refunds), after.AmountRefunded, after.PaymentStatus)
		}
		// They settle one by one; the session follows.
		for i, r := range after.Refunds {
			status := store.RefundSucceeded
			if i == 0 {
				status = store.RefundCanceled
			}
			transition(t, s, sess.ID, store.Transition{Action: store.ActionRefundUpdate, RefundID: r.ID,
				Refund: &store.RefundParams{Status: status}})
		}
		final := getSession(t, s, sess.ID)
		if final.AmountRefunded != 2800 || final.PaymentStatus != store.PaymentPartiallyRefunded {
			t.Fatalf("after settling: refunded %d, %s; want 2800, partially_refunded", final.AmountRefunded, final.PaymentStatus)
		}
		for _, r := range final.Refunds {
			if r.Status == store.RefundPending || r.Updated < r.Created {
				t.Errorf("refund %s: %s, updated %d created %d", r.ID, r.Status, r.Updated, r.Created)
			}
		}
	})
}

// A paid recovery child settles its expired parent in the same transaction:
// the parent says so (and its watchers hear of it), it cannot be recovered
// into another checkout, and the child lives no longer than the parent's
// recovery window.
func TestAPaidChildSettlesItsParent(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, func(m *store.Merchant) { m.RecoveryEnabled = true })
		var mu sync.Mutex
		var changed []string
		s.OnChange = func(id string) { mu.Lock(); changed = append(changed, id); mu.Unlock() }

		parent := createSession(t, s, m, false, validParams())
		parent = transition(t, s, parent.ID, store.Transition{Action: store.ActionExpire})
		// Near the end of the window: the child is cut to what is left of it.
		c.Advance(store.RecoveryWindow - time.Hour)
		child, err := s.Recover(t.Context(), parent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := *parent.ExpiredAt + int64(store.RecoveryWindow/time.Second); child.ExpiresAt != want {
			t.Errorf("child expires at %d, want the end of the parent's recovery window %d", child.ExpiresAt, want)
		}
		mu.Lock()
		changed = nil
		mu.Unlock()
		transition(t, s, child.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event"})
		got := getSession(t, s, parent.ID)
		if got.SettledBy != child.ID || got.Status != store.StatusExpired || got.Version != parent.Version+1 {
			t.Fatalf("parent after its child was paid: settled by %q, %s, version %d", got.SettledBy, got.Status, got.Version)
		}
		evs := events(t, s, parent.ID)
		if last := evs[len(evs)-1]; last.Action != string(store.ActionSettleByChild) || last.Source != "payment_event" {
			t.Errorf("the parent's last event: %+v", last)
		}
		mu.Lock()
		if len(changed) != 2 || changed[0] != child.ID || changed[1] != parent.ID {
			t.Errorf("watchers told of %v, want the child then the parent", changed)
		}
		mu.Unlock()
		if again, err := s.Recover(t.Context(), parent.ID); err != nil || again.ID != child.ID {
			t.Errorf("recovering a settled parent: %v, %v; want its paying child", again, err)
		}
	})
}

// Past the recovery window an expired session can no longer be restarted.
func TestRecoveryWindowEnds(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, func(m *store.Merchant) { m.RecoveryEnabled = true })
		parent := createSession(t, s, m, false, validParams())
		transition(t, s, parent.ID, store.Transition{Action: store.ActionExpire})
		c.Advance(store.RecoveryWindow)
		if _, err := s.Recover(t.Context(), parent.ID); store.ErrorCode(err) != store.ESTATE {
			t.Fatalf("recover after the window: %v, want ESTATE", err)
		}
		if n := countRows(t, s, "checkout_sessions", "parent_id = ?", parent.ID); n != 0 {
			t.Errorf("%d children made after the window", n)
		}
	})
}
