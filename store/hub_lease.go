package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The lease lets the one paypage instance serving from a PostgreSQL
// database use its caches without a sync per request (hub_sync.go), while
// never serving what another process changed before its write returned.
//
//   - An instance holds the lease when no other instance listens on the
//     database: it takes a session-level advisory lock, on a connection of
//     its own, and lets it go as soon as another instance's LISTEN
//     connection shows up (each names itself paypage-hub-<token>).
//   - While it holds it, the instance notifies a beat of its own every
//     leaseBeat, stamped with when it was sent. Notifications arrive in
//     commit order, so when a beat comes back, every change committed
//     before it was sent has been signalled, and the caches have dropped
//     it. A cache is used without a sync while the last beat that came
//     back was sent less than leaseTTL ago (and after the lease was taken,
//     and after the LISTEN connection last came back).
//   - Every other writer (the command line, another instance) that commits
//     a change a cache may hold looks whether someone holds the lease and,
//     if so, waits leaseTTL (and a margin) before it returns: by then the
//     holder has either heard a beat sent after the change, and so the
//     change, or stopped trusting its caches. Beats are sent on the lock's
//     connection, only while it holds the lock. A writer that saw the
//     lease free does not look again for leaseFreeFor, and a lease is
//     trusted only from leaseTrustAfter after it was taken (waitOutLease
//     says why that is enough).
//   - The holder's own changes drop its caches in process before they
//     return, as on SQLite.
//
// An instance that no request has asked for the lease for leaseIdle lets
// it go and sends nothing; the next request syncs, and wakes it.
const (
	leaseTTL    = 250 * time.Millisecond
	leaseBeat   = leaseTTL / 5
	leaseMargin = 50 * time.Millisecond
	leaseIdle   = 2 * time.Second
	// leaseFreeFor is how long a writer that saw no lease held goes on
	// trusting that without looking again. leaseTrustAfter is how long
	// after it was taken a lease is trusted: longer, so that what such a
	// writer changes meanwhile is heard first, and so that a writer whose
	// looks are less than that apart, finding it free each time, knows no
	// lease was trusted in between (see waitOutLease).
	leaseFreeFor    = time.Second
	leaseTrustAfter = 2 * time.Second
	// leaseLookEvery is how many beats apart the holder looks for other
	// instances; one that appears meanwhile waits out the lease on its
	// writes until the holder has let it go.
	leaseLookEvery = 4
	leasePrefix    = "lease:"
	hubAppPrefix   = "paypage-hub-"
	// The advisory lock's two keys: "payp", "leas".
	leaseKey1, leaseKey2 = 0x70617970, 0x6c656173
)

// leaseLock picks the lease's lock out of pg_locks (a two-key advisory
// lock has objsubid 2).
var leaseLock = fmt.Sprintf(`locktype = 'advisory' AND classid = %d AND objid = %d AND objsubid = 2`, leaseKey1, leaseKey2)

// leaseHeldSQL says whether any session holds the lease on this database.
var leaseHeldSQL = `SELECT EXISTS (SELECT 1 FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database
	WHERE ` + leaseLock + ` AND granted AND d.datname = current_database())`

// started is the origin of mono: beats carry this process's monotonic time.
var started = time.Now()

func mono() int64 { return int64(time.Since(started)) }

type lease struct {
	hub   *Hub
	token string // as the syncer's: the beats of this hub

	held    atomic.Bool
	since   atomic.Int64 // mono when the lease was taken or the LISTEN connection came back
	heard   atomic.Int64 // mono when the last beat that came back was sent
	wanted  atomic.Int64 // mono when a request last asked for the lease
	wake    chan struct{}
	stopped chan struct{} // closed when run has returned
	conn    *sql.Conn     // holds the advisory lock while held
}

func newLease(h *Hub, token string) *lease {
	return &lease{hub: h, token: token, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// valid reports whether the caches may be used without a sync now.
func (l *lease) valid() bool {
	now := mono()
	if l.wanted.Swap(now) < now-int64(leaseIdle) {
		signal(l.wake) // the beats had paused: start them again
	}
	heard := l.heard.Load()
	return l.held.Load() && l.hub.connected.Load() && heard > l.since.Load() && now-heard < int64(leaseTTL)
}

// reset makes the lease wait for a beat sent from now on (the LISTEN
// connection was lost or came back: notifications may be missing), or
// later, if it waited for a later one already.
func (l *lease) reset() {
	now := mono()
	for {
		since := l.since.Load()
		if since >= now || l.since.CompareAndSwap(since, now) {
			return
		}
	}
}

// arrived is called by the hub, in order, for every beat it receives.
func (l *lease) arrived(payload string) {
	rest, ok := strings.CutPrefix(payload, leasePrefix+l.token+":")
	if !ok {
		return // another instance's
	}
	// A beat from the future is not one of ours (anyone may notify).
	if sent, err := strconv.ParseInt(rest, 10, 64); err == nil && sent > l.heard.Load() && sent <= mono() {
		l.heard.Store(sent)
	}
}

// run keeps the lease until done closes: it takes it when this instance is
// alone and requests want it, lets it go when it is not or they do not,
// and beats while it holds it.
func (l *lease) run(done <-chan struct{}) {
	defer close(l.stopped)
	defer l.release()
	tick := time.NewTicker(leaseBeat)
	defer tick.Stop()
	for n := 1; ; n++ {
		woke := false
		select {
		case <-done:
			return
		case <-tick.C:
		case <-l.wake:
			woke = true
		}
		if mono()-l.wanted.Load() >= int64(leaseIdle) {
			l.release() // idle: hold nothing, send nothing
			continue
		}
		if woke || n%leaseLookEvery == 0 {
			l.look()
		}
		if l.held.Load() {
			l.beat()
		}
	}
}

// look takes or lets go of the lease as other instances come and go.
func (l *lease) look() {
	ctx, cancel := context.WithTimeout(context.Background(), leaseTTL)
	defer cancel()
	s := l.hub.store
	var others int
	// Other instances: hubs that name themselves, and any other connection
	// that LISTENs (an instance of a version that did not name its hub, nor
	// waits out a lease: never to be left writing beside a holder).
	err := s.db.GetContext(ctx, &others, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND CASE WHEN application_name LIKE '`+hubAppPrefix+`%' THEN application_name <> $1
			ELSE query LIKE 'LISTEN %' END`, hubAppPrefix+l.token)
	switch {
	case err != nil || others > 0:
		l.release()
	case !l.held.Load():
		l.take(ctx)
	default:
		// Still ours? A connection that died took the lock with it.
		var mine bool
		if err := l.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND `+
			leaseLock+`)`).Scan(&mine); err != nil || !mine {
			l.release()
		}
	}
}

func (l *lease) take(ctx context.Context) {
	conn, err := l.hub.store.db.Conn(ctx)
	if err != nil {
		return
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, leaseKey1, leaseKey2).Scan(&ok); err != nil || !ok {
		conn.Close()
		return
	}
	l.conn = conn
	l.since.Store(mono() + int64(leaseTrustAfter))
	l.held.Store(true)
}

// release lets the lease go: the caches stop trusting it first.
func (l *lease) release() {
	if !l.held.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaseTTL)
	defer cancel()
	var unlocked bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, leaseKey1, leaseKey2).Scan(&unlocked); err != nil || !unlocked {
		// The lock may still be on this connection: end it rather than
		// hand it back to the pool with the lock on.
		l.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	l.conn.Close()
	l.conn = nil
}

// beat notifies a beat stamped with when it was sent, on the lock's own
// connection and only while that connection holds the lock: a lease whose
// lock went (its connection cut) gets no beat after that, and is let go
// when the beat finds out.
func (l *lease) beat() {
	ctx, cancel := context.WithTimeout(context.Background(), leaseTTL)
	defer cancel()
	sent := mono()
	var n int
	err := l.conn.QueryRowContext(ctx, `SELECT count(pg_notify('`+notifyChannel+`', $1)) FROM pg_locks
		WHERE pid = pg_backend_pid() AND `+leaseLock, leasePrefix+l.token+":"+strconv.FormatInt(sent, 10)).Scan(&n)
	if err != nil || n != 1 {
		l.release()
	}
}

// waitOutLease is called by a writer after it committed a change that a
// cache may hold: when another process holds the lease, it waits until
// that process has heard of the change or stopped trusting its caches.
//
// A writer that finds the lease free trusts that for leaseFreeFor. A
// lease taken since is not trusted before leaseTrustAfter, so the
// writer's changes are heard first. A lease that was held before the look
// may still be trusted for leaseTTL after its last beat (its lock's
// connection cut without a word): the writer waits that out unless its
// previous look, less than leaseTrustAfter before, found the lease free
// too (then no lease can have been trusted since).
//
// The wait does not end with ctx: the change is committed, and returning
// before the holder has heard of it would break the promise.
func (s *Store) waitOutLease(ctx context.Context) {
	if s.engine != Postgres || s.holdsLease != nil && s.holdsLease() {
		return
	}
	w := s.leaseWatch
	now := mono()
	if from, until := w.freeFrom.Load(), w.freeUntil.Load(); now < until {
		sleepUntil(from)
		return
	}
	var held bool
	err := s.db.GetContext(ctx, &held, leaseHeldSQL)
	if err != nil || held {
		w.lastFree.Store(0)
		sleepUntil(now + int64(leaseTTL+leaseMargin))
		return
	}
	from := now
	if last := w.lastFree.Load(); last == 0 || now-last >= int64(leaseTrustAfter) {
		from = now + int64(leaseTTL+leaseMargin)
	}
	w.lastFree.Store(now)
	w.freeFrom.Store(from)
	w.freeUntil.Store(now + int64(leaseFreeFor))
	sleepUntil(from)
}

// leaseWatch is what a process's writers last saw of the lease.
type leaseWatch struct {
	lastFree  atomic.Int64 // mono of the last look that found it free (0: none, or it was held)
	freeFrom  atomic.Int64 // writers return at once from then…
	freeUntil atomic.Int64 // …until then, without looking
}

// sleepUntil sleeps until mono() reaches t.
func sleepUntil(t int64) {
	if d := time.Duration(t - mono()); d > 0 {
		time.Sleep(d)
	}
}
