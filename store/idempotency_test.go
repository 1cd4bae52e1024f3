package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		ctx := t.Context()
		type outcome struct {
			replay *store.Idempotency // nil: the caller proceeds (unless err)
			err    error
		}
		begin := func(merchantID string, livemode bool, key, hash string) outcome {
			rec, err := s.BeginIdempotent(ctx, merchantID, livemode, key, hash)
			return outcome{rec, err}
		}
		finish := func(merchantID string, livemode bool, key string) {
			if err := s.FinishIdempotent(ctx, merchantID, livemode, key, 200, `{"id":"cs_1"}`); err != nil {
				t.Fatalf("finish: %v", err)
			}
		}
		replay := &store.Idempotency{RequestHash: "h1", StatusCode: 200, Response: `{"id":"cs_1"}`, Created: t0.Unix()}
		for _, step := range []struct {
			name string
			do   func() outcome
			want outcome
		}{
			{"a new key proceeds", func() outcome { return begin(m.ID, false, "k1", "h1") }, outcome{}},
			{"the same request while the first runs", func() outcome { return begin(m.ID, false, "k1", "h1") },
				outcome{err: store.ErrIdempotencyInProgress}},
			{"the same key for another merchant proceeds", func() outcome { return begin(other.ID, false, "k1", "h1") }, outcome{}},
			{"the same key in live mode proceeds", func() outcome { return begin(m.ID, true, "k1", "h1") }, outcome{}},
			{"the same request once answered is replayed", func() outcome {
				finish(m.ID, false, "k1")
				c.Advance(time.Hour)
				return begin(m.ID, false, "k1", "h1")
			}, outcome{replay: replay}},
			{"another request with the key is refused", func() outcome { return begin(m.ID, false, "k1", "h2") },
				outcome{err: store.ErrIdempotencyMismatch}},
			{"still replayed a second before 24 hours", func() outcome {
				c.Set(t0.Add(store.IdempotencyTTL - time.Second))
				return begin(m.ID, false, "k1", "h1")
			}, outcome{replay: replay}},
			{"reclaimable after 24 hours, even by another request", func() outcome {
				c.Set(t0.Add(store.IdempotencyTTL))
				return begin(m.ID, false, "k1", "h2")
			}, outcome{}},
			{"an abandoned key may be used again", func() outcome {
				if err := s.AbandonIdempotent(ctx, m.ID, false, "k1"); err != nil {
					t.Fatalf("abandon: %v", err)
				}
				return begin(m.ID, false, "k1", "h3")
			}, outcome{}},
		} {
			t.Run(step.name, func(t *testing.T) {
				got := step.do()
				if !errors.Is(got.err, step.want.err) || (got.err == nil) != (step.want.err == nil) {
					t.Fatalf("err = %v, want %v", got.err, step.want.err)
				}
				if (got.replay == nil) != (step.want.replay == nil) ||
					(got.replay != nil && *got.replay != *step.want.replay) {
					t.Fatalf("replay = %+v, want %+v", got.replay, step.want.replay)
				}
			})
		}
	})
}

func TestPruneIdempotencyForgetsKeysAfter24Hours(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for i, key := range []string{"old", "new"} {
			c.Set(t0.Add(time.Duration(i) * time.Hour))
			if _, err := s.BeginIdempotent(t.Context(), m.ID, false, key, "h"); err != nil {
				t.Fatalf("begin %s: %v", key, err)
			}
		}
		for _, step := range []struct {
			at     time.Duration
			pruned int64
			left   int
		}{
			{store.IdempotencyTTL - time.Second, 0, 2},
			{store.IdempotencyTTL, 1, 1},
			{store.IdempotencyTTL + time.Hour, 1, 0},
		} {
			c.Set(t0.Add(step.at))
			n, err := s.PruneIdempotency(t.Context())
			if err != nil || n != step.pruned {
				t.Fatalf("at %v: pruned %d (%v), want %d", step.at, n, err, step.pruned)
			}
			if left := countRows(t, s, "idempotency_keys", ""); left != step.left {
				t.Fatalf("at %v: %d keys left, want %d", step.at, left, step.left)
			}
		}

		// Records written out of the order of their creation (a clock set
		// back): a young one is never pruned, an old one at the latest when
		// the records written before it are.
		later := t0.Add(2 * store.IdempotencyTTL)
		for _, rec := range []struct {
			key string
			at  time.Time
		}{{"late", later.Add(time.Hour)}, {"early", later}} {
			c.Set(rec.at)
			if _, err := s.BeginIdempotent(t.Context(), m.ID, false, rec.key, "h"); err != nil {
				t.Fatalf("begin %s: %v", rec.key, err)
			}
		}
		c.Set(later.Add(store.IdempotencyTTL))
		if _, err := s.PruneIdempotency(t.Context()); err != nil {
			t.Fatal(err)
		}
		if countRows(t, s, "idempotency_keys", "key = 'late'") != 1 {
			t.Fatal("a record younger than 24 hours was pruned")
		}
		c.Set(later.Add(store.IdempotencyTTL + time.Hour))
		if _, err := s.PruneIdempotency(t.Context()); err != nil {
			t.Fatal(err)
		}
		if left := countRows(t, s, "idempotency_keys", ""); left != 0 {
			t.Fatalf("%d records left once all were past their 24 hours", left)
		}

		// A record dated in the future (the clock ran ahead, then was set
		// back) holds up no prune of the records written after it.
		c.Set(later.Add(30 * store.IdempotencyTTL))
		if _, err := s.BeginIdempotent(t.Context(), m.ID, false, "ahead", "h"); err != nil {
			t.Fatal(err)
		}
		c.Set(later.Add(2 * store.IdempotencyTTL))
		for _, key := range []string{"a", "b"} {
			if _, err := s.BeginIdempotent(t.Context(), m.ID, false, key, "h"); err != nil {
				t.Fatal(err)
			}
		}
		c.Set(later.Add(3*store.IdempotencyTTL + time.Second))
		if _, err := s.PruneIdempotency(t.Context()); err != nil {
			t.Fatal(err)
		}
		if left := countRows(t, s, "idempotency_keys", "key <> 'ahead'"); left != 0 {
			t.Fatalf("%d records past their 24 hours left behind one dated in the future", left)
		}
	})
}

func TestConcurrentRequestsWithOneIdempotencyKeyLetExactlyOneThrough(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, s *store.Store, c *clock, merchantID string)
	}{
		{"a new key", func(*testing.T, *store.Store, *clock, string) {}},
		{"a key past its 24 hours", func(t *testing.T, s *store.Store, c *clock, merchantID string) {
			if _, err := s.BeginIdempotent(t.Context(), merchantID, false, "k", "old"); err != nil {
				t.Fatalf("begin: %v", err)
			}
			c.Advance(store.IdempotencyTTL)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.EachEngine(t, func(t *testing.T, url string) {
				s, c := newStore(t, url)
				m, _ := newMerchant(t, s, nil)
				tc.setup(t, s, c, m.ID)
				proceeded := 0
				for _, err := range race(20, func() error {
					rec, err := s.BeginIdempotent(t.Context(), m.ID, false, "k", "h")
					if err == nil && rec != nil {
						return errors.New("replayed an answer that was never given")
					}
					return err
				}) {
					switch {
					case err == nil:
						proceeded++
					case !errors.Is(err, store.ErrIdempotencyInProgress):
						t.Errorf("err = %v, want ErrIdempotencyInProgress", err)
					}
				}
				if proceeded != 1 {
					t.Fatalf("%d requests proceeded, want exactly 1", proceeded)
				}
				if n := countRows(t, s, "idempotency_keys", "request_hash = 'h'"); n != 1 {
					t.Fatalf("%d claims stored, want 1", n)
				}
			})
		})
	}
}

func TestUnfinishedIdempotencyClaimIsTakenOverAfterItsTimeout(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		ctx := t.Context()
		if rec, err := s.BeginIdempotent(ctx, m.ID, false, "k", "h1"); rec != nil || err != nil {
			t.Fatalf("first claim: %v %v", rec, err)
		}
		// The claiming process died: nothing finishes or abandons the key.
		c.Advance(store.IdempotencyClaimTimeout - time.Second)
		if _, err := s.BeginIdempotent(ctx, m.ID, false, "k", "h1"); !errors.Is(err, store.ErrIdempotencyInProgress) {
			t.Fatalf("within the timeout: err = %v, want in progress", err)
		}
		c.Advance(time.Second)
		if rec, err := s.BeginIdempotent(ctx, m.ID, false, "k", "h1"); rec != nil || err != nil {
			t.Fatalf("after the timeout the key should be claimable: %v %v", rec, err)
		}
		if _, err := s.BeginIdempotent(ctx, m.ID, false, "k", "h1"); !errors.Is(err, store.ErrIdempotencyInProgress) {
			t.Fatalf("the new claim must hold the key: err = %v", err)
		}
	})
}

func TestCreateSessionWithAKeyAlreadyUsedReturnsThatSession(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		other, _ := newMerchant(t, s, nil)
		withKey := func() *store.SessionParams {
			p := validParams()
			p.IdempotencyKey = "order-7"
			return p
		}
		// As after a crash between creating and recording the key's answer.
		first := createSession(t, s, m, false, withKey())
		again := createSession(t, s, m, false, withKey())
		if again.ID != first.ID || countRows(t, s, "checkout_sessions", "") != 1 {
			t.Fatalf("the same key made a second session: %s then %s", first.ID, again.ID)
		}
		for _, tc := range []struct {
			name string
			m    *store.Merchant
			live bool
		}{{"another merchant", other, false}, {"the other mode", m, true}} {
			if sess := createSession(t, s, tc.m, tc.live, withKey()); sess.ID == first.ID {
				t.Fatalf("%s got the first merchant's session", tc.name)
			}
		}
		c.Advance(store.IdempotencyTTL)
		if later := createSession(t, s, m, false, withKey()); later.ID == first.ID {
			t.Fatal("a key older than 24 hours still returned its session")
		}
	})
}
