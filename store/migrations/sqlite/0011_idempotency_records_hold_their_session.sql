-- A key's record is the one place a keyed create looks a key up: every
-- keyed create stores its session and the key's record in one commit, and
-- the record names its session (session_id), so neither a look at the
-- merchant's sessions by key nor its index is needed any more.
ALTER TABLE idempotency_keys ADD COLUMN session_id TEXT NOT NULL DEFAULT '';

-- Sessions keyed in the last 24 hours by an older version that committed
-- the session and its answer apart (a process that died in between left
-- the session unrecorded, or its claim unfinished) get a record whose
-- answer is the session itself (status -1): a retry with the key still
-- gets that session. Records of keyed sessions learn their session.
INSERT INTO idempotency_keys (merchant_id, livemode, key, request_hash, status_code, response, created, session_id)
SELECT s.merchant_id, s.livemode, s.idempotency_key, '', -1, '', s.created, s.id
FROM checkout_sessions s
WHERE s.idempotency_key <> '' AND s.created > CAST(strftime('%s', 'now') AS INTEGER) - 86400
    AND s.seq = (SELECT MAX(t.seq) FROM checkout_sessions t WHERE t.merchant_id = s.merchant_id
        AND t.livemode = s.livemode AND t.idempotency_key = s.idempotency_key AND t.idempotency_key <> '')
ON CONFLICT (merchant_id, livemode, key) DO UPDATE SET session_id = excluded.session_id,
    request_hash = CASE WHEN status_code = 0 THEN '' ELSE request_hash END,
    status_code = CASE WHEN status_code = 0 THEN -1 ELSE status_code END;

DROP INDEX checkout_sessions_idempotency_key;

-- Records are pruned walking the order they were written in (rowid), from
-- the oldest to the first still young (PruneIdempotency): an index on
-- created cost every keyed create a page more.
DROP INDEX idempotency_keys_created;
