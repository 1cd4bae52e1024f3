-- CreateSession looks a merchant's recent sessions up by Idempotency-Key, so
-- that a retry after a crash between creating the session and recording the
-- key's answer finds the session instead of creating a second one.
CREATE INDEX checkout_sessions_idempotency_key
    ON checkout_sessions(merchant_id, livemode, idempotency_key)
    WHERE idempotency_key <> '';
