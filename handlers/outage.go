package handlers

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// outage follows the episodes during which the database is unavailable
// (store.EUNAVAILABLE): while one lasts every such request is answered 503
// with Retry-After and /readyz is red. An episode is logged once when it
// begins and once, with the count of failures, when it ends — not once per
// request, which during an outage would be thousands of lines a second.
//
// An episode ends when a probe succeeds — a ping and, since a full disk or a
// read-only database still answers pings, a write that needs new space
// (store.ProbeWrite) — and nothing failed for a second: a database that is
// going down may still answer on one connection while it fails on others.
// /readyz probes; so does any request finishing while an episode is open
// (in the background, at most one a second), so that it ends without
// /readyz being polled.
type outage struct {
	log      *slog.Logger
	ping     func(context.Context) error
	write    func(context.Context) error
	interval time.Duration // between background probes, and the quiet an episode ends with

	mu          sync.Mutex
	open        bool
	since       time.Time
	failures    int64
	lastFailure time.Time
	probing     bool
	lastProbe   time.Time
	ended       time.Time // when the last episode ended
}

// errStillFailing answers a probe that succeeded while requests still fail.
var errStillFailing = errors.New("handlers: the database failed a request within the last second")

// probeTimeout bounds one probe: a frozen database must not hold /readyz.
const probeTimeout = 2 * time.Second

// newOutage follows the database that ping and write probe (store.Ping and
// store.ProbeWrite).
func newOutage(log *slog.Logger, ping, write func(context.Context) error) *outage {
	return &outage{log: log, ping: ping, write: write, interval: time.Second}
}

// failed records an unavailability met by work that began at start; the
// first of an episode is logged. Work that began before the last episode
// ended (a request that waited out the outage) belongs to that episode and
// does not open a new one.
func (o *outage) failed(err error, start time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.open && start.Before(o.ended) {
		return
	}
	o.failures++
	o.lastFailure = time.Now()
	if o.open {
		return
	}
	o.open, o.since, o.failures = true, o.lastFailure, 1
	o.log.Error("database unavailable: answering 503 with Retry-After until it recovers", "err", err)
}

// ongoing reports whether an episode is open.
func (o *outage) ongoing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open
}

// check probes the database, ending the episode when the probe succeeds and
// recording its failure otherwise. Outside an episode a ping suffices.
func (o *outage) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	open := o.ongoing()
	err := o.ping(ctx)
	if err == nil && open {
		err = o.write(ctx)
	}
	if err != nil {
		o.failed(err, start)
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open && time.Since(o.lastFailure) < o.interval {
		return errStillFailing
	}
	if o.open {
		o.open, o.ended = false, time.Now()
		o.log.Info("database available again", "unavailable_for", time.Since(o.since).Round(time.Millisecond).String(),
			"failures", o.failures)
	}
	return nil
}

// nudge starts a background probe while an episode is open: one at a time,
// at most one per interval.
func (o *outage) nudge() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.open || o.probing || time.Since(o.lastProbe) < o.interval {
		return
	}
	o.probing, o.lastProbe = true, time.Now()
	go func() {
		o.check(context.Background())
		o.mu.Lock()
		o.probing = false
		o.mu.Unlock()
	}()
}
