package store

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Webhook endpoint statuses.
const (
	EndpointEnabled  = "enabled"
	EndpointDisabled = "disabled"
)

// Limits on webhook endpoints.
const (
	MaxWebhookEndpoints = 16 // per merchant and mode, as Stripe allows
	// MaxSecretOverlap is the longest a rolled secret keeps signing beside
	// its successor.
	MaxSecretOverlap = 7 * 24 * time.Hour
)

// WebhookEndpoint is a merchant's URL that receives the events of its
// sessions, in one mode, signed with the endpoint's secret.
type WebhookEndpoint struct {
	Seq           int64      `db:"seq"`
	ID            string     `db:"id"`
	MerchantID    string     `db:"merchant_id"`
	Livemode      bool       `db:"livemode"`
	URL           string     `db:"url"`
	Description   string     `db:"description"`
	EnabledEvents StringList `db:"enabled_events"` // event types, or "*" for all
	Metadata      Metadata   `db:"metadata"`
	// APIVersion is the version its events' data.object is rendered in
	// ("": the merchant's default).
	APIVersion     string `db:"api_version"`
	Status         string `db:"status"`
	DisabledReason string `db:"disabled_reason"`
	DisabledAt     *int64 `db:"disabled_at"`
	Secret         string `db:"secret"`
	// PreviousSecret still signs, beside Secret, until
	// PreviousSecretExpiresAt: receivers have that long to switch.
	PreviousSecret          string `db:"previous_secret"`
	PreviousSecretExpiresAt *int64 `db:"previous_secret_expires_at"`
	FailingSince            *int64 `db:"failing_since"`
	Created                 int64  `db:"created"`
}

// Secrets returns the secrets that sign a delivery at now: the current one,
// and the previous one while its overlap lasts.
func (e *WebhookEndpoint) Secrets(now int64) []string {
	out := []string{e.Secret}
	if e.PreviousSecret != "" && e.PreviousSecretExpiresAt != nil && now < *e.PreviousSecretExpiresAt {
		out = append(out, e.PreviousSecret)
	}
	return out
}

// Wants reports whether the endpoint receives events of type typ.
func (e *WebhookEndpoint) Wants(typ string) bool {
	return slices.Contains(e.EnabledEvents, "*") || slices.Contains(e.EnabledEvents, typ)
}

const webhookEndpointColumns = `seq, id, merchant_id, livemode, url, description, enabled_events,
	metadata, api_version, status, disabled_reason, disabled_at, secret, previous_secret,
	previous_secret_expires_at, failing_since, created`

// WebhookEndpointParams creates an endpoint, or (every field optional)
// updates one. URLs are checked here for their shape only: whether the host
// is public is the caller's to check (it takes the network).
type WebhookEndpointParams struct {
	URL           *string
	EnabledEvents []string
	Description   *string
	Metadata      map[string]string // merged: an empty value removes its key
	APIVersion    *string           // creation only
	Disabled      *bool             // update only
	DisabledBy    string            // why, when Disabled: "through the API", …
}

// ValidateWebhookURL checks a webhook endpoint URL's shape: absolute https,
// a host, no user info, at most MaxURLLength.
func ValidateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return Invalid("url", "url is required")
	case len(raw) > MaxURLLength:
		return Invalid("url", "url must be at most %d characters", MaxURLLength)
	case err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "":
		return Invalid("url", "url must be an absolute URL like https://shop.example/webhooks")
	case u.Scheme != "https":
		return Invalid("url", "url must use https")
	case u.User != nil:
		return Invalid("url", "url must not contain user information")
	case u.Fragment != "":
		return Invalid("url", "url must not have a fragment")
	}
	return nil
}

func validateEnabledEvents(events []string) error {
	if len(events) == 0 {
		return Invalid("enabled_events", "enabled_events needs at least one event type, or \"*\" for all")
	}
	for i, ev := range events {
		if ev != "*" && !slices.Contains(WebhookEventTypes, ev) {
			return Invalid(fmt.Sprintf("enabled_events[%d]", i), "%q is not an event type paypage sends; they are %s, or \"*\" for all",
				ev, strings.Join(WebhookEventTypes, ", "))
		}
	}
	return nil
}

// apply validates p and sets its fields on e.
func (p *WebhookEndpointParams) apply(e *WebhookEndpoint) error {
	if p.URL != nil {
		if err := ValidateWebhookURL(*p.URL); err != nil {
			return err
		}
		e.URL = *p.URL
	}
	if p.EnabledEvents != nil {
		if err := validateEnabledEvents(p.EnabledEvents); err != nil {
			return err
		}
		e.EnabledEvents = slices.Compact(slices.Sorted(slices.Values(p.EnabledEvents)))
	}
	if p.Description != nil {
		if err := textParam("description", *p.Description, maxShortText); err != nil {
			return err
		}
		e.Description = *p.Description
	}
	if p.Metadata != nil {
		md := Metadata{}
		for k, v := range e.Metadata {
			md[k] = v
		}
		for k, v := range p.Metadata {
			if v == "" {
				delete(md, k)
			} else {
				md[k] = v
			}
		}
		if err := validateMetadata("metadata", md); err != nil {
			return err
		}
		e.Metadata = md
	}
	return nil
}

// CreateWebhookEndpoint stores a new enabled endpoint of a merchant in one
// mode, with a new signing secret (shown to the merchant once, from the
// returned endpoint).
func (s *Store) CreateWebhookEndpoint(ctx context.Context, merchantID string, livemode bool, p WebhookEndpointParams) (*WebhookEndpoint, error) {
	e := &WebhookEndpoint{MerchantID: merchantID, Livemode: livemode, Status: EndpointEnabled, Metadata: Metadata{}}
	if p.URL == nil {
		return nil, Invalid("url", "url is required")
	}
	if p.EnabledEvents == nil {
		return nil, Invalid("enabled_events", "enabled_events is required: the event types to send, or \"*\" for all")
	}
	if p.APIVersion != nil {
		if err := ValidateAPIVersion("api_version", *p.APIVersion); err != nil {
			return nil, err
		}
		e.APIVersion = *p.APIVersion
	}
	if err := p.apply(e); err != nil {
		return nil, err
	}
	e.ID = newID("we_")
	e.Secret = "whsec_" + randomString(32)
	e.Created = s.now().Unix()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM webhook_endpoints
			WHERE merchant_id = ? AND livemode = ?`), merchantID, livemode); err != nil {
			return err
		}
		if n >= MaxWebhookEndpoints {
			return Invalid("url", "a merchant may have at most %d webhook endpoints per mode", MaxWebhookEndpoints)
		}
		q, args, err := tx.BindNamed(`INSERT INTO webhook_endpoints (id, merchant_id, livemode, url,
			description, enabled_events, metadata, api_version, status, secret, created) VALUES (:id,
			:merchant_id, :livemode, :url, :description, :enabled_events, :metadata, :api_version,
			:status, :secret, :created) RETURNING seq`, e)
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &e.Seq, q, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("store: create webhook endpoint: %w", err)
	}
	return e, nil
}

// WebhookEndpoint returns an endpoint of the merchant in that mode;
// another's, or the other mode's, is ENOTFOUND like an unknown id.
func (s *Store) WebhookEndpoint(ctx context.Context, merchantID string, livemode bool, id string) (*WebhookEndpoint, error) {
	e, err := getWebhookEndpoint(ctx, s.db, merchantID, livemode, id, "")
	if err != nil {
		return nil, fmt.Errorf("store: get webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// FindWebhookEndpoint returns an endpoint by its id alone, whoever's it is:
// for the operator's command line, never for a merchant's request.
func (s *Store) FindWebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := s.db.GetContext(ctx, &e, s.db.Rebind(`SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("store: find webhook endpoint %s: %w", id, mapErr(err))
	}
	return &e, nil
}

func getWebhookEndpoint(ctx context.Context, h Handler, merchantID string, livemode bool, id, lock string) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := h.GetContext(ctx, &e, h.Rebind(`SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE id = ? AND merchant_id = ? AND livemode = ?`+lock), id, merchantID, livemode)
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// Page selects a page of a list, newest first: Stripe's limit,
// starting_after and ending_before.
type Page struct {
	Limit         int    // 1..100
	StartingAfter string // an id: the page after it
	EndingBefore  string // an id: the page before it
}

// cursor returns the condition on column col (and its argument) that
// starts the page after or before its cursor, and the order to read rows in
// ("DESC"; "ASC" for ending_before, which page puts back). seqOf finds a
// cursor's seq from its id followed by scope, so that another merchant's id
// is no cursor.
func (p Page) cursor(ctx context.Context, h Handler, col, seqOf string, scope ...any) (where []string, args []any, order string, err error) {
	if p.Limit < 1 || p.Limit > 100 {
		return nil, nil, "", Invalid("limit", "limit must be between 1 and 100")
	}
	at := func(param, id, op string) ([]string, []any, error) {
		var seq int64
		err := h.GetContext(ctx, &seq, h.Rebind(seqOf), append([]any{id}, scope...)...)
		if IsNotFound(mapErr(err)) {
			return nil, nil, Invalid(param, "no such object: %q", id)
		}
		if err != nil {
			return nil, nil, mapErr(err)
		}
		return []string{col + " " + op + " ?"}, []any{seq}, nil
	}
	switch {
	case p.StartingAfter != "" && p.EndingBefore != "":
		return nil, nil, "", Invalid("ending_before", "starting_after and ending_before cannot be used together")
	case p.StartingAfter != "":
		where, args, err = at("starting_after", p.StartingAfter, "<")
		return where, args, "DESC", err
	case p.EndingBefore != "":
		where, args, err = at("ending_before", p.EndingBefore, ">")
		return where, args, "ASC", err
	}
	return nil, nil, "DESC", nil
}

// page trims a list read with limit+1 rows to the page and puts it newest
// first; it reports whether more follow.
func page[T any](rows []T, limit int, order string) ([]T, bool) {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if order == "ASC" {
		slices.Reverse(rows)
	}
	return rows, more
}

// ListWebhookEndpoints returns a page of the merchant's endpoints in a mode.
func (s *Store) ListWebhookEndpoints(ctx context.Context, merchantID string, livemode bool, p Page) ([]*WebhookEndpoint, bool, error) {
	where, args, order, err := p.cursor(ctx, s.db, "seq", `SELECT seq FROM webhook_endpoints
		WHERE id = ? AND merchant_id = ? AND livemode = ?`, merchantID, livemode)
	if err != nil {
		return nil, false, fmt.Errorf("store: list webhook endpoints: %w", err)
	}
	where, args = append(where, "merchant_id = ?", "livemode = ?"), append(args, merchantID, livemode)
	var out []*WebhookEndpoint
	err = s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE `+strings.Join(where, " AND ")+` ORDER BY seq `+order+` LIMIT ?`), append(args, p.Limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list webhook endpoints: %w", mapErr(err))
	}
	out, more := page(out, p.Limit, order)
	return out, more, nil
}

// UpdateWebhookEndpoint changes the fields p sets. Enabling a disabled
// endpoint forgets why it was disabled and its past failures.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, merchantID string, livemode bool, id string, p WebhookEndpointParams) (*WebhookEndpoint, error) {
	if p.APIVersion != nil {
		return nil, Invalid("api_version", "api_version is set when the endpoint is created; create a new endpoint for another version")
	}
	var out *WebhookEndpoint
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := getWebhookEndpoint(ctx, tx, merchantID, livemode, id, s.forUpdate())
		if err != nil {
			return err
		}
		if err := p.apply(e); err != nil {
			return err
		}
		if p.Disabled != nil {
			now := s.now().Unix()
			switch {
			case *p.Disabled && e.Status == EndpointEnabled:
				e.Status, e.DisabledAt, e.DisabledReason = EndpointDisabled, &now, "Disabled "+p.DisabledBy+"."
			case !*p.Disabled && e.Status == EndpointDisabled:
				e.Status, e.DisabledAt, e.DisabledReason, e.FailingSince = EndpointEnabled, nil, "", nil
			}
		}
		if _, err := tx.NamedExecContext(ctx, `UPDATE webhook_endpoints SET url = :url, description = :description,
			enabled_events = :enabled_events, metadata = :metadata, status = :status,
			disabled_reason = :disabled_reason, disabled_at = :disabled_at, failing_since = :failing_since
			WHERE id = :id`, e); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: update webhook endpoint %s: %w", id, err)
	}
	return out, nil
}

// DeleteWebhookEndpoint removes an endpoint, with its deliveries and their
// attempts: nothing more is sent to it.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, merchantID string, livemode bool, id string) error {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM webhook_endpoints WHERE id = ? AND merchant_id = ? AND livemode = ?`),
		id, merchantID, livemode)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = &Error{Code: ENOTFOUND, Message: "not found"}
		}
	}
	if err != nil {
		return fmt.Errorf("store: delete webhook endpoint %s: %w", id, mapErr(err))
	}
	return nil
}

// RollWebhookEndpointSecret gives an endpoint a new secret. The current one
// goes on signing beside it for overlap (0: it stops at once), so that
// receivers can switch without missing an event: while both sign, every
// delivery carries two v1 signatures.
func (s *Store) RollWebhookEndpointSecret(ctx context.Context, merchantID string, livemode bool, id string, overlap time.Duration) (*WebhookEndpoint, error) {
	if overlap < 0 || overlap > MaxSecretOverlap {
		return nil, Invalid("expires_in", "the old secret may go on signing for 0 to %d seconds", int64(MaxSecretOverlap/time.Second))
	}
	var out *WebhookEndpoint
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		e, err := getWebhookEndpoint(ctx, tx, merchantID, livemode, id, s.forUpdate())
		if err != nil {
			return err
		}
		e.PreviousSecret, e.PreviousSecretExpiresAt = "", nil
		if overlap > 0 {
			until := s.now().Add(overlap).Unix()
			e.PreviousSecret, e.PreviousSecretExpiresAt = e.Secret, &until
		}
		e.Secret = "whsec_" + randomString(32)
		if _, err := tx.NamedExecContext(ctx, `UPDATE webhook_endpoints SET secret = :secret,
			previous_secret = :previous_secret, previous_secret_expires_at = :previous_secret_expires_at
			WHERE id = :id`, e); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: roll secret of webhook endpoint %s: %w", id, err)
	}
	return out, nil
}

// forUpdate is the row lock a read-modify-write takes on PostgreSQL; SQLite's
// BEGIN IMMEDIATE already serialises writers.
func (s *Store) forUpdate() string {
	if s.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
