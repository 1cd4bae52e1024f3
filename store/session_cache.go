package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// SessionCache keeps, per instance, what the shopper's pages read of a
// session (SessionPage, SessionState), so that a page shown again does not
// read the database. It is never stale:
//
//   - The hub drops an entry on the same signal that wakes live streams: in
//     process on SQLite, before the change's writer returns; through LISTEN
//     on PostgreSQL, for changes made by any instance. A merchant's change
//     drops the entries of its sessions.
//   - A read that raced a change never stores its result: every drop moves
//     an epoch, and an entry is stored only if its epoch did not move while
//     it was read.
//   - On PostgreSQL a signal arrives after the change commits, so an entry
//     is used only after a sync (hub_sync.go) that started after the request
//     did has come back through the LISTEN connection: every change
//     committed before the request has been signalled by then. The one
//     instance on a database needs none while it holds the lease
//     (hub_lease.go). While that
//     connection is down, or before it listens, the cache is not used; when
//     it comes back, everything is dropped.
//   - On SQLite, a merchant changed by another process (the command line)
//     moves the admin generation (admin_gen.go): an entry read before it
//     moved is not used.
//   - The clock is applied on every use: an open session turns expired at
//     its expires_at, to the second, cached or not.
type SessionCache struct {
	store *Store
	sync  func(context.Context) error // nil: every change is signalled in process before its writer returns
	seed  maphash.Seed

	mu      sync.Mutex
	entries map[string]*cacheEntry
	flights map[string]*flight // reads under way, by kind and id
	epochs  [cacheStripes]atomic.Uint64

	hits, misses atomic.Int64
}

const (
	cacheStripes = 64
	// MaxCachedSessions bounds the entries; a full cache forgets one at
	// random for each new one.
	MaxCachedSessions = 4096
)

// cacheEntry is a session as read, before the clock was applied.
type cacheEntry struct {
	sess *Session  // nil when only the state was read
	m    *Merchant // the merchant's page columns, with sess
	st   State
	gen  uint64 // the admin generation it was read in (admin_gen.go)
}

func newSessionCache(s *Store, sync func(context.Context) error) *SessionCache {
	return &SessionCache{store: s, sync: sync, seed: maphash.MakeSeed(), entries: map[string]*cacheEntry{},
		flights: map[string]*flight{}}
}

func (c *SessionCache) stripe(id string) *atomic.Uint64 {
	return &c.epochs[maphash.String(c.seed, id)%cacheStripes]
}

// SessionPage is Store.SessionPage, from the cache when it can be. The
// session returned is the caller's own; its slices and the merchant are
// shared and must not be changed.
func (c *SessionCache) SessionPage(ctx context.Context, id string) (*Session, *Merchant, error) {
	if e := c.lookup(ctx, id); e != nil && e.sess != nil {
		sess := *e.sess
		sess.Effective(c.store.now().Unix())
		return &sess, e.m, nil
	}
	e, err := c.read(ctx, "p", id, func(ctx context.Context) (*cacheEntry, error) {
		sess, m, err := c.store.readSession(ctx, nil, id, true)
		if err != nil {
			return nil, fmt.Errorf("store: get session %s: %w", id, err)
		}
		return &cacheEntry{sess: sess, m: m, st: stateOf(sess)}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	sess, m := e.sess, e.m
	out := *sess
	out.Effective(c.store.now().Unix())
	return &out, m, nil
}

// MerchantSession is Store.MerchantSession, from the cache when it can be:
// what the API reads of one session. The session is the caller's own; its
// slices are shared and must not be changed.
func (c *SessionCache) MerchantSession(ctx context.Context, merchantID string, livemode bool, id string) (*Session, error) {
	sess, _, err := c.SessionPage(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := ownedBy(sess, merchantID, livemode); err != nil {
		return nil, fmt.Errorf("store: get session %s: %w", id, err)
	}
	return sess, nil
}

// SessionState is Store.SessionState, from the cache when it can be.
func (c *SessionCache) SessionState(ctx context.Context, id string) (State, error) {
	if e := c.lookup(ctx, id); e != nil {
		return c.store.clockState(e.st), nil
	}
	e, err := c.read(ctx, "s", id, func(ctx context.Context) (*cacheEntry, error) {
		st, err := c.store.rawSessionState(ctx, id)
		if err != nil {
			return nil, err
		}
		return &cacheEntry{st: st}, nil
	})
	if err != nil {
		return State{}, err
	}
	return c.store.clockState(e.st), nil
}

// flight is a read of the database under way, which requests for the same
// session may share.
type flight struct {
	epoch uint64 // of the session's stripe when the read started
	gen   uint64 // the admin generation then
	done  chan struct{}
	e     *cacheEntry
	err   error
}

// read reads session id from the database with load and caches it, or
// shares the result of a read under way (many streams of one session wake
// at once on a change). A read is shared only when no change of the
// session was signalled since it started, and on PostgreSQL only after a
// sync that started after this request: then nothing that committed
// before this request began can be missing from it.
func (c *SessionCache) read(ctx context.Context, kind, id string, load func(context.Context) (*cacheEntry, error)) (*cacheEntry, error) {
	key := kind + id
	c.mu.Lock()
	f := c.flights[key]
	c.mu.Unlock()
	if f != nil && (c.sync == nil || c.sync(ctx) == nil) && c.stripe(id).Load() == f.epoch && c.store.admin.load() == f.gen {
		select {
		case <-f.done:
			if f.err == nil || !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
				return f.e, f.err
			}
			// The leader's request ended: read for this one.
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	epoch, gen := c.stripe(id).Load(), c.store.admin.load()
	f = &flight{epoch: epoch, gen: gen, done: make(chan struct{})}
	c.mu.Lock()
	c.flights[strings.Clone(key)] = f
	c.mu.Unlock()

	f.e, f.err = load(ctx)
	if f.err == nil {
		f.e.gen = gen // before the requests sharing the read see it
	}
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	c.mu.Unlock()
	close(f.done)
	if f.err == nil {
		c.put(id, epoch, f.e)
	}
	return f.e, f.err
}

// lookup returns the entry of id when it may be used now, else nil.
func (c *SessionCache) lookup(ctx context.Context, id string) *cacheEntry {
	c.mu.Lock()
	_, ok := c.entries[id]
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil
	}
	if c.sync != nil && c.sync(ctx) != nil {
		c.misses.Add(1)
		return nil // not known to be current: read the database
	}
	c.mu.Lock()
	e := c.entries[id] // after the sync: dropped if it changed meanwhile
	if e != nil && e.gen != c.store.admin.load() {
		delete(c.entries, id) // read before a merchant changed in another process
		e = nil
	}
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

// put stores e for id unless a drop happened since epoch was read, or a
// fuller entry is there already.
func (c *SessionCache) put(id string, epoch uint64, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stripe(id).Load() != epoch || c.store.admin.load() != e.gen {
		return // changed while it was read: the result may be old already
	}
	if old, ok := c.entries[id]; ok && old.sess != nil && e.sess == nil {
		return
	}
	if len(c.entries) >= MaxCachedSessions {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	// A copy: the caller's id may point into a buffer that will be reused
	// (Fiber's route parameters do).
	c.entries[strings.Clone(id)] = e
}

// drop forgets session id. The epoch moves first: a read under way when
// the change was signalled does not store what it read.
func (c *SessionCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stripe(id).Add(1)
	delete(c.entries, id)
}

// dropMerchant forgets every session of merchant id.
func (c *SessionCache) dropMerchant(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.moveEpochs()
	for k, e := range c.entries {
		if e.sess == nil || e.sess.MerchantID == id {
			delete(c.entries, k) // a state-only entry does not say its merchant: it goes too
		}
	}
}

// clear forgets everything.
func (c *SessionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.moveEpochs()
	clear(c.entries)
}

func (c *SessionCache) moveEpochs() {
	for i := range c.epochs {
		c.epochs[i].Add(1)
	}
}

// CacheStats reports the entries held and the hits and misses so far.
func (c *SessionCache) CacheStats() (entries int, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.hits.Load(), c.misses.Load()
}

func stateOf(s *Session) State {
	return State{ID: s.ID, Status: s.Status, PaymentStatus: s.PaymentStatus, Version: s.Version, ExpiresAt: s.ExpiresAt}
}
