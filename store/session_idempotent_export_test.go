package store

// SessionByIdempotencyKeySQL is the lookup CreateSession runs, for the test
// that asks each engine how it would run it.
const SessionByIdempotencyKeySQL = sessionByIdempotencyKeySQL

// KeyUnusedSQL is the fresh key's check before a keyed create, for the same
// test.
const KeyUnusedSQL = keyUnusedSQL
