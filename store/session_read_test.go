package store_test

import (
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// countStatements counts the statements s sends, by kind.
func countStatements(s *store.Store) *storetest.Counter[store.Op] {
	c := storetest.NewCounter[store.Op]()
	s.ObserveQueries(func(op store.Op, _ time.Duration) { c.Add(op) })
	return c
}

func total(n map[store.Op]int) int {
	sum := 0
	for _, v := range n {
		sum += v
	}
	return sum
}

func TestSessionPageReadsInTwoStatementsAtMost(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, func(m *store.Merchant) {
			m.DisplayName, m.SupportEmail, m.DefaultLocale = "The Shop", "help@shop.example", "de"
		})
		p := validParams()
		p.LineItems = append(p.LineItems, item("Socks", 3, 500), item("Cap", 1, 900))
		p.Fees = []store.AdjustmentParams{{Type: store.AdjustFee, Label: "Handling", Amount: 150},
			{Type: store.AdjustShipping, Label: "Post", Amount: 490}}
		sess := createSession(t, s, m, false, p)
		transition(t, s, sess.ID, store.Transition{Action: store.ActionSucceed})
		transition(t, s, sess.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 100, Status: store.RefundPending}})
		// What a transition returns is read another way (in its
		// transaction, a table at a time): the reference.
		want := transition(t, s, sess.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 200}})
		if len(want.LineItems) != 3 || len(want.Adjustments) != 2 || len(want.Refunds) != 2 {
			t.Fatalf("reference has %d items, %d fees, %d refunds; want 3, 2, 2",
				len(want.LineItems), len(want.Adjustments), len(want.Refunds))
		}

		count := countStatements(s)
		for range 2 { // the second time, from the prepared statements
			got, gm, err := s.SessionPage(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := count.Take(); n[store.OpQuery] != 2 || total(n) != 2 {
				t.Fatalf("SessionPage sent %v, want 2 queries and nothing else", n)
			}
			wantSameSession(t, got, want)
			if gm.ID != m.ID || gm.DisplayName != "The Shop" || gm.SupportEmail != "help@shop.example" || gm.DefaultLocale != "de" {
				t.Fatalf("merchant = %+v, want the page columns of %+v", gm, m)
			}
			if gm.WebhookSecret != "" {
				t.Fatal("SessionPage read the merchant's webhook secret; a page needs no secret")
			}
		}
		got, err := s.Session(t.Context(), sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := count.Take(); total(n) != 2 {
			t.Fatalf("Session sent %v, want 2 queries", n)
		}
		wantSameSession(t, got, want)
	})
}

func TestSessionPageWithoutChildrenIsOneStatement(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		// A session without children cannot be made through the API:
		// every session has a line item.
		if _, err := s.DB().ExecContext(t.Context(), s.DB().Rebind(`DELETE FROM line_items WHERE session_id = ?`), sess.ID); err != nil {
			t.Fatal(err)
		}
		count := countStatements(s)
		got, _, err := s.SessionPage(t.Context(), sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := count.Take(); total(n) != 1 {
			t.Fatalf("SessionPage of a session without children sent %v, want 1 query", n)
		}
		if len(got.LineItems)+len(got.Adjustments)+len(got.Refunds) != 0 || got.Status != store.StatusOpen {
			t.Fatalf("got %+v", got)
		}
		// The clock applies: past its expiry the page reads it expired.
		c.Set(time.Unix(sess.ExpiresAt, 0))
		if got, _, _ := s.SessionPage(t.Context(), sess.ID); got.Status != store.StatusExpired {
			t.Fatalf("status at expires_at = %q, want expired", got.Status)
		}
	})
}

func TestSessionPageOfUnknownSessionIsNotFound(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		for _, id := range []string{"cs_test_0123456789abcdefghijklmnopqrstuv", "nope", "cs_test_\x00"} {
			_, _, err := s.SessionPage(t.Context(), id)
			wantCode(t, err, store.ENOTFOUND)
		}
	})
}
