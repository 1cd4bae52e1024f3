package store

// SessionByIdempotencyKeySQL is the lookup CreateSession runs, for the test
// that asks each engine how it would run it.
const SessionByIdempotencyKeySQL = sessionByIdempotencyKeySQL
