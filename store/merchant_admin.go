package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// What changes about a merchant after its creation: its settings (by the
// operator, or the merchant's own through the API), whether it is enabled,
// and its webhook secret. Each change is one transaction that also writes
// its audit entry (see audit.go).

// MaxOverlap is the longest a rolled key or webhook secret may keep working
// beside its replacement: seven days, as Stripe allows.
const MaxOverlap = 7 * 24 * time.Hour

// ListMerchants returns every merchant, oldest first.
func (s *Store) ListMerchants(ctx context.Context) ([]*Merchant, error) {
	ms := []*Merchant{}
	if err := s.db.SelectContext(ctx, &ms, `SELECT `+merchantColumns+` FROM merchants ORDER BY created, id`); err != nil {
		return nil, fmt.Errorf("store: list merchants: %w", mapErr(err))
	}
	return ms, nil
}

// UpdateMerchant applies edit to merchant id and stores the result, checked
// by the same normalize and Validate as at creation; edit may refuse with an
// error of its own. Nothing is written when nothing changed, or when the
// result is invalid. The change is audited as done by the actor of ctx.
func (s *Store) UpdateMerchant(ctx context.Context, id string, edit func(*Merchant) error) (*Merchant, error) {
	var out *Merchant
	err := s.merchantTx(ctx, id, func(tx *sqlx.Tx) (bool, error) {
		before, err := s.lockMerchant(ctx, tx, id)
		if err != nil {
			return false, err
		}
		m := *before
		m.AllowedOrigins = append(StringList(nil), before.AllowedOrigins...)
		m.RedirectHosts = append(StringList(nil), before.RedirectHosts...)
		if err := edit(&m); err != nil {
			return false, err
		}
		m.normalize()
		if err := m.Validate(); err != nil {
			return false, err
		}
		out = &m
		changes := diffMerchants(before, &m)
		if len(changes) == 0 {
			return false, nil
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE merchants SET name = :name, display_name = :display_name,
			allowed_origins = :allowed_origins, redirect_hosts = :redirect_hosts, appearance = :appearance,
			default_locale = :default_locale, support_email = :support_email, support_url = :support_url,
			terms_url = :terms_url, privacy_url = :privacy_url,
			recovery_enabled = :recovery_enabled, api_version = :api_version WHERE id = :id`, &m); err != nil {
			return false, err
		}
		return true, audit(ctx, tx, id, "update", changes, s.now().Unix())
	})
	if err != nil {
		return nil, fmt.Errorf("store: update merchant %s: %w", id, err)
	}
	return out, nil
}

// SetMerchantDisabled disables merchant id (its keys and webhook secret are
// refused, its pages say it is unavailable, its data stays) or enables it
// again. Doing what is already done changes and records nothing.
func (s *Store) SetMerchantDisabled(ctx context.Context, id string, disabled bool) (*Merchant, error) {
	var out *Merchant
	err := s.merchantTx(ctx, id, func(tx *sqlx.Tx) (bool, error) {
		m, err := s.lockMerchant(ctx, tx, id)
		if err != nil {
			return false, err
		}
		out = m
		if m.Disabled() == disabled {
			return false, nil
		}
		now := s.now().Unix()
		action, at := "enable", (*int64)(nil)
		if disabled {
			action, at = "disable", &now
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE merchants SET disabled_at = ? WHERE id = ?`), at, id); err != nil {
			return false, err
		}
		m.DisabledAt = at
		return true, audit(ctx, tx, id, action, map[string]any{}, now)
	})
	if err != nil {
		return nil, fmt.Errorf("store: disable merchant %s: %w", id, err)
	}
	return out, nil
}

// RollWebhookSecret gives merchant id a new webhook secret and returns it
// (shown once). The replaced secret keeps verifying signatures for overlap
// (0: not at all; at most MaxOverlap); a secret replaced earlier and still in
// its overlap stops at once, since only one previous secret is kept.
func (s *Store) RollWebhookSecret(ctx context.Context, id string, overlap time.Duration) (*Merchant, error) {
	if err := checkOverlap(overlap); err != nil {
		return nil, err
	}
	var out *Merchant
	err := s.merchantTx(ctx, id, func(tx *sqlx.Tx) (bool, error) {
		m, err := s.lockMerchant(ctx, tx, id)
		if err != nil {
			return false, err
		}
		now := s.now()
		m.PreviousWebhookSecret, m.PreviousWebhookSecretExpiresAt = "", nil
		if overlap > 0 {
			until := now.Add(overlap).Unix()
			m.PreviousWebhookSecret, m.PreviousWebhookSecretExpiresAt = m.WebhookSecret, &until
		}
		m.WebhookSecret = "whsec_" + randomString(32)
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE merchants SET webhook_secret = ?, previous_webhook_secret = ?,
			previous_webhook_secret_expires_at = ? WHERE id = ?`),
			m.WebhookSecret, m.PreviousWebhookSecret, m.PreviousWebhookSecretExpiresAt, id); err != nil {
			return false, err
		}
		out = m
		return true, audit(ctx, tx, id, "roll_webhook_secret", map[string]any{
			"new_secret":            "whsec_…" + m.WebhookSecret[len(m.WebhookSecret)-4:],
			"old_secret_expires_at": expiryOrNow(m.PreviousWebhookSecretExpiresAt, now),
		}, now.Unix())
	})
	if err != nil {
		return nil, fmt.Errorf("store: roll webhook secret of %s: %w", id, err)
	}
	return out, nil
}

// lockMerchant reads merchant id in tx, holding its row on PostgreSQL so
// that concurrent changes apply one after the other (SQLite's BEGIN
// IMMEDIATE already serialises writers).
func (s *Store) lockMerchant(ctx context.Context, tx *sqlx.Tx, id string) (*Merchant, error) {
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE"
	}
	var m Merchant
	if err := tx.GetContext(ctx, &m, tx.Rebind(`SELECT `+merchantColumns+` FROM merchants WHERE id = ?`+lock), id); err != nil {
		if IsNotFound(mapErr(err)) {
			return nil, &Error{Code: ENOTFOUND, Param: "merchant", Message: fmt.Sprintf("no merchant %s", id)}
		}
		return nil, err
	}
	return &m, nil
}

func checkOverlap(d time.Duration) error {
	if d < 0 || d > MaxOverlap {
		return Invalid("expire_old_in", "the old secret's overlap must be between 0 (now) and %s (7 days)", MaxOverlap)
	}
	return nil
}

func expiryOrNow(at *int64, now time.Time) int64 {
	if at == nil {
		return now.Unix()
	}
	return *at
}

// merchantTx runs change, a change of merchant id or of its keys, in one
// transaction, and has every cache that may hold what it changes (pages,
// authenticated keys) forget it: every instance's through NOTIFY at commit
// on PostgreSQL, every process's through the admin generation on SQLite
// (moved before and after the transaction: admin_gen.go), and this
// process's hub at once after the commit. change reports whether it wrote
// anything; nothing is signalled when it did not.
func (s *Store) merchantTx(ctx context.Context, id string, change func(tx *sqlx.Tx) (bool, error)) error {
	s.admin.move()
	defer s.admin.move()
	changed := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if changed, err = change(tx); err != nil || !changed {
			return err
		}
		return s.notifyMerchantInTx(ctx, tx, id)
	})
	if err == nil && changed {
		s.merchantChanged(id)
		s.waitOutLease(ctx)
	}
	return err
}

// notifyMerchantInTx tells, at commit, every instance that LISTENs on
// PostgreSQL that what merchant id's pages show changed: their caches of its
// sessions are dropped.
func (s *Store) notifyMerchantInTx(ctx context.Context, tx *sqlx.Tx, id string) error {
	if s.engine != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, merchantPrefix+id)
	return err
}

// merchantChanged tells this process, after a commit, that merchant id's
// pages changed.
func (s *Store) merchantChanged(id string) {
	if s.onMerchantChange != nil {
		s.onMerchantChange(id)
	}
}
