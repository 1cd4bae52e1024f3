package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// APIKey is what is known of a secret key besides the secret itself, which
// is stored only as a hash.
type APIKey struct {
	Livemode  bool   `db:"livemode"`
	Last4     string `db:"last4"`
	Created   int64  `db:"created"`
	ExpiresAt *int64 `db:"expires_at"` // nil: until rolled
}

// APIKeys lists merchant id's keys, expired ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context, id string) ([]APIKey, error) {
	keys := []APIKey{}
	err := s.db.SelectContext(ctx, &keys, s.db.Rebind(`SELECT livemode, last4, created, expires_at
		FROM api_keys WHERE merchant_id = ? ORDER BY created, last4`), id)
	if err != nil {
		return nil, fmt.Errorf("store: keys of merchant %s: %w", id, mapErr(err))
	}
	return keys, nil
}

// RolledKey is the outcome of a key roll: the new secret, shown once, and
// when the keys it replaces stop working.
type RolledKey struct {
	Secret       string
	OldExpiresAt int64
}

// RollKey makes a new secret key of the given mode for merchant id. The keys
// of that mode still working keep working for overlap (0: they stop now; at
// most MaxOverlap), or until their own earlier expiry; then they get 401
// like unknown keys. As with Stripe's key rolling, the new key is only ever
// returned here. The roll is audited as done by the actor of ctx.
func (s *Store) RollKey(ctx context.Context, id string, livemode bool, overlap time.Duration) (RolledKey, error) {
	if err := checkOverlap(overlap); err != nil {
		return RolledKey{}, err
	}
	prefix := "sk_test_"
	if livemode {
		prefix = "sk_live_"
	}
	out := RolledKey{Secret: prefix + randomString(40)}
	err := s.merchantTx(ctx, id, func(tx *sqlx.Tx) (bool, error) {
		if _, err := s.lockMerchant(ctx, tx, id); err != nil {
			return false, err
		}
		now := s.now()
		out.OldExpiresAt = now.Add(overlap).Unix()
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE api_keys SET expires_at = ?
			WHERE merchant_id = ? AND livemode = ? AND (expires_at IS NULL OR expires_at > ?)`),
			out.OldExpiresAt, id, livemode, out.OldExpiresAt); err != nil {
			return false, err
		}
		last4 := out.Secret[len(out.Secret)-4:]
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO api_keys (hash, merchant_id, livemode, last4, created)
			VALUES (?, ?, ?, ?, ?)`), hashKey(out.Secret), id, livemode, last4, now.Unix()); err != nil {
			return false, err
		}
		return true, audit(ctx, tx, id, "roll_key", map[string]any{
			"mode": modeName(livemode), "new_key": prefix + "…" + last4, "old_keys_expire_at": out.OldExpiresAt,
		}, now.Unix())
	})
	if err != nil {
		return RolledKey{}, fmt.Errorf("store: roll %s key of %s: %w", modeName(livemode), id, err)
	}
	return out, nil
}

func modeName(livemode bool) string {
	if livemode {
		return "live"
	}
	return "test"
}
