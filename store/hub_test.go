package store_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// received reports whether ch delivers a signal within d.
func received(ch <-chan struct{}, d time.Duration) bool {
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(d):
		return false
	}
}

func TestHubCoalescesSignalsAndNeverBlocks(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, storetest.SQLiteURL(t))
	h := store.NewHub(s, nil)
	defer h.Close()
	slow, cancelSlow := h.Subscribe("cs_a")
	other, cancelOther := h.Subscribe("cs_b")
	defer cancelOther()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10_000 {
			h.Notify("cs_a") // nobody reads slow meanwhile
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a subscriber that does not read")
	}
	if !received(slow, time.Second) {
		t.Fatal("the pending signal was lost")
	}
	if received(slow, 50*time.Millisecond) {
		t.Fatal("10 000 signals were not merged into one")
	}
	if received(other, 50*time.Millisecond) {
		t.Fatal("a watcher of another session was signalled")
	}
	if got := h.Watchers(); got != 2 {
		t.Fatalf("Watchers() = %d, want 2", got)
	}
	cancelSlow()
	cancelSlow() // twice is harmless
	h.Notify("cs_a")
	if received(slow, 50*time.Millisecond) {
		t.Fatal("a cancelled subscription was signalled")
	}
	if got := h.Watchers(); got != 1 {
		t.Fatalf("Watchers() after cancel = %d, want 1", got)
	}
}

func TestHubCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, storetest.SQLiteURL(t))
	h := store.NewHub(s, nil)
	ch, cancel := h.Subscribe("cs_a")
	h.Close()
	if _, ok := <-ch; ok {
		t.Fatal("the channel delivered a signal instead of closing")
	}
	cancel() // after Close: no panic
	late, _ := h.Subscribe("cs_a")
	if _, ok := <-late; ok {
		t.Fatal("a subscription after Close is not closed")
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestHubSignalsThisProcessChangesOnEachEngine(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		h := store.NewHub(s, nil)
		if err := h.Listen(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		ch, cancel := h.Subscribe(sess.ID)
		defer cancel()

		transition(t, s, sess.ID, store.Transition{Action: store.ActionProcess})
		if !received(ch, time.Second) {
			t.Fatal("no signal within 1 s of a committed change")
		}
		// A refused transition changes nothing and signals nothing.
		if _, err := s.Transition(t.Context(), sess.ID, store.Transition{Action: store.ActionRefund}); err == nil {
			t.Fatal("refund of a processing session was accepted")
		}
		if received(ch, 100*time.Millisecond) {
			t.Fatal("a refused transition signalled the watchers")
		}
	})
}

// gate is a dialer that can hold connection attempts back.
type gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while dialing is allowed
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) wait() {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	<-open
}

func (g *gate) Dial(network, address string) (net.Conn, error) {
	g.wait()
	return net.Dial(network, address)
}

func (g *gate) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	g.wait()
	return net.DialTimeout(network, address, timeout)
}

// killListeners ends every LISTEN connection to the current database, as a
// failover or a network cut would, and returns how many it ended.
func killListeners(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	err := s.DB().GetContext(t.Context(), &n, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)
	if err != nil {
		t.Fatalf("terminate listeners: %v", err)
	}
	return n
}

func TestHubBringsOtherInstancesChangesOnPostgres(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	a, _ := newStore(t, url) // the instance where changes are made
	b, _ := newStore(t, url) // the instance whose watchers must hear of them
	hub := store.NewHub(b, nil)
	g := newGate()
	hub.SetDialer(g)
	if err := hub.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, _ := newMerchant(t, a, nil)
	sess := createSession(t, a, m, false, validParams())
	ch, cancel := hub.Subscribe(sess.ID)
	defer cancel()
	unrelated, cancelUnrelated := hub.Subscribe("cs_test_unrelated")
	defer cancelUnrelated()

	start := time.Now()
	transition(t, a, sess.ID, store.Transition{Action: store.ActionProcess})
	if !received(ch, time.Second) {
		t.Fatal("a change on another instance did not arrive within 1 s")
	}
	t.Logf("notification latency across instances: %v", time.Since(start))
	if received(unrelated, 100*time.Millisecond) {
		t.Fatal("the watcher of another session was signalled")
	}

	// The LISTEN connection dies and cannot come back for now: a change made
	// meanwhile is notified to nobody.
	g.shut()
	if n := killListeners(t, a); n != 1 {
		t.Fatalf("terminated %d LISTEN connections, want 1", n)
	}
	transition(t, a, sess.ID, store.Transition{Action: store.ActionSucceed})
	if received(ch, 300*time.Millisecond) {
		t.Fatal("signalled while the LISTEN connection was down")
	}
	// Once it is back, every watcher is told to look again.
	resyncs := hub.Resyncs()
	g.release()
	deadline := time.Now().Add(10 * time.Second)
	if !received(ch, time.Until(deadline)) {
		t.Fatal("watchers were not signalled after the LISTEN connection came back")
	}
	if !received(unrelated, time.Second) {
		t.Fatal("after a reconnection, not every watcher was signalled")
	}
	if hub.Resyncs() != resyncs+1 {
		t.Fatalf("resyncs = %d, want %d", hub.Resyncs(), resyncs+1)
	}
	if got := getSession(t, b, sess.ID); got.Status != store.StatusComplete {
		t.Fatalf("re-read status = %s, want complete", got.Status)
	}
	// And notifications flow again.
	transition(t, a, sess.ID, store.Transition{Action: store.ActionRefund, Refund: &store.RefundParams{Amount: 100}})
	if !received(ch, time.Second) {
		t.Fatal("no notification after the reconnection")
	}
}

func TestHubListenFailsWhenTheDatabaseCannotBeReached(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, storetest.PostgresURL(t))
	h := store.NewHub(s, nil)
	g := newGate()
	g.shut() // every connection attempt hangs
	h.SetDialer(g)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := h.Listen(ctx); err == nil {
		t.Fatal("Listen succeeded without a connection")
	}
	g.release()
	h.Close()
}
