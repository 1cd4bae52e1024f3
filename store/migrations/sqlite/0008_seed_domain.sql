-- Issue 11: what the seed systems name and paypage kept only in opaque
-- JSON, or not at all.

-- The session: references of the billing platform (seed 000), Stripe's
-- submit button word, billing address and customer creation choices, a
-- description, the merchant's front-end customer id (seed 002), and the
-- recovery child that paid for this expired session.
ALTER TABLE checkout_sessions ADD COLUMN contract_id TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN execution_id TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN business_entity_id TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN submit_type TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN client_customer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN billing_address_collection TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN customer_creation TEXT NOT NULL DEFAULT '';
ALTER TABLE checkout_sessions ADD COLUMN settled_by TEXT NOT NULL DEFAULT '';

-- Line items: their own metadata, the product's unit label, the price's
-- lookup key.
ALTER TABLE line_items ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE line_items ADD COLUMN unit_label TEXT NOT NULL DEFAULT '';
ALTER TABLE line_items ADD COLUMN lookup_key TEXT NOT NULL DEFAULT '';

-- Refunds change state (pending -> succeeded | failed | canceled): when.
ALTER TABLE refunds ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
UPDATE refunds SET updated = created;
