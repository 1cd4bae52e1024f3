-- SQLite twin of the PostgreSQL migration, column for column.
-- Webhooks out. Every session change writes its events, and one delivery per
-- endpoint that wants each, in the transition's own transaction (an outbox):
-- a crash between commit and delivery delays an event, never loses it.
CREATE TABLE webhook_endpoints (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    id                         TEXT NOT NULL UNIQUE,
    merchant_id                TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    livemode                   BOOLEAN NOT NULL,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    enabled_events             TEXT NOT NULL DEFAULT '[]',
    metadata                   TEXT NOT NULL DEFAULT '{}',
    api_version                TEXT NOT NULL DEFAULT '',
    status                     TEXT NOT NULL DEFAULT 'enabled',
    disabled_reason            TEXT NOT NULL DEFAULT '',
    disabled_at                BIGINT,
    -- Kept as is: signing needs the secret itself, not a hash of it.
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at BIGINT,
    -- The first failure since the last success; NULL while deliveries succeed.
    failing_since              BIGINT,
    created                    BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints(merchant_id, livemode, seq);

CREATE TABLE webhook_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    livemode        BOOLEAN NOT NULL,
    type            TEXT NOT NULL,
    session_id      TEXT NOT NULL REFERENCES checkout_sessions(id) ON DELETE CASCADE,
    session_version BIGINT NOT NULL,
    -- The session as the change left it (store.Session as JSON): rendered
    -- for each reader's API version when read or delivered.
    snapshot        TEXT NOT NULL,
    request_id      TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL DEFAULT '',
    created         BIGINT NOT NULL
);
CREATE INDEX webhook_events_merchant ON webhook_events(merchant_id, livemode, seq);
CREATE INDEX webhook_events_created ON webhook_events(created);

CREATE TABLE webhook_deliveries (
    event_id        TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending', -- pending | succeeded | failed (given up)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- An instance sending it holds it until then; a crashed one lets go.
    leased_until    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id);

CREATE TABLE webhook_attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    event_id    TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    created     BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0, -- 0: no HTTP answer
    error       TEXT NOT NULL DEFAULT '',
    succeeded   BOOLEAN NOT NULL,
    FOREIGN KEY (event_id, endpoint_id) REFERENCES webhook_deliveries(event_id, endpoint_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(event_id, endpoint_id, seq);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(endpoint_id, seq);
