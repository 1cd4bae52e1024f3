-- paypage schema, SQLite (kept column-for-column with the PostgreSQL one). Times are unix seconds (BIGINT), as the Stripe-compatible
-- API speaks them; structured, rarely-queried values are JSON text.
CREATE TABLE merchants (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    display_name     TEXT NOT NULL DEFAULT '',
    allowed_origins  TEXT NOT NULL DEFAULT '[]',
    redirect_hosts   TEXT NOT NULL DEFAULT '[]',
    appearance       TEXT NOT NULL DEFAULT '{}',
    default_locale   TEXT NOT NULL DEFAULT '',
    support_email    TEXT NOT NULL DEFAULT '',
    support_url      TEXT NOT NULL DEFAULT '',
    recovery_enabled BOOLEAN NOT NULL DEFAULT 0,
    webhook_secret   TEXT NOT NULL DEFAULT '',
    created          BIGINT NOT NULL
);

CREATE TABLE api_keys (
    hash        TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    livemode    BOOLEAN NOT NULL,
    last4       TEXT NOT NULL,
    created     BIGINT NOT NULL
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);

CREATE TABLE checkout_sessions (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    id                   TEXT NOT NULL UNIQUE,
    merchant_id          TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    livemode             BOOLEAN NOT NULL,
    mode                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    payment_status       TEXT NOT NULL,
    currency             TEXT NOT NULL,
    display_currency     TEXT NOT NULL DEFAULT '',
    amount_subtotal      BIGINT NOT NULL,
    amount_total         BIGINT NOT NULL,
    amount_discount      BIGINT NOT NULL DEFAULT 0,
    amount_tax           BIGINT NOT NULL DEFAULT 0,
    amount_shipping      BIGINT NOT NULL DEFAULT 0,
    amount_refunded      BIGINT NOT NULL DEFAULT 0,
    customer_id          TEXT NOT NULL DEFAULT '',
    customer             TEXT NOT NULL DEFAULT '{}',
    guest                BOOLEAN NOT NULL DEFAULT 0,
    client_reference_id  TEXT NOT NULL DEFAULT '',
    success_url          TEXT NOT NULL DEFAULT '',
    cancel_url           TEXT NOT NULL DEFAULT '',
    pending_url          TEXT NOT NULL DEFAULT '',
    return_url           TEXT NOT NULL DEFAULT '',
    after_completion     TEXT NOT NULL DEFAULT '{}',
    locale               TEXT NOT NULL DEFAULT '',
    appearance           TEXT,
    custom_text          TEXT NOT NULL DEFAULT '{}',
    payment_method_types TEXT NOT NULL DEFAULT '[]',
    wallet_options       TEXT NOT NULL DEFAULT '{}',
    payment_method       TEXT NOT NULL DEFAULT '',
    provider             TEXT NOT NULL DEFAULT '',
    payment_intent       TEXT NOT NULL DEFAULT '',
    next_action          TEXT,
    failure_reason       TEXT NOT NULL DEFAULT '',
    failure_message      TEXT NOT NULL DEFAULT '',
    parent_id            TEXT NOT NULL DEFAULT '',
    recovery_enabled     BOOLEAN NOT NULL DEFAULT 0,
    metadata             TEXT NOT NULL DEFAULT '{}',
    attribution          TEXT NOT NULL DEFAULT '{}',
    contract             TEXT,
    estimate             TEXT,
    idempotency_key      TEXT NOT NULL DEFAULT '',
    correlation_id       TEXT NOT NULL DEFAULT '',
    created              BIGINT NOT NULL,
    updated              BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    confirmed_at         BIGINT,
    paid_at              BIGINT,
    completed_at         BIGINT,
    canceled_at          BIGINT,
    expired_at           BIGINT,
    last_activity_at     BIGINT NOT NULL,
    version              BIGINT NOT NULL
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions(merchant_id, livemode, seq);
CREATE INDEX checkout_sessions_open_expiry ON checkout_sessions(expires_at) WHERE status = 'open';
CREATE INDEX checkout_sessions_parent ON checkout_sessions(parent_id) WHERE parent_id <> '';

CREATE TABLE line_items (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES checkout_sessions(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    images          TEXT NOT NULL DEFAULT '[]',
    product_id      TEXT NOT NULL DEFAULT '',
    price_id        TEXT NOT NULL DEFAULT '',
    quantity        BIGINT NOT NULL,
    unit_amount     BIGINT NOT NULL,
    amount_subtotal BIGINT NOT NULL,
    amount_discount BIGINT NOT NULL DEFAULT 0,
    amount_tax      BIGINT NOT NULL DEFAULT 0,
    amount_total    BIGINT NOT NULL,
    recurring_interval       TEXT NOT NULL DEFAULT '',
    recurring_interval_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session_id, position)
);

-- Fees, discounts, taxes and shipping charged on the whole session.
CREATE TABLE adjustments (
    session_id TEXT NOT NULL REFERENCES checkout_sessions(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    PRIMARY KEY (session_id, position)
);

CREATE TABLE refunds (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    session_id     TEXT NOT NULL REFERENCES checkout_sessions(id) ON DELETE CASCADE,
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    failure_reason TEXT NOT NULL DEFAULT '',
    created        BIGINT NOT NULL
);
CREATE INDEX refunds_session ON refunds(session_id, created);

CREATE TABLE session_events (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id          TEXT NOT NULL REFERENCES checkout_sessions(id) ON DELETE CASCADE,
    merchant_id         TEXT NOT NULL,
    livemode            BOOLEAN NOT NULL,
    external_id         TEXT,
    action              TEXT NOT NULL,
    source              TEXT NOT NULL,
    from_status         TEXT NOT NULL,
    to_status           TEXT NOT NULL,
    from_payment_status TEXT NOT NULL,
    to_payment_status   TEXT NOT NULL,
    version             BIGINT NOT NULL,
    data                TEXT NOT NULL DEFAULT '{}',
    created             BIGINT NOT NULL,
    -- A provider's event id is unique per merchant and mode: a test key
    -- must not be able to claim (and so suppress) a live event's id.
    UNIQUE (merchant_id, livemode, external_id)
);
CREATE INDEX session_events_session ON session_events(session_id, seq);

CREATE TABLE idempotency_keys (
    merchant_id  TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    livemode     BOOLEAN NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, livemode, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created);
