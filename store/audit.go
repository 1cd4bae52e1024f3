package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/jmoiron/sqlx"
)

// Every change to a merchant — creation, updates by the operator or by the
// merchant itself, disabling, key and webhook-secret rolls — is recorded in
// merchant_audit, in the transaction that makes it: who (the actor), what
// (the action and the fields it changed, secrets never), when.

type actorKey struct{}

// WithActor returns ctx naming who makes the changes done with it, as the
// audit trail records them: an operator's name for the CLI, "api:sk_live_…1234"
// for a merchant's own key.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, _ := ctx.Value(actorKey{}).(string); a != "" {
		return a
	}
	return "unknown"
}

// AuditEntry is one recorded change of a merchant.
type AuditEntry struct {
	Seq        int64   `db:"seq" json:"-"`
	MerchantID string  `db:"merchant_id" json:"merchant_id"`
	Actor      string  `db:"actor" json:"actor"`
	Action     string  `db:"action" json:"action"`
	Changes    RawJSON `db:"changes" json:"changes"`
	Created    int64   `db:"created" json:"created"`
}

// Change is what an audited field was and became.
type Change struct {
	From any `json:"from,omitempty"`
	To   any `json:"to,omitempty"`
}

// audit records one change of merchant id, made by the actor of ctx.
func audit(ctx context.Context, tx *sqlx.Tx, merchantID, action string, changes any, at int64) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO merchant_audit (merchant_id, actor, action, changes, created)
		VALUES (?, ?, ?, ?, ?)`), merchantID, actorOf(ctx), action, string(b), at)
	return err
}

// MerchantAudit returns merchant id's recorded changes, newest first, at most
// limit of them.
func (s *Store) MerchantAudit(ctx context.Context, id string, limit int) ([]AuditEntry, error) {
	entries := []AuditEntry{}
	err := s.db.SelectContext(ctx, &entries, s.db.Rebind(`SELECT seq, merchant_id, actor, action, changes, created
		FROM merchant_audit WHERE merchant_id = ? ORDER BY seq DESC LIMIT ?`), id, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit of merchant %s: %w", id, mapErr(err))
	}
	return entries, nil
}

// auditedFields are a merchant's fields as the audit trail names them;
// secrets are not among them.
func auditedFields(m *Merchant) map[string]any {
	return map[string]any{
		"name": m.Name, "display_name": m.DisplayName,
		"allowed_origins": []string(m.AllowedOrigins), "redirect_hosts": []string(m.RedirectHosts),
		"appearance[display_name]": m.Appearance.DisplayName, "appearance[logo_url]": m.Appearance.LogoURL,
		"appearance[brand_color]": m.Appearance.BrandColor, "appearance[button_color]": m.Appearance.ButtonColor,
		"appearance[background_color]": m.Appearance.BackgroundColor,
		"appearance[border_style]":     m.Appearance.BorderStyle, "appearance[font_family]": m.Appearance.FontFamily,
		"appearance[theme]": m.Appearance.Theme, "default_locale": m.DefaultLocale,
		"support_email": m.SupportEmail, "support_url": m.SupportURL,
		"terms_url": m.TermsURL, "privacy_url": m.PrivacyURL, "recovery_enabled": m.RecoveryEnabled,
		"api_version": m.APIVersion,
	}
}

// diffMerchants lists the audited fields that differ between before and
// after.
func diffMerchants(before, after *Merchant) map[string]Change {
	b, a := auditedFields(before), auditedFields(after)
	out := map[string]Change{}
	for k, to := range a {
		from := b[k]
		if reflect.DeepEqual(emptyAsNil(from), emptyAsNil(to)) {
			continue
		}
		out[k] = Change{From: emptyAsNil(from), To: emptyAsNil(to)}
	}
	return out
}

// emptyAsNil treats "" and empty lists as unset, so that they read as
// absent in the trail and nil and empty lists compare equal.
func emptyAsNil(v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
	case []string:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}
