package store

import (
	"context"
	"sync"
	"sync/atomic"
)

// KeyCache keeps, per instance, the API keys that authenticated, with their
// merchant, mode and expiry, so that an API request does not read the
// database to know who sends it. It is kept true as SessionCache is:
//
//   - Every change of a merchant or its keys (update, disable, key and
//     webhook secret rolls: merchantTx) drops that merchant's keys: through
//     the hub's merchant signal, in process or through LISTEN; on SQLite
//     changes made by another process move the admin generation
//     (admin_gen.go), and a key read before it moved is not used.
//   - A read that raced a drop does not store its result.
//   - On PostgreSQL a key is used only after a sync that started after the
//     request did (hub_sync.go), or while this instance holds the lease
//     (hub_lease.go); while the LISTEN connection is down, the cache is not
//     used, and it is emptied when the connection comes back.
//   - A key's expiry and its merchant's disabled_at are applied on every
//     use, to the second.
//
// Only keys that work are kept: an unknown key always asks the database
// (failed authentications are rate limited per client address), so
// guessing cannot fill the cache.
type KeyCache struct {
	store *Store
	sync  func(context.Context) error // as SessionCache's

	mu      sync.Mutex
	entries map[string]*keyEntry // by the key's hash
	epoch   uint64               // moves with every drop

	hits, misses atomic.Int64
}

type keyEntry struct {
	k   *keyRow
	gen uint64 // the admin generation it was read in
}

// MaxCachedKeys bounds the entries; a full cache forgets one at random for
// each new one.
const MaxCachedKeys = 1024

func newKeyCache(s *Store, sync func(context.Context) error) *KeyCache {
	return &KeyCache{store: s, sync: sync, entries: map[string]*keyEntry{}}
}

// Authenticate is Store.Authenticate, from the cache when it can be.
func (c *KeyCache) Authenticate(ctx context.Context, secret string) (*Merchant, bool, error) {
	if !keyShaped(secret) {
		return c.store.keyAnswer(nil, errUnknownKey)
	}
	hash := hashKey(secret)
	if k := c.lookup(ctx, hash); k != nil {
		c.hits.Add(1)
		return c.store.keyAnswer(k, nil)
	}
	c.misses.Add(1)
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	gen := c.store.admin.load()
	k, err := c.store.readKey(ctx, hash)
	if err == nil && k.works(c.store.now().Unix()) {
		c.put(hash, epoch, gen, k)
	}
	return c.store.keyAnswer(k, err)
}

// lookup returns the key of hash when it may be used now, else nil.
func (c *KeyCache) lookup(ctx context.Context, hash string) *keyRow {
	c.mu.Lock()
	_, ok := c.entries[hash]
	c.mu.Unlock()
	if !ok || c.sync != nil && c.sync(ctx) != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[hash] // after the sync: dropped if its merchant changed meanwhile
	if e == nil {
		return nil
	}
	if e.gen != c.store.admin.load() {
		delete(c.entries, hash)
		return nil
	}
	return e.k
}

// put stores k unless a drop happened since epoch, or the admin generation
// moved since gen, was read.
func (c *KeyCache) put(hash string, epoch, gen uint64, k *keyRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch || c.store.admin.load() != gen {
		return
	}
	if len(c.entries) >= MaxCachedKeys {
		for h := range c.entries {
			delete(c.entries, h)
			break
		}
	}
	c.entries[hash] = &keyEntry{k: k, gen: gen}
}

// dropMerchant forgets the keys of merchant id.
func (c *KeyCache) dropMerchant(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for h, e := range c.entries {
		if e.k.ID == id {
			delete(c.entries, h)
		}
	}
}

// clear forgets every key.
func (c *KeyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.entries)
}

// Stats reports the keys held and the authentications answered from memory
// (hits) and from the database (misses) so far.
func (c *KeyCache) Stats() (entries int, hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.hits.Load(), c.misses.Load()
}
