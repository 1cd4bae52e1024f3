package store

import (
	"context"
	"fmt"
)

// SweepExpired persists the expiry of every open session whose time ran out,
// through Transition like any other change. It returns how many it expired.
func (s *Store) SweepExpired(ctx context.Context) (int, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, s.db.Rebind(`SELECT id FROM checkout_sessions
		WHERE status = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT 500`), s.now().Unix()); err != nil {
		return 0, fmt.Errorf("store: sweep: %w", mapErr(err))
	}
	n := 0
	for _, id := range ids {
		_, err := s.Transition(ctx, id, Transition{Action: ActionExpire, Source: "sweeper"})
		switch ErrorCode(err) {
		case "":
			n++
		case ESTATE: // changed meanwhile (paid, canceled…): nothing to sweep
		default:
			return n, err
		}
	}
	return n, nil
}
