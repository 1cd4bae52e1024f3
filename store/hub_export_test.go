package store

import "github.com/lib/pq"

// SetDialer makes the hub's LISTEN connection dial through d, so that a
// test can hold a reconnection back. Call before Listen.
func (h *Hub) SetDialer(d pq.Dialer) { h.dialer = d }

// Resyncs reports how often every watcher was signalled after the LISTEN
// connection came back.
func (h *Hub) Resyncs() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.resyncs
}

// SetStall has the hub call stall before it handles each notification, so
// that a test can hold them back while the LISTEN connection stays up.
// Call before Listen.
func (h *Hub) SetStall(stall func(payload string)) { h.stall = stall }

// LeaseValid reports whether the caches may be used without a sync now
// (asking for the lease, as a request does).
func (h *Hub) LeaseValid() bool { return h.lease.valid() }

// LeaseHeld reports whether this hub holds the lease.
func (h *Hub) LeaseHeld() bool { return h.lease.held.Load() }

// LeaseTTL is how long a beat keeps the lease.
const LeaseTTL = leaseTTL
