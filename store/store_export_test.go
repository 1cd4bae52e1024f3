package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// InTx is the store's own transaction helper, for the test that freezes
// the server between a transaction's work and its COMMIT.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error { return s.inTx(ctx, fn) }
