package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
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
	// to maxReconnect while it keeps failing: live updates resume within
	// about a second of the database's return. An attempt against a server
	// that is down costs next to nothing.
	minReconnect = 500 * time.Millisecond
	maxReconnect = time.Second
	// pingEvery is how often the LISTEN connection is used when quiet, so
	// that a silently dropped one is found out; a ping unanswered within
	// pingTimeout cuts the connection, and the listener connects anew.
	pingEvery   = 30 * time.Second
	pingTimeout = 5 * time.Second
	// listenConnectTimeout bounds the LISTEN connection's handshake (lib/pq's
	// connect_timeout, unless the database URL sets one): lib/pq would wait
	// for a silent server forever, holding the listener's lock.
	listenConnectTimeout = "5"
)

// Hub tells the watchers of a session, in this process, that it may have
// changed. It carries no state: a watcher re-reads the store on each signal,
// so signals can be merged or repeated without harm. There is one per process.
//
// Changes made by this process reach it through Store.OnChange. On PostgreSQL,
// Listen opens one dedicated LISTEN connection that brings the changes of
// every instance, this one included, and from then on signals the watchers
// in OnChange's stead (one signal per change, not two); OnChange still drops
// the change from the caches at once, before the writer returns (the lease
// relies on it: hub_lease.go). After that connection is lost and
// re-established every watcher is signalled, since notifications sent
// meanwhile are gone.
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[chan struct{}]struct{}
	closed bool

	store     *Store
	log       *slog.Logger
	listener  *pq.Listener
	conns     *listenDialer
	listening atomic.Bool   // the LISTEN connection brings this process's changes too
	connected atomic.Bool   // listening, and the LISTEN connection is up: no notification is being lost
	done      chan struct{} // closed when run has returned

	cache *SessionCache // dropped entries on the signals (session_cache.go)
	keys  *KeyCache     // dropped a merchant's keys on its signal (key_cache.go)
	syncs *syncer       // markers through the LISTEN connection (hub_sync.go)
	lease *lease        // the caches used without a sync while alone (hub_lease.go)

	dialer  pq.Dialer            // nil: TCP with keepalives; tests hold reconnections back with theirs
	stall   func(payload string) // nil; tests hold notifications back with it (called before each)
	resyncs int                  // how many times every watcher was signalled after a reconnection
}

// NewHub returns the hub of s, fed by s's own changes (it takes over
// s.OnChange, calling any function already there first). Call Listen to
// receive the changes of other instances too, and Close at shutdown.
func NewHub(s *Store, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{subs: make(map[string]map[chan struct{}]struct{}), store: s, log: log}
	var sync func(context.Context) error // SQLite: every change is made, and signalled, in process
	if s.engine == Postgres {
		h.syncs = newSyncer(h)
		h.lease = newLease(h, h.syncs.token)
		s.holdsLease = h.lease.held.Load
		sync = func(ctx context.Context) error {
			if h.lease.valid() {
				return nil
			}
			return h.syncs.wait(ctx) // nothing is used before Listen: wait fails until it listens
		}
	}
	h.cache, h.keys = newSessionCache(s, sync), newKeyCache(s, sync)
	prev := s.OnChange
	s.OnChange = func(id string) {
		if prev != nil {
			prev(id)
		}
		if !h.listening.Load() {
			h.Notify(id)
		} else {
			h.cache.drop(id) // at once: the lease trusts this process's changes to be dropped before they return
		}
	}
	s.onMerchantChange = h.merchantChanged // again when LISTEN brings it: harmless
	return h
}

// Cache is the hub's cache of the sessions the shopper's pages and the API
// read, kept true by the hub's signals.
func (h *Hub) Cache() *SessionCache { return h.cache }

// Keys is the hub's cache of the API keys that authenticated, kept true by
// the hub's signals.
func (h *Hub) Keys() *KeyCache { return h.keys }

// clearCaches empties the caches: what changed meanwhile was not signalled.
func (h *Hub) clearCaches() {
	h.cache.clear()
	h.keys.clear()
}

// merchantChanged drops what the caches hold of merchant id.
func (h *Hub) merchantChanged(id string) {
	h.cache.dropMerchant(id)
	h.keys.dropMerchant(id)
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
	h.cache.drop(id) // first: the watchers woken re-read the store
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
	h.clearCaches()
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
	// While the database is away, the listener retries every second: the
	// first failure is logged, and the count when it is back.
	failures := 0
	conns := &listenDialer{inner: h.dialer}
	events := func(ev pq.ListenerEventType, err error) {
		if conns.isClosed() {
			return // closing: the connection was cut on purpose
		}
		switch ev {
		case pq.ListenerEventDisconnected:
			h.lost()
			h.log.Warn("live updates: PostgreSQL listener disconnected; reconnecting", "err", err)
		case pq.ListenerEventConnectionAttemptFailed:
			if failures++; failures == 1 {
				h.log.Warn("live updates: PostgreSQL listener cannot connect; retrying every second", "err", err)
			}
		case pq.ListenerEventReconnected:
			h.log.Info("live updates: PostgreSQL listener reconnected", "failed_attempts", failures)
			failures = 0
		}
	}
	dsn, err := listenDSN(h.store.dsn, hubAppPrefix+h.syncs.token)
	if err != nil {
		return err
	}
	l := pq.NewDialListener(conns, dsn, minReconnect, maxReconnect, events)
	listening := make(chan error, 1)
	go func() { listening <- l.Listen(notifyChannel) }()
	select {
	case err = <-listening:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// A dial in progress may hold the listener's lock until the network
		// gives up: cut what can be cut, and let Close finish on its own.
		conns.shut()
		go l.Close()
		return fmt.Errorf("store: hub: listen: %w", err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.listener != nil {
		closeListener(l, conns)
		return errors.New("store: hub: listen on a closed or already listening hub")
	}
	h.listener, h.conns, h.done = l, conns, make(chan struct{})
	h.clearCaches() // changes of other instances were not signalled until now
	h.listening.Store(true)
	h.connected.Store(true)
	go h.run(l, conns, h.done)
	go h.lease.run(h.done)
	return nil
}

// listenDSN is the store's DSN with a connect_timeout, unless it has one,
// and the hub's name (other instances look for it: hub_lease.go).
func listenDSN(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("store: hub: database URL: %w", err)
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", listenConnectTimeout)
	}
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// closeListener closes l however silent the server is: lib/pq's Close
// waits for the listener's lock, which a connection attempt or a ping holds
// for as long as the server does not answer, so no new connection is let
// through and the ones open are cut.
func closeListener(l *pq.Listener, conns *listenDialer) error {
	conns.shut()
	return l.Close()
}

// run fans the listener's notifications out until the listener is closed.
func (h *Hub) run(l *pq.Listener, conns *listenDialer, done chan struct{}) {
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
				// The cache is cleared before it is trusted again, and
				// before the watchers are woken.
				h.clearCaches()
				h.lease.reset()
				h.connected.Store(true)
				h.notifyAll()
				continue
			}
			if h.stall != nil {
				h.stall(n.Extra)
			}
			h.dispatch(n.Extra)
		case <-ping.C:
			// A quiet connection that died without a word (a dropped
			// network path) is only found out by using it. Ping waits for
			// the answer, so off this loop, one at a time; a server that
			// does not answer in time has its connection cut, and the
			// listener connects anew.
			if pinging.CompareAndSwap(false, true) {
				go func() {
					defer pinging.Store(false)
					cut := time.AfterFunc(pingTimeout, conns.sever)
					defer cut.Stop()
					l.Ping()
				}()
			}
		}
	}
}

// dispatch handles one notification's payload: a session's id, a
// merchant's change or a sync marker.
func (h *Hub) dispatch(payload string) {
	switch {
	case strings.HasPrefix(payload, syncPrefix):
		h.syncs.arrived(payload)
	case strings.HasPrefix(payload, leasePrefix):
		h.lease.arrived(payload)
	case strings.HasPrefix(payload, merchantPrefix):
		h.merchantChanged(strings.TrimPrefix(payload, merchantPrefix))
	default:
		h.Notify(payload)
	}
}

// lost is called when the LISTEN connection is lost: notifications sent
// until it is back are gone, so the cache is not used meanwhile.
func (h *Hub) lost() {
	h.connected.Store(false)
	h.clearCaches()
	if h.lease != nil {
		h.lease.reset()
	}
	if h.syncs != nil {
		h.syncs.fail(errNotListening)
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
	h.connected.Store(false)
	for id, set := range h.subs {
		for ch := range set {
			close(ch)
		}
		delete(h.subs, id)
	}
	l, conns, done := h.listener, h.conns, h.done
	h.mu.Unlock()
	if l == nil {
		return nil
	}
	err := closeListener(l, conns)
	<-done
	<-h.lease.stopped // its lock let go
	if err != nil {
		return fmt.Errorf("store: hub: close listener: %w", err)
	}
	return nil
}

// listenDialer dials the LISTEN connection (through inner when set, else
// TCP with keepalives) and keeps the connections it made at hand, so that
// the hub can cut them when the server stops answering.
type listenDialer struct {
	inner pq.Dialer

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

var errHubClosed = errors.New("store: hub: closed")

func (d *listenDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *listenDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *listenDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.isClosed() {
		return nil, errHubClosed
	}
	var (
		c   net.Conn
		err error
	)
	switch inner := d.inner.(type) {
	case nil:
		c, err = newNetDialer().DialContext(ctx, network, address)
	case pq.DialerContext:
		c, err = inner.DialContext(ctx, network, address)
	default:
		if deadline, ok := ctx.Deadline(); ok {
			c, err = inner.DialTimeout(network, address, time.Until(deadline))
		} else {
			c, err = inner.Dial(network, address)
		}
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		c.Close()
		return nil, errHubClosed
	}
	if d.conns == nil {
		d.conns = map[net.Conn]struct{}{}
	}
	tc := &trackedConn{Conn: c, d: d}
	d.conns[tc] = struct{}{}
	return tc, nil
}

func (d *listenDialer) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}

// sever cuts every connection open: whoever waits on one gets an error.
func (d *listenDialer) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.(*trackedConn).Conn.Close()
	}
}

// shut cuts every connection and refuses new ones.
func (d *listenDialer) shut() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.sever()
}

// trackedConn leaves its dialer's set when closed.
type trackedConn struct {
	net.Conn
	d *listenDialer
}

func (c *trackedConn) Close() error {
	c.d.mu.Lock()
	delete(c.d.conns, c)
	c.d.mu.Unlock()
	return c.Conn.Close()
}
