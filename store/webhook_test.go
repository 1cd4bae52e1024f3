package store_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// Which events each change makes: a pure function of the transition and the
// session before and after it, tested here without a database. A change
// the state machine refuses makes none (TestTransitionWritesEvents…).
func TestEventTypesOfEveryChange(t *testing.T) {
	t.Parallel()
	const (
		completed      = store.EventSessionCompleted
		asyncSucceeded = store.EventSessionAsyncPaymentSucceeded
		asyncFailed    = store.EventSessionAsyncPaymentFailed
		expired        = store.EventSessionExpired
		paymentFailed  = store.EventSessionPaymentFailed
		canceled       = store.EventSessionCanceled
		refunded       = store.EventSessionRefunded
		refundUpdated  = store.EventSessionRefundUpdated
		reversed       = store.EventSessionReversed
		settled        = store.EventSessionSettled
	)
	session := func(state string, refunded int64) *store.Session {
		status, payment, _ := strings.Cut(state, "/")
		return &store.Session{Status: status, PaymentStatus: payment, AmountTotal: 3000, AmountRefunded: refunded}
	}
	for _, tc := range []struct {
		name           string
		action         store.Action
		before, after  string
		refundedBefore int64
		refundedAfter  int64
		want           string
	}{
		{"payment submitted, settles later", store.ActionProcess, "open/unpaid", "processing/pending", 0, 0, completed},
		{"retry submitted after a decline", store.ActionProcess, "open/failed", "processing/pending", 0, 0, completed},
		{"paid at once", store.ActionSucceed, "open/unpaid", "complete/paid", 0, 0, completed},
		{"paid after a decline", store.ActionSucceed, "open/failed", "complete/paid", 0, 0, completed},
		{"free order completed", store.ActionSucceed, "open/no_payment_required", "complete/no_payment_required", 0, 0, completed},
		{"pending payment settled", store.ActionSucceed, "processing/pending", "complete/paid", 0, 0, asyncSucceeded},
		{"declined", store.ActionFail, "open/unpaid", "open/failed", 0, 0, paymentFailed},
		{"declined again", store.ActionFail, "open/failed", "open/failed", 0, 0, paymentFailed},
		{"pending payment declined", store.ActionFail, "processing/pending", "open/failed", 0, 0, asyncFailed},
		{"expired", store.ActionExpire, "open/unpaid", "expired/unpaid", 0, 0, expired},
		{"expired after a decline", store.ActionExpire, "open/failed", "expired/failed", 0, 0, expired},
		{"canceled", store.ActionCancel, "open/unpaid", "canceled/unpaid", 0, 0, canceled},
		{"pending payment voided", store.ActionCancel, "processing/pending", "canceled/unpaid", 0, 0, asyncFailed},
		{"partly refunded", store.ActionRefund, "complete/paid", "complete/partially_refunded", 0, 1000, refunded},
		{"refunded in full", store.ActionRefund, "complete/partially_refunded", "complete/refunded", 1000, 3000, refunded},
		{"refund pending", store.ActionRefund, "complete/paid", "complete/paid", 0, 0, refundUpdated},
		{"refund failed", store.ActionRefund, "complete/partially_refunded", "complete/partially_refunded", 1000, 1000, refundUpdated},
		{"pending refund succeeded", store.ActionRefundUpdate, "complete/paid", "complete/partially_refunded", 0, 1000, refunded},
		{"pending refund failed", store.ActionRefundUpdate, "complete/paid", "complete/paid", 0, 0, refundUpdated},
		{"reversed", store.ActionReverse, "complete/paid", "complete/reversed", 0, 0, reversed},
		{"paid through its recovery", store.ActionSettleByChild, "expired/unpaid", "expired/unpaid", 0, 0, settled},
	} {
		got := store.EventTypes(store.Transition{Action: tc.action},
			session(tc.before, tc.refundedBefore), session(tc.after, tc.refundedAfter))
		if !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s (%s: %s → %s): events %v, want [%s]", tc.name, tc.action, tc.before, tc.after, got, tc.want)
		}
		if !slices.Contains(store.WebhookEventTypes, tc.want) {
			t.Errorf("%s is missing from WebhookEventTypes", tc.want)
		}
	}
}

// The retry schedule, without a clock: delays double from a minute (each
// drawn between its half and its whole) up to 12 hours, for 3 days.
func TestRetryScheduleBacksOffWithJitterForThreeDays(t *testing.T) {
	t.Parallel()
	const created, day = int64(1_900_000_000), int64(24 * 3600)
	for _, tc := range []struct {
		attempt     int
		now         int64
		jitter      float64
		wantAt      int64
		wantGivenUp bool
	}{
		{1, created, 0, created + 30, false},
		{1, created, 0.999, created + 59, false},
		{2, created + 60, 0, created + 60 + 60, false},
		{3, created + 300, 0.5, created + 300 + 180, false}, // 4 min: 2..4
		{10, created + day, 0, created + day + 256*60, false},
		{11, created + day, 1, created + day + 12*3600, false},  // 17 h capped at 12 h
		{60, created + day, 0, created + day + 6*3600, false},   // far past the cap: no overflow
		{9, created + 3*day - 100, 0.5, created + 3*day, false}, // the last try is at the deadline
		{12, created + 3*day, 0, 0, true},
		{12, created + 4*day, 0, 0, true},
	} {
		at, givenUp := store.NextAttempt(tc.attempt, created, tc.now, tc.jitter)
		if at != tc.wantAt || givenUp != tc.wantGivenUp {
			t.Errorf("after attempt %d at created+%ds (jitter %v): next at created+%d, given up %v; want created+%d, %v",
				tc.attempt, tc.now-created, tc.jitter, at-created, givenUp, tc.wantAt-created, tc.wantGivenUp)
		}
	}
	// A receiver that never answers is tried about 15 times over 3 days;
	// the jitter moves each try, never the window.
	for _, jitter := range []float64{0, 0.5, 0.999} {
		now, n := created, 1
		for {
			at, givenUp := store.NextAttempt(n, created, now, jitter)
			if givenUp {
				break
			}
			if at <= now {
				t.Fatalf("jitter %v: attempt %d due at %d, not after %d", jitter, n+1, at, now)
			}
			now, n = at, n+1
		}
		if now != created+3*day || n < 12 || n > 22 {
			t.Errorf("jitter %v: %d attempts, the last at created+%ds; want 12..22, the last at 3 days", jitter, n, now-created)
		}
	}
}

// endpoint creates an enabled endpoint for m in a mode.
func endpoint(t *testing.T, s *store.Store, m *store.Merchant, live bool, events ...string) *store.WebhookEndpoint {
	t.Helper()
	e, err := s.CreateWebhookEndpoint(t.Context(), m.ID, live, store.WebhookEndpointParams{
		URL: ptr("https://shop.example/hooks"), EnabledEvents: events})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return e
}

// delivery is a row of webhook_deliveries.
type delivery struct {
	EventID       string `db:"event_id"`
	EndpointID    string `db:"endpoint_id"`
	Status        string `db:"status"`
	Attempts      int    `db:"attempts"`
	NextAttemptAt int64  `db:"next_attempt_at"`
	LeasedUntil   int64  `db:"leased_until"`
}

func deliveries(t *testing.T, s *store.Store, eventID string) map[string]delivery {
	t.Helper()
	var rows []delivery
	if err := s.DB().SelectContext(t.Context(), &rows, s.DB().Rebind(`SELECT event_id, endpoint_id, status,
		attempts, next_attempt_at, leased_until FROM webhook_deliveries WHERE event_id = ?`), eventID); err != nil {
		t.Fatalf("deliveries: %v", err)
	}
	out := map[string]delivery{}
	for _, d := range rows {
		out[d.EndpointID] = d
	}
	return out
}

func listEvents(t *testing.T, s *store.Store, m *store.Merchant, live bool, f store.EventFilter) []*store.WebhookEvent {
	t.Helper()
	evs, _, err := s.ListWebhookEvents(t.Context(), m.ID, live, store.Page{Limit: 100}, f)
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	return evs
}

func TestTransitionWritesEventsAndTheirDeliveriesInItsTransaction(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		all := endpoint(t, s, m, false, "*")
		completedOnly := endpoint(t, s, m, false, store.EventSessionCompleted)
		off := endpoint(t, s, m, false, "*")
		if _, err := s.UpdateWebhookEndpoint(t.Context(), m.ID, false, off.ID, store.WebhookEndpointParams{Disabled: ptr(true), DisabledBy: "in a test"}); err != nil {
			t.Fatal(err)
		}
		live := endpoint(t, s, m, true, "*")
		theirs := endpoint(t, s, other, false, "*")

		sess := createSession(t, s, m, false, validParams())
		if n := len(listEvents(t, s, m, false, store.EventFilter{})); n != 0 {
			t.Fatalf("%d events for a created session, want none", n)
		}
		c.Advance(time.Minute)
		paid := transition(t, s, sess.ID, store.Transition{Action: store.ActionSucceed,
			Request: store.RequestInfo{ID: "req_123", IdempotencyKey: "order-17"}})

		evs := listEvents(t, s, m, false, store.EventFilter{})
		if len(evs) != 1 {
			t.Fatalf("%d events after a payment, want 1", len(evs))
		}
		ev := evs[0]
		if !strings.HasPrefix(ev.ID, "evt_") || ev.Type != store.EventSessionCompleted || ev.SessionID != sess.ID ||
			ev.SessionVersion != paid.Version || ev.Created != c.Unix() || ev.Livemode ||
			ev.RequestID != "req_123" || ev.IdempotencyKey != "order-17" || ev.PendingWebhooks != 2 {
			t.Fatalf("event = %+v", ev)
		}
		snap, err := ev.Session()
		if err != nil {
			t.Fatal(err)
		}
		wantSameSession(t, snap, paid) // the whole session: line items, fees and refunds too
		got := deliveries(t, s, ev.ID)
		if len(got) != 2 || got[all.ID].Status != store.DeliveryPending || got[completedOnly.ID].Status != store.DeliveryPending ||
			got[all.ID].NextAttemptAt != c.Unix() {
			t.Fatalf("deliveries = %+v; want one, due now, to each enabled test-mode endpoint of the merchant", got)
		}
		for _, e := range []*store.WebhookEndpoint{off, live, theirs} {
			if _, ok := got[e.ID]; ok {
				t.Errorf("a delivery went to %s", e.ID)
			}
		}

		// A refund: only the endpoint that wants every type hears of it,
		// and the sweeper's or the panel's changes name no request.
		transition(t, s, sess.ID, refund(500))
		evs = listEvents(t, s, m, false, store.EventFilter{})
		if len(evs) != 2 || evs[0].Type != store.EventSessionRefunded || evs[0].RequestID != "" || evs[0].SessionVersion != paid.Version+1 {
			t.Fatalf("events after a refund = %+v", evs)
		}
		if got := deliveries(t, s, evs[0].ID); len(got) != 1 || got[all.ID].Status != store.DeliveryPending {
			t.Fatalf("deliveries of the refund = %+v", got)
		}

		// Refused: nothing written.
		if _, err := s.Transition(t.Context(), sess.ID, expire); store.ErrorCode(err) != store.ESTATE {
			t.Fatalf("expire a paid session: %v", err)
		}
		if n := len(listEvents(t, s, m, false, store.EventFilter{})); n != 2 {
			t.Fatalf("%d events after a refused change, want 2", n)
		}
		if n := countRows(t, s, "webhook_events", ""); n != 2 {
			t.Fatalf("%d events in all, want 2 (none for the other merchant or mode)", n)
		}
	})
}

// claimAll claims until nothing is due, as one worker would.
func claimAll(t *testing.T, s *store.Store) []*store.Delivery {
	t.Helper()
	var out []*store.Delivery
	for {
		ds, err := s.ClaimDeliveries(t.Context(), 7)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		if len(ds) == 0 {
			return out
		}
		out = append(out, ds...)
	}
}

// Instances racing for the same deliveries each get their own: every
// delivery is claimed exactly once, and not again while its lease lasts.
func TestConcurrentClaimsTakeEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		endpoint(t, s, m, false, "*")
		endpoint(t, s, m, false, "*")
		const sessions = 30
		for range sessions {
			sess := createSession(t, s, m, false, validParams())
			transition(t, s, sess.ID, succeed)
		}
		// Four instances: each its own pool on the one database.
		instances := make([]*store.Store, 4)
		for i := range instances {
			inst, err := store.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { inst.Close() })
			inst.Now = c.Now
			instances[i] = inst
		}
		var mu sync.Mutex
		claimed := map[string]int{}
		next := make(chan *store.Store, len(instances))
		for _, inst := range instances {
			next <- inst
		}
		for i, err := range race(len(instances), func() error {
			inst := <-next
			for {
				ds, err := inst.ClaimDeliveries(t.Context(), 5)
				if err != nil || len(ds) == 0 {
					return err
				}
				mu.Lock()
				for _, d := range ds {
					if d.Attempt != 1 || d.Event == nil || d.Endpoint == nil {
						mu.Unlock()
						return fmt.Errorf("claimed %+v", d)
					}
					claimed[d.Event.ID+" "+d.Endpoint.ID]++
				}
				mu.Unlock()
			}
		}) {
			if err != nil {
				t.Fatalf("instance %d: %v", i, err)
			}
		}
		if len(claimed) != 2*sessions {
			t.Fatalf("%d deliveries claimed, want %d", len(claimed), 2*sessions)
		}
		for k, n := range claimed {
			if n != 1 {
				t.Errorf("%s claimed %d times", k, n)
			}
		}
		// Leased: nobody gets them again until the lease runs out (a
		// crashed instance), then the next claim is attempt 2.
		if ds := claimAll(t, s); len(ds) != 0 {
			t.Fatalf("%d deliveries claimed again during their lease", len(ds))
		}
		if at, ok, err := s.NextDeliveryDue(t.Context()); err != nil || !ok || at.Unix() != c.Unix()+int64(store.DeliveryLease/time.Second) {
			t.Fatalf("next due = %v %v %v; want the end of the lease", at, ok, err)
		}
		c.Advance(store.DeliveryLease)
		again := claimAll(t, s)
		if len(again) != 2*sessions || again[0].Attempt != 2 {
			t.Fatalf("after the lease: %d claimed (attempt %d), want %d at attempt 2", len(again), again[0].Attempt, 2*sessions)
		}
	})
}

func TestAttemptsFollowTheRetryScheduleThenGiveUpAndDisableTheEndpoint(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		broken := endpoint(t, s, m, false, "*")
		flaky := endpoint(t, s, m, false, "*")
		sess := createSession(t, s, m, false, validParams())
		transition(t, s, sess.ID, succeed)
		created := c.Unix()
		fail := func(d *store.Delivery) bool {
			t.Helper()
			disabled, err := s.RecordAttempt(t.Context(), d, store.AttemptResult{Started: c.Now(), Duration: 1500 * time.Millisecond,
				StatusCode: 500, Error: "HTTP 500"})
			if err != nil {
				t.Fatal(err)
			}
			return disabled
		}

		var eventID string
		attempts := 0
		for {
			ds := claimAll(t, s)
			if len(ds) == 0 {
				at, ok, err := s.NextDeliveryDue(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if at.Unix() <= c.Unix() {
					t.Fatalf("nothing claimed, yet due at %v (now %v)", at, c.Now())
				}
				c.Set(at)
				continue
			}
			for _, d := range ds {
				eventID = d.Event.ID
				switch {
				case d.Endpoint.ID == broken.ID:
					attempts++
					if d.Attempt != attempts {
						t.Fatalf("attempt %d numbered %d", attempts, d.Attempt)
					}
					before := c.Unix()
					disabled := fail(d)
					row := deliveries(t, s, eventID)[broken.ID]
					deadline := created + int64(store.RetryWindow/time.Second)
					if c.Unix() < deadline {
						delay := min(store.RetryBase<<(attempts-1), store.RetryMaxDelay)
						if row.Status != store.DeliveryPending || disabled ||
							row.NextAttemptAt < min(before+int64(delay/2/time.Second), deadline) ||
							row.NextAttemptAt > min(before+int64(delay/time.Second), deadline) {
							t.Fatalf("after failed attempt %d at +%ds: %+v, disabled %v; want pending, due in %v..%v",
								attempts, before-created, row, disabled, delay/2, delay)
						}
					} else if row.Status != store.DeliveryFailed || !disabled {
						t.Fatalf("after 3 days: %+v, disabled %v; want given up and the endpoint disabled", row, disabled)
					}
				default:
					// The flaky endpoint fails once, then takes it.
					if d.Attempt == 1 {
						fail(d)
						continue
					}
					if _, err := s.RecordAttempt(t.Context(), d, store.AttemptResult{Started: c.Now(), StatusCode: 204, Succeeded: true}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if attempts < 12 {
			t.Fatalf("%d attempts before giving up", attempts)
		}
		e, err := s.WebhookEndpoint(t.Context(), m.ID, false, broken.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != store.EndpointDisabled || e.DisabledAt == nil || !strings.Contains(e.DisabledReason, "HTTP 500") ||
			!strings.Contains(e.DisabledReason, eventID) {
			t.Fatalf("broken endpoint = %s %v %q; want disabled saying why", e.Status, e.DisabledAt, e.DisabledReason)
		}
		if e, _ := s.WebhookEndpoint(t.Context(), m.ID, false, flaky.ID); e.Status != store.EndpointEnabled || e.FailingSince != nil {
			t.Fatalf("flaky endpoint = %s, failing since %v; want enabled and well", e.Status, e.FailingSince)
		}
		if got := deliveries(t, s, eventID)[flaky.ID]; got.Status != store.DeliverySucceeded || got.Attempts != 2 {
			t.Fatalf("flaky delivery = %+v", got)
		}

		// Every attempt is on record, newest first.
		list, _, err := s.ListDeliveryAttempts(t.Context(), m.ID, false, store.AttemptFilter{EndpointID: broken.ID}, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != attempts || list[0].Attempt != attempts || list[0].StatusCode != 500 || list[0].DurationMS != 1500 || list[0].Succeeded {
			t.Fatalf("%d attempts listed (first %+v), want %d", len(list), list[0], attempts)
		}

		// Enabled again, and asked to retry: one more attempt, now.
		if _, err := s.UpdateWebhookEndpoint(t.Context(), m.ID, false, broken.ID, store.WebhookEndpointParams{Disabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.RetryWebhookEvent(t.Context(), m.ID, false, eventID, broken.ID); err != nil || n != 1 {
			t.Fatalf("retry: %d %v", n, err)
		}
		ds := claimAll(t, s)
		if len(ds) != 1 || ds[0].Endpoint.ID != broken.ID || ds[0].Attempt != attempts+1 {
			t.Fatalf("after a retry, claimed %v", ds)
		}
		if _, err := s.RecordAttempt(t.Context(), ds[0], store.AttemptResult{Started: c.Now(), StatusCode: 200, Succeeded: true}); err != nil {
			t.Fatal(err)
		}
		if got := deliveries(t, s, eventID)[broken.ID]; got.Status != store.DeliverySucceeded {
			t.Fatalf("after a successful retry: %+v", got)
		}
		if ev, err := s.WebhookEvent(t.Context(), m.ID, false, eventID); err != nil || ev.PendingWebhooks != 0 {
			t.Fatalf("pending_webhooks = %v (%v), want 0", ev, err)
		}
		_, err = s.RetryWebhookEvent(t.Context(), m.ID, false, eventID, "we_never")
		wantInvalid(t, err, "webhook_endpoint")
		_, err = s.RetryWebhookEvent(t.Context(), m.ID, true, eventID, "")
		wantCode(t, err, store.ENOTFOUND)
	})
}

// An endpoint that was reached at some point during an event's 3 days is
// not disabled when that event is given up.
func TestAnEndpointThatWorkedMeanwhileStaysEnabled(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		e := endpoint(t, s, m, false, "*")
		record := func(d *store.Delivery, ok bool) bool {
			t.Helper()
			r := store.AttemptResult{Started: c.Now(), Error: "connection refused"}
			if ok {
				r = store.AttemptResult{Started: c.Now(), StatusCode: 200, Succeeded: true}
			}
			disabled, err := s.RecordAttempt(t.Context(), d, r)
			if err != nil {
				t.Fatal(err)
			}
			return disabled
		}
		old := createSession(t, s, m, false, validParams())
		transition(t, s, old.ID, succeed)
		for _, d := range claimAll(t, s) {
			record(d, false)
		}
		// An hour later a new event reaches the endpoint; the old one's
		// retries go on failing (say, the receiver chokes on it).
		c.Advance(time.Hour)
		fresh := createSession(t, s, m, false, validParams())
		transition(t, s, fresh.ID, succeed)
		var oldEvent string
		for _, d := range claimAll(t, s) {
			record(d, d.Event.SessionID == fresh.ID)
			if d.Event.SessionID == old.ID {
				oldEvent = d.Event.ID
			}
		}
		c.Advance(store.RetryWindow)
		ds := claimAll(t, s)
		if len(ds) != 1 || ds[0].Event.ID != oldEvent {
			t.Fatalf("claimed %d, want the old event's last retry", len(ds))
		}
		disabled := record(ds[0], false)
		got, _ := s.WebhookEndpoint(t.Context(), m.ID, false, e.ID)
		if disabled || got.Status != store.EndpointEnabled {
			t.Fatalf("disabled %v, status %s: an endpoint reached an hour after the event was made was disabled", disabled, got.Status)
		}
		if d := deliveries(t, s, oldEvent)[e.ID]; d.Status != store.DeliveryFailed {
			t.Fatalf("the old event's delivery is %s, want failed (given up)", d.Status)
		}
	})
}

func TestWebhookEndpointsAreValidatedScopedAndRolled(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		ctx := t.Context()
		for _, tc := range []struct {
			p     store.WebhookEndpointParams
			param string
		}{
			{store.WebhookEndpointParams{EnabledEvents: []string{"*"}}, "url"},
			{store.WebhookEndpointParams{URL: ptr("http://shop.example/hooks"), EnabledEvents: []string{"*"}}, "url"},
			{store.WebhookEndpointParams{URL: ptr("https://user:pw@shop.example/hooks"), EnabledEvents: []string{"*"}}, "url"},
			{store.WebhookEndpointParams{URL: ptr("/hooks"), EnabledEvents: []string{"*"}}, "url"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/" + strings.Repeat("a", 2048)), EnabledEvents: []string{"*"}}, "url"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks")}, "enabled_events"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"), EnabledEvents: []string{}}, "enabled_events"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"), EnabledEvents: []string{"*", "charge.succeeded"}}, "enabled_events[1]"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"), EnabledEvents: []string{"*"}, APIVersion: ptr("latest")}, "api_version"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"), EnabledEvents: []string{"*"}, Description: ptr(strings.Repeat("d", 501))}, "description"},
			{store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"), EnabledEvents: []string{"*"}, Metadata: map[string]string{"a[b]": "c"}}, "metadata"},
		} {
			_, err := s.CreateWebhookEndpoint(ctx, m.ID, false, tc.p)
			wantInvalid(t, err, tc.param)
		}
		if n := countRows(t, s, "webhook_endpoints", ""); n != 0 {
			t.Fatalf("%d endpoints stored by refused requests", n)
		}

		e, err := s.CreateWebhookEndpoint(ctx, m.ID, false, store.WebhookEndpointParams{URL: ptr("https://shop.example/hooks"),
			EnabledEvents: []string{store.EventSessionExpired, store.EventSessionCompleted, store.EventSessionCompleted},
			Description:   ptr("orders"), Metadata: map[string]string{"team": "shop", "x": "y"}, APIVersion: ptr("2026-03-25.dahlia")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.ID, "we_") || !strings.HasPrefix(e.Secret, "whsec_") || len(e.Secret) < 38 ||
			e.Status != store.EndpointEnabled || e.APIVersion != "2026-03-25.dahlia" ||
			!slices.Equal(e.EnabledEvents, []string{store.EventSessionCompleted, store.EventSessionExpired}) {
			t.Fatalf("created %+v", e)
		}
		// Another merchant, or the other mode, cannot see or touch it.
		for _, scope := range []struct {
			merchant string
			live     bool
		}{{other.ID, false}, {m.ID, true}} {
			_, err := s.WebhookEndpoint(ctx, scope.merchant, scope.live, e.ID)
			wantCode(t, err, store.ENOTFOUND)
			_, err = s.UpdateWebhookEndpoint(ctx, scope.merchant, scope.live, e.ID, store.WebhookEndpointParams{Description: ptr("x")})
			wantCode(t, err, store.ENOTFOUND)
			wantCode(t, s.DeleteWebhookEndpoint(ctx, scope.merchant, scope.live, e.ID), store.ENOTFOUND)
			_, err = s.RollWebhookEndpointSecret(ctx, scope.merchant, scope.live, e.ID, 0)
			wantCode(t, err, store.ENOTFOUND)
		}

		up, err := s.UpdateWebhookEndpoint(ctx, m.ID, false, e.ID, store.WebhookEndpointParams{URL: ptr("https://shop.example/v2/hooks"),
			EnabledEvents: []string{"*"}, Metadata: map[string]string{"x": "", "env": "prod"}, Disabled: ptr(true), DisabledBy: "through the API"})
		if err != nil {
			t.Fatal(err)
		}
		if up.URL != "https://shop.example/v2/hooks" || up.Description != "orders" || up.Status != store.EndpointDisabled ||
			up.DisabledReason != "Disabled through the API." || len(up.Metadata) != 2 || up.Metadata["env"] != "prod" || up.Secret != e.Secret {
			t.Fatalf("updated %+v", up)
		}
		_, err = s.UpdateWebhookEndpoint(ctx, m.ID, false, e.ID, store.WebhookEndpointParams{APIVersion: ptr("2024-06-20")})
		wantInvalid(t, err, "api_version")

		// Rolling: the old secret signs beside the new one for the overlap.
		rolled, err := s.RollWebhookEndpointSecret(ctx, m.ID, false, e.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rolled.Secret == e.Secret || !slices.Equal(rolled.Secrets(c.Unix()), []string{rolled.Secret, e.Secret}) ||
			!slices.Equal(rolled.Secrets(c.Unix()+3600), []string{rolled.Secret}) {
			t.Fatalf("rolled: %v now, %v an hour later", rolled.Secrets(c.Unix()), rolled.Secrets(c.Unix()+3600))
		}
		now, err := s.RollWebhookEndpointSecret(ctx, m.ID, false, e.ID, 0)
		if err != nil || !slices.Equal(now.Secrets(c.Unix()), []string{now.Secret}) {
			t.Fatalf("rolled with no overlap: %v %v", now.Secrets(c.Unix()), err)
		}
		_, err = s.RollWebhookEndpointSecret(ctx, m.ID, false, e.ID, store.MaxSecretOverlap+time.Second)
		wantInvalid(t, err, "expires_in")

		if err := s.DeleteWebhookEndpoint(ctx, m.ID, false, e.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.WebhookEndpoint(ctx, m.ID, false, e.ID)
		wantCode(t, err, store.ENOTFOUND)
	})
}

func TestEventsAreListedFilteredPagedAndPrunedAfter30Days(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		start := c.Unix()
		for range 3 {
			a := createSession(t, s, m, false, validParams())
			transition(t, s, a.ID, fail)
			c.Advance(time.Second)
			transition(t, s, a.ID, succeed)
			c.Advance(time.Second)
		}
		all := listEvents(t, s, m, false, store.EventFilter{})
		if len(all) != 6 || all[0].Type != store.EventSessionCompleted || all[5].Type != store.EventSessionPaymentFailed {
			t.Fatalf("listed %d events, newest first: %v…", len(all), all[0].Type)
		}
		for _, tc := range []struct {
			f    store.EventFilter
			want int
		}{
			{store.EventFilter{Types: []string{store.EventSessionCompleted}}, 3},
			{store.EventFilter{Types: []string{store.EventSessionCompleted, store.EventSessionPaymentFailed}}, 6},
			{store.EventFilter{Types: []string{"checkout.session.*"}}, 6},
			{store.EventFilter{Types: []string{"checkout.session.payment_*"}}, 3},
			{store.EventFilter{Types: []string{"checkout_session.*"}}, 0}, // _ is no wildcard
			{store.EventFilter{CreatedGTE: start + 2}, 4},
			{store.EventFilter{CreatedGTE: start + 2, CreatedLTE: start + 3}, 2},
		} {
			if got := listEvents(t, s, m, false, tc.f); len(got) != tc.want {
				t.Errorf("filter %+v: %d events, want %d", tc.f, len(got), tc.want)
			}
		}
		if got := listEvents(t, s, m, true, store.EventFilter{}); len(got) != 0 {
			t.Errorf("live mode lists %d test-mode events", len(got))
		}
		p1, more, err := s.ListWebhookEvents(t.Context(), m.ID, false, store.Page{Limit: 4}, store.EventFilter{})
		if err != nil || len(p1) != 4 || !more || p1[0].ID != all[0].ID {
			t.Fatalf("first page: %d, more %v, %v", len(p1), more, err)
		}
		p2, more, err := s.ListWebhookEvents(t.Context(), m.ID, false, store.Page{Limit: 4, StartingAfter: p1[3].ID}, store.EventFilter{})
		if err != nil || len(p2) != 2 || more || p2[0].ID != all[4].ID {
			t.Fatalf("second page: %d, more %v, %v", len(p2), more, err)
		}
		back, _, err := s.ListWebhookEvents(t.Context(), m.ID, false, store.Page{Limit: 2, EndingBefore: p2[0].ID}, store.EventFilter{})
		if err != nil || len(back) != 2 || back[0].ID != all[2].ID || back[1].ID != all[3].ID {
			t.Fatalf("page before: %v %v", back, err)
		}
		_, _, err = s.ListWebhookEvents(t.Context(), m.ID, true, store.Page{Limit: 4, StartingAfter: p1[3].ID}, store.EventFilter{})
		wantInvalid(t, err, "starting_after")

		c.Advance(store.WebhookEventRetention - 4*time.Second) // the first two are now older than 30 days
		if n, err := s.PruneWebhookEvents(t.Context()); err != nil || n != 2 {
			t.Fatalf("pruned %d (%v), want the 2 older than 30 days", n, err)
		}
		if got := listEvents(t, s, m, false, store.EventFilter{}); len(got) != 4 {
			t.Fatalf("%d events after pruning, want 4", len(got))
		}
	})
}

// An endpoint deleted while one of its deliveries is under way: the
// attempt's outcome has nowhere to go, and that is no error.
func TestAnAttemptToADeletedEndpointIsDropped(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		e := endpoint(t, s, m, false, "*")
		sess := createSession(t, s, m, false, validParams())
		transition(t, s, sess.ID, succeed)
		ds := claimAll(t, s)
		if len(ds) != 1 {
			t.Fatalf("claimed %d", len(ds))
		}
		if err := s.DeleteWebhookEndpoint(t.Context(), m.ID, false, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordAttempt(t.Context(), ds[0], store.AttemptResult{Started: c.Now(), StatusCode: 200, Succeeded: true}); err != nil {
			t.Fatalf("record: %v", err)
		}
		if n := countRows(t, s, "webhook_attempts", ""); n != 0 {
			t.Fatalf("%d attempts recorded for a deleted endpoint", n)
		}
	})
}
