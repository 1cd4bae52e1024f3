-- health_probe is written (and emptied again, in the same transaction) by
-- Store.ProbeWrite while the database is failing, to tell when writes that
-- need new space succeed again: readiness stays red until then.
CREATE TABLE health_probe (
    id     TEXT PRIMARY KEY,
    filler BYTEA NOT NULL
);

-- provider_origin is the origin of the next_action a session was created
-- with (through the secret key): where a payment event signed with the
-- webhook secret may send the shopper (Transition.PinNextAction).
ALTER TABLE checkout_sessions ADD COLUMN provider_origin TEXT NOT NULL DEFAULT '';
