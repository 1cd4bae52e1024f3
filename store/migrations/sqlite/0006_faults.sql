-- health_probe is written (and emptied again, in the same transaction) by
-- Store.ProbeWrite while the database is failing, to tell when writes that
-- need new space succeed again: readiness stays red until then.
CREATE TABLE health_probe (
    id     TEXT PRIMARY KEY,
    filler BLOB NOT NULL
);
