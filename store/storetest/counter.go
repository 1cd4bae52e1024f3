package storetest

import (
	"sync"
	"time"
)

// Counter counts events by kind, safe for concurrent use: the statements a
// store sends, fed from its ObserveQueries hook.
type Counter[K comparable] struct {
	mu sync.Mutex
	n  map[K]int
}

// NewCounter returns an empty counter.
func NewCounter[K comparable]() *Counter[K] { return &Counter[K]{n: map[K]int{}} }

// Add counts one k.
func (c *Counter[K]) Add(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[k]++
}

// Take returns the count of every kind since the last Take, and starts anew.
func (c *Counter[K]) Take() map[K]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[K]int{}
	return n
}

// TakeAtLeast is Take once at least want of k were counted, or after two
// seconds: an event may be counted after what it caused was seen (a sync
// marker comes back, and its reader goes on, before the statement that sent
// it is counted).
func (c *Counter[K]) TakeAtLeast(k K, want int) map[K]int {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		n := c.n[k]
		c.mu.Unlock()
		if n >= want {
			break
		}
	}
	return c.Take()
}
