package store_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

var (
	process = store.Transition{Action: store.ActionProcess}
	succeed = store.Transition{Action: store.ActionSucceed}
	fail    = store.Transition{Action: store.ActionFail}
	expire  = store.Transition{Action: store.ActionExpire}
	cancel  = store.Transition{Action: store.ActionCancel}
)

func refund(amount int64) store.Transition {
	return store.Transition{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: amount}}
}

// startState is a (status, payment status) pair and how to reach it from a
// new session.
type startState struct {
	name  string // status/payment_status
	free  bool   // nothing to pay: total 0
	steps []store.Transition
}

// every reachable (status, payment status) pair; validParams costs 3000.
var startStates = []startState{
	{"open/unpaid", false, nil},
	{"open/failed", false, []store.Transition{fail}},
	{"open/no_payment_required", true, nil},
	{"processing/pending", false, []store.Transition{process}},
	{"complete/paid", false, []store.Transition{succeed}},
	{"complete/partially_refunded", false, []store.Transition{succeed, refund(1)}},
	{"complete/refunded", false, []store.Transition{succeed, refund(3000)}},
	{"complete/no_payment_required", true, []store.Transition{succeed}},
	{"expired/unpaid", false, []store.Transition{expire}},
	{"canceled/unpaid", false, []store.Transition{cancel}},
}

// sessionIn creates a session and drives it into state st.
func sessionIn(t *testing.T, s *store.Store, m *store.Merchant, st startState) *store.Session {
	t.Helper()
	p := validParams()
	if st.free {
		p.LineItems = []store.LineItemParams{item("Sample", 1, 0)}
	}
	sess := createSession(t, s, m, false, p)
	for _, step := range st.steps {
		sess = transition(t, s, sess.ID, step)
	}
	if got := sess.Status + "/" + sess.PaymentStatus; got != st.name {
		t.Fatalf("setup reached %s, want %s", got, st.name)
	}
	return sess
}

const refused = "refused"

// timestamps names the timestamps each action sets when they are not set yet.
var timestamps = map[store.Action][]string{
	store.ActionProcess: {"ConfirmedAt"},
	store.ActionSucceed: {"ConfirmedAt", "CompletedAt", "PaidAt"}, // PaidAt only when money moved
	store.ActionExpire:  {"ExpiredAt"},
	store.ActionCancel:  {"CanceledAt"},
}

func TestTransitionFollowsTheStateMachine(t *testing.T) {
	t.Parallel()
	actions := []store.Transition{process, succeed, fail, expire, cancel, refund(1)}
	// The whole machine: what each action does from each state.
	machine := map[string][6]string{
		//                              process               succeed                         fail           expire                          cancel                          refund
		"open/unpaid":                  {"processing/pending", "complete/paid", "open/failed", "expired/unpaid", "canceled/unpaid", refused},
		"open/failed":                  {"processing/pending", "complete/paid", "open/failed", "expired/failed", "canceled/failed", refused},
		"open/no_payment_required":     {refused, "complete/no_payment_required", refused, "expired/no_payment_required", "canceled/no_payment_required", refused},
		"processing/pending":           {refused, "complete/paid", "open/failed", refused, "canceled/unpaid", refused},
		"complete/paid":                {refused, refused, refused, refused, refused, "complete/partially_refunded"},
		"complete/partially_refunded":  {refused, refused, refused, refused, refused, "complete/partially_refunded"},
		"complete/refunded":            {refused, refused, refused, refused, refused, refused},
		"complete/no_payment_required": {refused, refused, refused, refused, refused, refused},
		"expired/unpaid":               {refused, refused, refused, refused, refused, refused},
		"canceled/unpaid":              {refused, refused, refused, refused, refused, refused},
	}
	if len(machine) != len(startStates) {
		t.Fatalf("the table covers %d states, there are %d", len(machine), len(startStates))
	}
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for _, st := range startStates {
			for i, tr := range actions {
				want := machine[st.name][i]
				t.Run(st.name+"/"+string(tr.Action), func(t *testing.T) {
					sess := sessionIn(t, s, m, st)
					c.Advance(time.Minute)
					now := c.Unix()
					before := getSession(t, s, sess.ID)
					nEvents := len(events(t, s, sess.ID))
					nRefunds := countRows(t, s, "refunds", "session_id = ?", sess.ID)

					tr.Source = "api"
					got, err := s.Transition(t.Context(), sess.ID, tr)
					after := getSession(t, s, sess.ID)

					if want == refused {
						wantCode(t, err, store.ESTATE)
						if got != nil {
							t.Errorf("a refused transition returned a session")
						}
						wantSameSession(t, after, before)
						if n := len(events(t, s, sess.ID)); n != nEvents {
							t.Errorf("%d events after a refused transition, want %d", n, nEvents)
						}
						if n := countRows(t, s, "refunds", "session_id = ?", sess.ID); n != nRefunds {
							t.Errorf("%d refunds after a refused transition, want %d", n, nRefunds)
						}
						return
					}

					if err != nil {
						t.Fatalf("transition: %v", err)
					}
					if to := got.Status + "/" + got.PaymentStatus; to != want {
						t.Fatalf("went to %s, want %s", to, want)
					}
					wantSameSession(t, after, got)
					wantInt(t, "version", after.Version, before.Version+1)
					wantInt(t, "updated", after.Updated, now)
					wantInt(t, "last_activity_at", after.LastActivityAt, now)

					evs := events(t, s, sess.ID)
					if len(evs) != nEvents+1 {
						t.Fatalf("%d events, want %d", len(evs), nEvents+1)
					}
					ev := evs[len(evs)-1]
					wantEvent := store.Event{Seq: ev.Seq, SessionID: sess.ID, Action: string(tr.Action), Source: "api",
						FromStatus: before.Status, ToStatus: after.Status, FromPaymentStatus: before.PaymentStatus,
						ToPaymentStatus: after.PaymentStatus, Version: after.Version, Data: ev.Data, Created: now}
					if !reflect.DeepEqual(ev, wantEvent) {
						t.Errorf("event = %+v, want %+v", ev, wantEvent)
					}

					// Each action stamps its own times once, and leaves the others alone.
					sets := map[string]bool{}
					for _, name := range timestamps[tr.Action] {
						sets[name] = name != "PaidAt" || after.PaymentStatus == store.PaymentPaid
					}
					for _, name := range []string{"ConfirmedAt", "PaidAt", "CompletedAt", "CanceledAt", "ExpiredAt"} {
						b := reflect.ValueOf(before).Elem().FieldByName(name).Interface().(*int64)
						a := reflect.ValueOf(after).Elem().FieldByName(name).Interface().(*int64)
						switch {
						case sets[name] && b == nil:
							if a == nil || *a != now {
								t.Errorf("%s = %s, want %d", name, show(a), now)
							}
						case !reflect.DeepEqual(a, b):
							t.Errorf("%s changed from %s to %s", name, show(b), show(a))
						}
					}
					if tr.Action == store.ActionRefund {
						wantInt(t, "amount_refunded", after.AmountRefunded, before.AmountRefunded+1)
						if n := countRows(t, s, "refunds", "session_id = ?", sess.ID); n != nRefunds+1 {
							t.Errorf("%d refunds, want %d", n, nRefunds+1)
						}
					}
				})
			}
		}
	})
}

func TestTransitionRecordsWhatThePaymentProviderSaid(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		next := &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://bank.example/auth"}
		for _, step := range []struct {
			tr    store.Transition
			check func(t *testing.T, got *store.Session)
		}{
			{store.Transition{Action: store.ActionProcess, PaymentIntent: "pi_1", Provider: "acmepay", NextAction: next},
				func(t *testing.T, got *store.Session) {
					if got.PaymentIntent != "pi_1" || got.Provider != "acmepay" || !reflect.DeepEqual(got.NextAction, next) {
						t.Errorf("after process: intent %q provider %q next %s", got.PaymentIntent, got.Provider, show(got.NextAction))
					}
				}},
			{store.Transition{Action: store.ActionFail, FailureMessage: "Declined"},
				func(t *testing.T, got *store.Session) {
					if got.FailureReason != "generic_decline" || got.FailureMessage != "Declined" || got.NextAction != nil {
						t.Errorf("after fail: reason %q message %q next %s", got.FailureReason, got.FailureMessage, show(got.NextAction))
					}
					if got.PaymentIntent != "pi_1" {
						t.Errorf("a transition without a payment intent erased it: %q", got.PaymentIntent)
					}
				}},
			{store.Transition{Action: store.ActionSucceed, PaymentMethod: "card"},
				func(t *testing.T, got *store.Session) {
					if got.FailureReason != "" || got.FailureMessage != "" || got.PaymentMethod != "card" {
						t.Errorf("after succeed: reason %q message %q method %q", got.FailureReason, got.FailureMessage, got.PaymentMethod)
					}
				}},
		} {
			got := transition(t, s, sess.ID, step.tr)
			wantSameSession(t, getSession(t, s, sess.ID), got)
			step.check(t, got)
		}
	})
}

func TestTransitionRefusesBadRefundsAndChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := sessionIn(t, s, m, startStates[5]) // complete/partially_refunded: 1 of 3000 refunded
		for _, tc := range []struct {
			name   string
			refund *store.RefundParams
			param  string
		}{
			{"no refund", nil, "amount"},
			{"zero amount", &store.RefundParams{Amount: 0}, "amount"},
			{"negative amount", &store.RefundParams{Amount: -1}, "amount"},
			{"more than is left", &store.RefundParams{Amount: 3000}, "amount"},
			{"unknown status", &store.RefundParams{Amount: 1, Status: "lost"}, "refund[status]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := getSession(t, s, sess.ID)
				_, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionRefund, Refund: tc.refund})
				var e *store.Error
				if !errors.As(err, &e) || e.Code != store.EINVALID || e.Param != tc.param {
					t.Fatalf("err = %v, want %s naming %s", err, store.EINVALID, tc.param)
				}
				wantSameSession(t, getSession(t, s, sess.ID), before)
				if n := countRows(t, s, "refunds", "session_id = ?", sess.ID); n != 1 {
					t.Errorf("%d refunds, want 1", n)
				}
			})
		}
	})
}

func TestRefundsOnlyMoveMoneyWhenTheySucceed(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := sessionIn(t, s, m, startStates[4]) // complete/paid, 3000
		for _, step := range []struct {
			refund   store.RefundParams
			payment  string
			refunded int64
		}{
			{store.RefundParams{Amount: 1000, Status: store.RefundPending}, store.PaymentPaid, 0},
			{store.RefundParams{Amount: 1000, Status: store.RefundFailed, FailureReason: "lost_card"}, store.PaymentPaid, 0},
			{store.RefundParams{Amount: 1000, Status: store.RefundCanceled}, store.PaymentPaid, 0},
			{store.RefundParams{Amount: 1000}, store.PaymentPartiallyRefunded, 1000},
			// The pending 1000 is held: 1000 is all that is left.
			{store.RefundParams{Amount: 1000, Reason: "fraudulent"}, store.PaymentPartiallyRefunded, 2000},
		} {
			r := step.refund
			got := transition(t, s, sess.ID, store.Transition{Action: store.ActionRefund, Refund: &r})
			if got.PaymentStatus != step.payment || got.AmountRefunded != step.refunded {
				t.Fatalf("after a %s refund of %d: payment %s, refunded %d; want %s, %d", r.Status, r.Amount,
					got.PaymentStatus, got.AmountRefunded, step.payment, step.refunded)
			}
		}
		got := getSession(t, s, sess.ID)
		var statuses []string
		for _, r := range got.Refunds {
			statuses = append(statuses, r.Status)
			if r.Currency != "eur" || r.SessionID != sess.ID {
				t.Errorf("refund %+v: want currency eur, session %s", r, sess.ID)
			}
		}
		if len(statuses) != 5 {
			t.Fatalf("refunds = %v, want 5", statuses)
		}
	})
}

func TestTransitionIsRefusedForAStaleVersionOrUnknownSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		_, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionSucceed, IfVersion: sess.Version + 1})
		wantCode(t, err, store.ECONFLICT)
		wantSameSession(t, getSession(t, s, sess.ID), sess)
		if n := len(events(t, s, sess.ID)); n != 0 {
			t.Errorf("%d events after a stale-version transition", n)
		}
		got := transition(t, s, sess.ID, store.Transition{Action: store.ActionSucceed, IfVersion: sess.Version})
		wantInt(t, "version", got.Version, sess.Version+1)

		_, err = s.Transition(t.Context(), "cs_test_doesnotexist", succeed)
		wantCode(t, err, store.ENOTFOUND)
		_, err = s.Transition(t.Context(), sess.ID, store.Transition{Action: "pay"})
		wantCode(t, err, store.EINVALID)
	})
}

// race runs fn in n goroutines released at once, and returns their errors.
func race(n int, fn func() error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestConcurrentTransitionsHaveExactlyOneWinner(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		start startState
		tr    store.Transition // one value shared by every goroutine
		want  string
	}{
		{"succeed", startStates[0], succeed, "complete/paid"},
		{"cancel", startStates[3], cancel, "canceled/unpaid"},
		{"expire", startStates[0], expire, "expired/unpaid"},
		{"full refund", startStates[4], refund(3000), "complete/refunded"},
	}
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sess := sessionIn(t, s, m, tc.start)
				nEvents := len(events(t, s, sess.ID))

				errs := race(20, func() error {
					_, err := s.Transition(t.Context(), sess.ID, tc.tr)
					return err
				})

				wins := 0
				for _, err := range errs {
					switch store.ErrorCode(err) {
					case "":
						wins++
					case store.ESTATE, store.ECONFLICT:
					default:
						t.Errorf("a loser got %v, want %s or %s", err, store.ESTATE, store.ECONFLICT)
					}
				}
				if wins != 1 {
					t.Fatalf("%d goroutines won, want exactly 1", wins)
				}
				after := getSession(t, s, sess.ID)
				if got := after.Status + "/" + after.PaymentStatus; got != tc.want {
					t.Errorf("state = %s, want %s", got, tc.want)
				}
				wantInt(t, "version", after.Version, sess.Version+1)
				wantInt(t, "new events", int64(len(events(t, s, sess.ID))-nEvents), 1)
				if tc.tr.Refund != nil {
					wantInt(t, "amount_refunded", after.AmountRefunded, 3000)
					wantInt(t, "refunds", int64(len(after.Refunds)), 1)
				}
			})
		}
	})
}

func TestConcurrentPartialRefundsAreAllApplied(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		p := validParams()
		p.LineItems = []store.LineItemParams{item("Pin", 20, 1)}
		sess := transition(t, s, createSession(t, s, m, false, p).ID, succeed)

		for i, err := range race(20, func() error {
			_, err := s.Transition(t.Context(), sess.ID, refund(1))
			return err
		}) {
			if err != nil {
				t.Errorf("refund %d: %v", i, err)
			}
		}
		after := getSession(t, s, sess.ID)
		wantInt(t, "amount_refunded", after.AmountRefunded, 20)
		wantInt(t, "refunds", int64(len(after.Refunds)), 20)
		wantInt(t, "version", after.Version, sess.Version+20)
		wantInt(t, "events", int64(len(events(t, s, sess.ID))), 21)
		if after.PaymentStatus != store.PaymentRefunded {
			t.Errorf("payment status = %s, want %s", after.PaymentStatus, store.PaymentRefunded)
		}
	})
}

func TestDuplicateEventIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		first := transition(t, s, sess.ID, store.Transition{Action: store.ActionProcess, EventID: "evt_1"})

		for _, tc := range []struct {
			name string
			id   string
			tr   store.Transition
		}{
			{"same event again", sess.ID, store.Transition{Action: store.ActionProcess, EventID: "evt_1"}},
			{"same event id with another action", sess.ID, store.Transition{Action: store.ActionSucceed, EventID: "evt_1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Transition(t.Context(), tc.id, tc.tr)
				if !errors.Is(err, store.ErrDuplicateEvent) {
					t.Fatalf("err = %v, want ErrDuplicateEvent", err)
				}
				wantSameSession(t, got, first) // the caller answers with the current state
				wantSameSession(t, getSession(t, s, sess.ID), first)
				wantInt(t, "events", int64(len(events(t, s, sess.ID))), 1)
			})
		}

		t.Run("same event id on another merchant's session", func(t *testing.T) {
			theirs := createSession(t, s, other, false, validParams())
			transition(t, s, theirs.ID, store.Transition{Action: store.ActionProcess, EventID: "evt_1"})
		})
		t.Run("concurrent deliveries of one event", func(t *testing.T) {
			again := createSession(t, s, m, false, validParams())
			wins, dups := 0, 0
			for _, err := range race(10, func() error {
				_, err := s.Transition(t.Context(), again.ID, store.Transition{Action: store.ActionProcess, EventID: "evt_2"})
				return err
			}) {
				switch {
				case err == nil:
					wins++
				case errors.Is(err, store.ErrDuplicateEvent):
					dups++
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
			if wins != 1 || dups != 9 {
				t.Fatalf("%d applied and %d duplicates, want 1 and 9", wins, dups)
			}
			wantInt(t, "events", int64(len(events(t, s, again.ID))), 1)
		})
	})
}

func TestSessionExpiresAtTheExactInstant(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		p := validParams()
		p.ExpiresAt = t0.Add(time.Hour).Unix()
		sess := createSession(t, s, m, false, p)
		expiresAt := time.Unix(p.ExpiresAt, 0)

		listed := func(t *testing.T, status string) bool {
			t.Helper()
			list, _, err := s.ListSessions(t.Context(), m.ID, false, store.ListParams{Limit: 10, Status: status})
			if err != nil {
				t.Fatalf("list %s: %v", status, err)
			}
			return len(list) == 1 && list[0].ID == sess.ID
		}
		for _, tc := range []struct {
			name string
			at   time.Time
			want string
		}{
			{"one second before", expiresAt.Add(-time.Second), store.StatusOpen},
			{"at expires_at", expiresAt, store.StatusExpired},
			{"an hour later", expiresAt.Add(time.Hour), store.StatusExpired},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.Set(tc.at)
				got := getSession(t, s, sess.ID)
				mine, err := s.MerchantSession(t.Context(), m.ID, false, sess.ID)
				if err != nil {
					t.Fatalf("merchant session: %v", err)
				}
				all, _, err := s.ListSessions(t.Context(), m.ID, false, store.ListParams{Limit: 10})
				if err != nil || len(all) != 1 {
					t.Fatalf("list: %d sessions, %v", len(all), err)
				}
				for what, st := range map[string]string{"Session": got.Status, "MerchantSession": mine.Status, "ListSessions": all[0].Status} {
					if st != tc.want {
						t.Errorf("%s status = %s, want %s", what, st, tc.want)
					}
				}
				for _, filter := range []string{store.StatusOpen, store.StatusExpired} {
					if got, want := listed(t, filter), filter == tc.want; got != want {
						t.Errorf("listed under status=%s: %v, want %v", filter, got, want)
					}
				}
				var wantExpiredAt *int64
				if tc.want == store.StatusExpired {
					wantExpiredAt = &p.ExpiresAt
				}
				if !reflect.DeepEqual(got.ExpiredAt, wantExpiredAt) {
					t.Errorf("expired_at = %s, want %s", show(got.ExpiredAt), show(wantExpiredAt))
				}
				// Reading changes nothing: the row stays open until swept.
				if n := countRows(t, s, "checkout_sessions", "id = ? AND status = 'open' AND expired_at IS NULL", sess.ID); n != 1 {
					t.Errorf("reading persisted the expiry")
				}
			})
		}
	})
}

func TestTransitionsOnAnEffectivelyExpiredSessionAreRefused(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for _, tc := range []struct {
			start startState
			tr    store.Transition
		}{
			{startStates[0], process},
			{startStates[0], succeed},
			{startStates[0], fail},
			{startStates[0], cancel},
			{startStates[1], succeed},
			{startStates[2], succeed},
		} {
			t.Run(tc.start.name+"/"+string(tc.tr.Action), func(t *testing.T) {
				c.Set(t0)
				sess := sessionIn(t, s, m, tc.start)
				c.Set(time.Unix(sess.ExpiresAt, 0))
				before := getSession(t, s, sess.ID)
				_, err := s.Transition(t.Context(), sess.ID, tc.tr)
				wantCode(t, err, store.ESTATE)
				wantSameSession(t, getSession(t, s, sess.ID), before)
			})
		}
		t.Run("a payment in flight may still settle", func(t *testing.T) {
			c.Set(t0)
			sess := sessionIn(t, s, m, startStates[3]) // processing/pending
			c.Set(time.Unix(sess.ExpiresAt, 0).Add(time.Minute))
			if got := transition(t, s, sess.ID, succeed); got.Status != store.StatusComplete {
				t.Fatalf("status = %s, want complete", got.Status)
			}
		})
	})
}

func TestSweepExpiredPersistsExpiryThroughTransition(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		at := func(d time.Duration) *store.SessionParams {
			p := validParams()
			p.ExpiresAt = t0.Add(d).Unix()
			return p
		}
		first := createSession(t, s, m, false, at(time.Hour))
		second := createSession(t, s, m, false, at(2*time.Hour))
		inFlight := transition(t, s, createSession(t, s, m, false, at(time.Hour)).ID, process)
		paid := transition(t, s, createSession(t, s, m, false, at(time.Hour)).ID, succeed)

		for _, step := range []struct {
			now     time.Time
			swept   int
			expired []*store.Session
		}{
			{t0.Add(time.Hour - time.Second), 0, nil},
			{t0.Add(time.Hour + 30*time.Minute), 1, []*store.Session{first}},
			{t0.Add(time.Hour + 31*time.Minute), 0, []*store.Session{first}},
			{t0.Add(2 * time.Hour), 1, []*store.Session{first, second}}, // exactly at expires_at
		} {
			c.Set(step.now)
			n, err := s.SweepExpired(t.Context())
			if err != nil || n != step.swept {
				t.Fatalf("at %v: swept %d (%v), want %d", step.now.Sub(t0), n, err, step.swept)
			}
			for _, sess := range step.expired {
				var row struct {
					Status    string `db:"status"`
					ExpiredAt int64  `db:"expired_at"`
					Version   int64  `db:"version"`
				}
				if err := s.DB().GetContext(t.Context(), &row, s.DB().Rebind(`SELECT status, expired_at, version
					FROM checkout_sessions WHERE id = ?`), sess.ID); err != nil {
					t.Fatalf("read row: %v", err)
				}
				if row.Status != store.StatusExpired || row.ExpiredAt != sess.ExpiresAt || row.Version != sess.Version+1 {
					t.Errorf("stored %+v, want expired at %d, version %d", row, sess.ExpiresAt, sess.Version+1)
				}
				evs := events(t, s, sess.ID)
				if len(evs) != 1 || evs[0].Source != "sweeper" || evs[0].Action != string(store.ActionExpire) ||
					evs[0].FromStatus != store.StatusOpen || evs[0].ToStatus != store.StatusExpired {
					t.Errorf("events = %+v, want one expire event from the sweeper", evs)
				}
			}
		}
		for _, sess := range []*store.Session{inFlight, paid} {
			if got := getSession(t, s, sess.ID); got.Version != sess.Version || got.Status != sess.Status {
				t.Errorf("sweeper touched a %s session", sess.Status)
			}
		}
	})
}

func TestRecoverStartsAChildOfAnExpiredSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		allows, _ := newMerchant(t, s, func(m *store.Merchant) { m.RecoveryEnabled = true })
		refuses, _ := newMerchant(t, s, nil)
		for _, tc := range []struct {
			name  string
			m     *store.Merchant
			setup func(t *testing.T, id string) // moves the parent on from open
			want  string                        // error code, "" for a child
		}{
			{"expired, recovery enabled", allows, func(t *testing.T, id string) { transition(t, s, id, expire) }, ""},
			{"past expiry and not yet swept", allows, func(t *testing.T, id string) { c.Advance(store.DefaultExpiry) }, ""},
			{"expired, recovery disabled", refuses, func(t *testing.T, id string) { transition(t, s, id, expire) }, store.ESTATE},
			{"open", allows, func(t *testing.T, id string) {}, store.ESTATE},
			{"canceled", allows, func(t *testing.T, id string) { transition(t, s, id, cancel) }, store.ESTATE},
			{"complete", allows, func(t *testing.T, id string) { transition(t, s, id, succeed) }, store.ESTATE},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.Set(t0)
				p := fullParams(c.Now())
				p.ExpiresAt = 0
				p.RecoveryEnabled = nil // the merchant decides
				parent := createSession(t, s, tc.m, true, p)
				tc.setup(t, parent.ID)
				parent = getSession(t, s, parent.ID)
				sessionsBefore := countRows(t, s, "checkout_sessions", "")

				child, err := s.Recover(t.Context(), parent.ID)
				wantCode(t, err, tc.want)
				if tc.want != "" {
					if n := countRows(t, s, "checkout_sessions", ""); n != sessionsBefore {
						t.Errorf("a refused recovery stored a session")
					}
					return
				}
				wantSameSession(t, getSession(t, s, child.ID), child)
				if child.ID == parent.ID || child.ParentID != parent.ID {
					t.Errorf("child id %s parent %s, want a new id whose parent is %s", child.ID, child.ParentID, parent.ID)
				}
				if child.Status != store.StatusOpen || child.PaymentStatus != store.PaymentUnpaid || child.Version != 1 {
					t.Errorf("child is %s/%s version %d, want a new open session", child.Status, child.PaymentStatus, child.Version)
				}
				wantInt(t, "child expires_at", child.ExpiresAt, c.Unix()+int64(store.DefaultExpiry/time.Second))
				// Same content: everything but identity, state and times.
				same := func(sess *store.Session) *store.Session {
					cp := *sess
					cp.Seq, cp.ID, cp.ParentID, cp.Status, cp.PaymentStatus, cp.Version = 0, "", "", "", "", 0
					cp.Created, cp.Updated, cp.LastActivityAt, cp.ExpiresAt, cp.ExpiredAt = 0, 0, 0, 0, nil
					cp.IdempotencyKey = "" // belongs to the request that created the parent
					// The provider's next action is the parent's payment attempt:
					// the child's is the provider's to give.
					cp.NextAction, cp.ProviderOrigin = nil, ""
					cp.LineItems = nil
					for _, li := range sess.LineItems {
						li.ID, li.SessionID = "", ""
						cp.LineItems = append(cp.LineItems, li)
					}
					cp.Adjustments = nil
					for _, a := range sess.Adjustments {
						a.SessionID = ""
						cp.Adjustments = append(cp.Adjustments, a)
					}
					return &cp
				}
				wantSameSession(t, same(child), same(parent))
				for i := range child.LineItems {
					if child.LineItems[i].ID == parent.LineItems[i].ID {
						t.Errorf("line item %d kept its id", i)
					}
				}
				children, _, err := s.ListSessions(t.Context(), tc.m.ID, true, store.ListParams{Limit: 10, ParentID: parent.ID})
				if err != nil || len(children) != 1 || children[0].ID != child.ID {
					t.Errorf("children of the parent = %v (%v), want [%s]", sortedIDs(children), err, child.ID)
				}
			})
		}
		t.Run("unknown session", func(t *testing.T) {
			_, err := s.Recover(t.Context(), "cs_test_doesnotexist")
			wantCode(t, err, store.ENOTFOUND)
		})
	})
}

func TestTransitionRefusesUnsafeNextActions(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess, err := s.CreateSession(t.Context(), m, false, validParams())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			na    store.NextAction
			param string
		}{
			{"javascript URL", store.NextAction{Type: "redirect_to_url", RedirectURL: "javascript:alert(1)"}, "next_action[redirect_url]"},
			{"plain http", store.NextAction{Type: "redirect_to_url", RedirectURL: "http://acs.example/3ds"}, "next_action[redirect_url]"},
			{"user info", store.NextAction{Type: "redirect_to_url", RedirectURL: "https://u:p@acs.example/"}, "next_action[redirect_url]"},
			{"unknown type", store.NextAction{Type: "popup", RedirectURL: "https://acs.example/"}, "next_action[type]"},
			{"origin with a path", store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/",
				AllowedOrigins: []string{"https://acs.example/frame"}}, "next_action[allowed_origins][0]"},
		} {
			na := tc.na
			_, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionProcess, Source: "test", NextAction: &na})
			wantInvalid(t, err, tc.param)
			if got, _ := s.Session(t.Context(), sess.ID); got.Version != sess.Version {
				t.Fatalf("%s: a refused next action changed the session", tc.name)
			}
		}
		ok := &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds", AllowedOrigins: []string{"https://acs.example"}}
		if _, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionProcess, Source: "test", NextAction: ok}); err != nil {
			t.Fatalf("a valid next action was refused: %v", err)
		}
	})
}

func TestConcurrentRecoveriesLeadToOneChild(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, func(m *store.Merchant) { m.RecoveryEnabled = true })
		parent := createSession(t, s, m, false, validParams())
		transition(t, s, parent.ID, expire)
		ids := make(chan string, 20)
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				child, err := s.Recover(t.Context(), parent.ID)
				if err != nil {
					t.Errorf("recover: %v", err)
					return
				}
				ids <- child.ID
			}()
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			seen[id] = true
		}
		if len(seen) != 1 || countRows(t, s, "checkout_sessions", "parent_id <> ''") != 1 {
			t.Fatalf("20 concurrent recoveries made %d children (%v), want one", len(seen), seen)
		}
	})
}

func TestEventIDsAreScopedToTheMode(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		testSess := createSession(t, s, m, false, validParams())
		liveSess := createSession(t, s, m, true, validParams())
		fail := store.Transition{Action: store.ActionFail, Source: "payment_event", EventID: "evt_shared"}
		if _, err := s.Transition(t.Context(), testSess.ID, fail); err != nil {
			t.Fatal(err)
		}
		// A test-mode event must not suppress the live event with its id.
		got, err := s.Transition(t.Context(), liveSess.ID, store.Transition{Action: store.ActionSucceed, Source: "payment_event", EventID: "evt_shared"})
		if err != nil || got.Status != store.StatusComplete {
			t.Fatalf("live event with a test event's id: %v, %v", got, err)
		}
	})
}

func TestNextActionSetAtCreationAndReplacedByTheProvider(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		bad := validParams()
		bad.NextAction = &store.NextAction{Type: "redirect_to_url", RedirectURL: "http://pay.example/cs"}
		_, err := s.CreateSession(t.Context(), m, true, bad)
		wantInvalid(t, err, "next_action[redirect_url]")
		if n := countRows(t, s, "checkout_sessions", ""); n != 0 {
			t.Fatalf("a refused next_action stored %d sessions", n)
		}

		p := validParams()
		pay := &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://pay.example/cs_1"}
		p.NextAction = pay
		sess := createSession(t, s, m, true, p)
		if got := getSession(t, s, sess.ID); !reflect.DeepEqual(got.NextAction, pay) {
			t.Fatalf("next_action at creation: %+v", got.NextAction)
		}
		challenge := &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.example/3ds"}
		retry := &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://pay.example/cs_1/retry"}
		for _, step := range []struct {
			tr   store.Transition
			want *store.NextAction
		}{
			{store.Transition{Action: store.ActionProcess, Source: "test", NextAction: challenge}, challenge},
			{store.Transition{Action: store.ActionFail, Source: "test", NextAction: retry}, retry},
			{store.Transition{Action: store.ActionFail, Source: "test"}, nil}, // the provider named no way on
		} {
			got, err := s.Transition(t.Context(), sess.ID, step.tr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.NextAction, step.want) {
				t.Fatalf("after %s: next_action %+v, want %+v", step.tr.Action, got.NextAction, step.want)
			}
		}
	})
}
