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
