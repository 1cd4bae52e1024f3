package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A sync tells a reader on PostgreSQL that every change committed before it
// started has been signalled to this instance's hub. PostgreSQL delivers
// notifications to a listener in commit order, and the hub handles them one
// after the other; so the hub notifies a marker of its own on the channel
// it listens to, and once the marker comes back, everything committed
// before it came back first. One marker serves every reader that arrived
// before it was sent: under load, one small statement per round trip, not
// one per request.

const (
	syncPrefix     = "sync:"
	merchantPrefix = "merchant:"
	// syncTimeout bounds the wait for a marker; a reader whose sync fails
	// reads the database.
	syncTimeout = 2 * time.Second
)

var errNotListening = errors.New("store: hub: the LISTEN connection is down")

// syncer sends the markers, one round at a time.
type syncer struct {
	hub   *Hub
	token string // this hub's markers: syncPrefix + token + ":" + round

	rounds atomic.Int64 // sent so far

	mu        sync.Mutex
	gathering *syncRound // the round readers join; sent after the one in flight
	inflight  *syncRound
	sending   bool // a sender goroutine runs
	next      uint64
}

type syncRound struct {
	n    uint64
	done chan struct{}
	err  error // set before done closes
}

func newSyncer(h *Hub) *syncer {
	b := make([]byte, 8)
	rand.Read(b)
	return &syncer{hub: h, token: hex.EncodeToString(b)}
}

type syncScopeKey struct{}

// WithSyncScope returns ctx for one request, in which one sync serves every
// read: a sync that came back after the request began covers every change
// committed before it, so the request's second cache (its API key, then its
// session) need not wait for another round. On SQLite, where nothing
// syncs, or without a hub, it is ctx itself.
func (h *Hub) WithSyncScope(ctx context.Context) context.Context {
	if h == nil || h.syncs == nil {
		return ctx
	}
	return context.WithValue(ctx, syncScopeKey{}, new(atomic.Bool))
}

// Syncs reports how many sync markers the hub has sent so far (none on
// SQLite, nor while it holds the lease: hub_lease.go).
func (h *Hub) Syncs() int64 {
	if h.syncs == nil {
		return 0
	}
	return h.syncs.rounds.Load()
}

// AfterSignal returns ctx for a read made because this hub signalled a
// change of the session read (a live stream woken by Subscribe's channel):
// the hub drops the session's cache entry before it signals, so what the
// cache holds or reads from then on was read after the change, and the read
// needs no sync. A later change is signalled in its turn.
func AfterSignal(ctx context.Context) context.Context {
	synced := new(atomic.Bool)
	synced.Store(true)
	return context.WithValue(ctx, syncScopeKey{}, synced)
}

// wait returns once a round sent after the call (or after the request of
// ctx's sync scope began) came back, or with why not.
func (y *syncer) wait(ctx context.Context) error {
	synced, _ := ctx.Value(syncScopeKey{}).(*atomic.Bool)
	if synced != nil && synced.Load() {
		return nil
	}
	if err := y.join(ctx); err != nil {
		return err
	}
	if synced != nil {
		synced.Store(true)
	}
	return nil
}

// join joins the round that will be sent next and waits for it.
func (y *syncer) join(ctx context.Context) error {
	if !y.hub.connected.Load() {
		return errNotListening
	}
	y.mu.Lock()
	r := y.gathering
	if r == nil {
		y.next++
		r = &syncRound{n: y.next, done: make(chan struct{})}
		y.gathering = r
	}
	if !y.sending {
		y.sending = true
		go y.send()
	}
	y.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send sends the gathered rounds one after the other until none is left.
func (y *syncer) send() {
	for {
		y.mu.Lock()
		r := y.gathering
		y.gathering, y.inflight = nil, r
		if r == nil {
			y.sending = false
			y.mu.Unlock()
			return
		}
		y.mu.Unlock()
		y.round(r)
		y.mu.Lock()
		y.inflight = nil
		y.mu.Unlock()
	}
}

// round notifies r's marker and waits for it to come back.
func (y *syncer) round(r *syncRound) {
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	y.rounds.Add(1)
	s := y.hub.store
	stmt, err := s.prepared(ctx, `SELECT pg_notify('`+notifyChannel+`', ?)`)
	if err == nil {
		_, err = stmt.ExecContext(ctx, syncPrefix+y.token+":"+strconv.FormatUint(r.n, 10))
	}
	if err == nil {
		select {
		case <-r.done:
			return // came back (or failed by a disconnection)
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	y.finish(r, err)
}

// arrived is called by the hub, in order, for every marker it receives.
func (y *syncer) arrived(payload string) {
	rest, ok := strings.CutPrefix(payload, syncPrefix+y.token+":")
	if !ok {
		return // another instance's
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return
	}
	y.mu.Lock()
	r := y.inflight
	y.mu.Unlock()
	if r != nil && r.n == n {
		y.finish(r, nil)
	}
}

// fail ends the round in flight with err: its marker may be lost.
func (y *syncer) fail(err error) {
	y.mu.Lock()
	r := y.inflight
	y.mu.Unlock()
	if r != nil {
		y.finish(r, err)
	}
}

func (y *syncer) finish(r *syncRound, err error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	select {
	case <-r.done:
		return // finished already
	default:
	}
	r.err = err
	close(r.done)
}
