-- Issue 15: the merchant's terms of service and privacy policy, linked from
-- the shopper's pages when set (https, checked like support_url).
ALTER TABLE merchants ADD COLUMN terms_url TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN privacy_url TEXT NOT NULL DEFAULT '';
