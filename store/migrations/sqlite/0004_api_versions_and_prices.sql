-- Issue 10: every merchant has a pinned API version (existing merchants got
-- the native dialect, which is what they were answered in), and every line
-- item has a stored price and product id, as Stripe's objects do.
ALTER TABLE merchants ADD COLUMN api_version TEXT NOT NULL DEFAULT 'paypage-2026-12-01';

-- Line items made before ids were given out get ids derived from their own,
-- so that they are stable across reads (li_X -> price_X, prod_X).
UPDATE line_items SET price_id = 'price_' || substr(id, 4) WHERE price_id = '';
UPDATE line_items SET product_id = 'prod_' || substr(id, 4) WHERE product_id = '';

-- A stored price may be named again in a later session's line items.
CREATE INDEX line_items_price ON line_items(price_id);
