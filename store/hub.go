package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

const (
	// notifyChannel is the PostgreSQL channel Transition notifies on, with
	// the session id as the payload.
	notifyChannel = "paypage_sessions"
	// A lost LISTEN connection is retried after minReconnect, doubling up
	// to maxReconnect while it keeps failing.
	minReconnect = 500 * time.Millisecond
	maxReconnect = 30 * time.Second
	// pingEvery is how often the LISTEN connection is used when quiet, so
	// that a silently dropped one is found out.
	pingEvery = 30 * time.Second
)

// Hub tells the watchers of a session, in this process, that it may have
// changed. It carries no state: a watcher re-reads the store on each signal,
// so signals can be merged or repeated without harm. There is one per process.
//
// Changes made by this process reach it through Store.OnChange. On PostgreSQL,
// Listen opens one dedicated LISTEN connection that brings the changes of
// every instance, this one included, and from then on replaces OnChange (one
// signal per change, not two). After that connection is lost and
// re-established every watcher is signalled, since notifications sent
// meanwhile are gone.
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[chan struct{}]struct{}
	closed bool

	store     *Store
	log       *slog.Logger
	listener  *pq.Listener
	listening atomic.Bool   // the LISTEN connection brings this process's changes too
	done      chan struct{} // closed when run has returned

	dialer  pq.Dialer // nil: lib/pq's; tests hold reconnections back with theirs
	resyncs int       // how many times every watcher was signalled after a reconnection
}

// NewHub returns the hub of s, fed by s's own changes (it takes over
// s.OnChange, calling any function already there first). Call Listen to
// receive the changes of other instances too, and Close at shutdown.
func NewHub(s *Store, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{subs: make(map[string]map[chan struct{}]struct{}), store: s, log: log}
	prev := s.OnChange
	s.OnChange = func(id string) {
		if prev != nil {
			prev(id)
		}
		if !h.listening.Load() {
			h.Notify(id)
		}
	}
	return h
}

// Subscribe returns a channel that receives a value whenever session id may
// have changed, and a function that ends the subscription. The channel holds
// one pending signal: a watcher that has not read it yet misses nothing, as
// the next read of the store sees every change, and the hub never waits for
// it. The channel is closed when the hub closes (server shutdown).
func (h *Hub) Subscribe(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	set := h.subs[id]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		h.subs[id] = set
	}
	set[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if set, ok := h.subs[id]; ok {
			delete(set, ch)
			if len(set) == 0 {
				delete(h.subs, id)
			}
		}
	}
}

// Watchers reports how many subscriptions are open (for tests and metrics).
func (h *Hub) Watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// AllSessions, given to Subscribe, watches every session: the webhook
// delivery worker wakes on each change, whoever made it.
const AllSessions = "*"

// Notify signals the watchers of session id, and those of AllSessions,
// without ever blocking.
func (h *Hub) Notify(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[id] {
		signal(ch)
	}
	if id != AllSessions {
		for ch := range h.subs[AllSessions] {
			signal(ch)
		}
	}
}

// notifyAll signals every watcher: they all re-read the store.
func (h *Hub) notifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resyncs++
	for _, set := range h.subs {
		for ch := range set {
			signal(ch)
		}
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a signal is already pending; the watcher will read it
	}
}

// Listen opens the dedicated LISTEN connection on PostgreSQL and returns once
// it listens (or ctx ends). On SQLite, where every change is made by this
// process, it does nothing.
func (h *Hub) Listen(ctx context.Context) error {
	if h.store.engine != Postgres {
		return nil
	}
	events := func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			h.log.Warn("live updates: PostgreSQL listener disconnected; reconnecting", "err", err)
		case pq.ListenerEventConnectionAttemptFailed:
			h.log.Warn("live updates: PostgreSQL listener cannot connect", "err", err)
		case pq.ListenerEventReconnected:
			h.log.Info("live updates: PostgreSQL listener reconnected")
		}
	}
	var l *pq.Listener
	if h.dialer != nil {
		l = pq.NewDialListener(h.dialer, h.store.dsn, minReconnect, maxReconnect, events)
	} else {
		l = pq.NewListener(h.store.dsn, minReconnect, maxReconnect, events)
	}
	listening := make(chan error, 1)
	go func() { listening <- l.Listen(notifyChannel) }()
	var err error
	select {
	case err = <-listening:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// Close waits for a connection attempt in progress, which may hang
		// until the network gives up: let it finish on its own.
		go l.Close()
		return fmt.Errorf("store: hub: listen: %w", err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.listener != nil {
		l.Close()
		return errors.New("store: hub: listen on a closed or already listening hub")
	}
	h.listener, h.done = l, make(chan struct{})
	h.listening.Store(true)
	go h.run(l, h.done)
	return nil
}

// run fans the listener's notifications out until the listener is closed.
func (h *Hub) run(l *pq.Listener, done chan struct{}) {
	defer close(done)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	var pinging atomic.Bool
	for {
		select {
		case n, ok := <-l.Notify:
			if !ok {
				return
			}
			if n == nil {
				// The connection was re-established: whatever was notified
				// while it was down is lost, so everyone looks again.
				h.notifyAll()
				continue
			}
			h.Notify(n.Extra)
		case <-ping.C:
			// A quiet connection that died without a word (a dropped
			// network path) is only found out by using it. Ping waits for
			// the answer, so off this loop, one at a time.
			if pinging.CompareAndSwap(false, true) {
				go func() {
					defer pinging.Store(false)
					l.Ping()
				}()
			}
		}
	}
}

// Close ends every subscription (their channels close, so open streams end)
// and the LISTEN connection. Subscribing afterwards yields a closed channel.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	for id, set := range h.subs {
		for ch := range set {
			close(ch)
		}
		delete(h.subs, id)
	}
	l, done := h.listener, h.done
	h.mu.Unlock()
	if l == nil {
		return nil
	}
	err := l.Close()
	<-done
	if err != nil {
		return fmt.Errorf("store: hub: close listener: %w", err)
	}
	return nil
}
