-- CreateSession's lookup of a merchant's session by Idempotency-Key
-- (sessionByIdempotencyKeySQL) wants the newest match: with seq in the
-- index, that is the first entry of one index range, read backwards, so no
-- engine is tempted to walk all of the merchant's sessions newest first
-- through checkout_sessions_merchant, filtering on the key. The query
-- repeats the condition (idempotency_key <> ''), without which SQLite
-- cannot use a partial index for a bound key.
DROP INDEX checkout_sessions_idempotency_key;
CREATE INDEX checkout_sessions_idempotency_key
    ON checkout_sessions(merchant_id, livemode, idempotency_key, seq)
    WHERE idempotency_key <> '';
