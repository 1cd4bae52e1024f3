-- Merchant administration: disabling a merchant (its data kept), rolling
-- secret keys and the webhook secret with an overlap, and an audit trail of
-- every change (who, what, when).
ALTER TABLE merchants ADD COLUMN disabled_at BIGINT;
-- The webhook secret that was replaced, still accepted until it expires.
ALTER TABLE merchants ADD COLUMN previous_webhook_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN previous_webhook_secret_expires_at BIGINT;
-- A rolled key keeps working until expires_at; NULL: no expiry.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;

-- Kept when everything else of a merchant would go: no ON DELETE CASCADE.
CREATE TABLE merchant_audit (
    seq         BIGSERIAL PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    changes     TEXT NOT NULL DEFAULT '{}',
    created     BIGINT NOT NULL
);
CREATE INDEX merchant_audit_merchant ON merchant_audit(merchant_id, seq);
