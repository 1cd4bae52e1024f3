package store

// PriorAnswerSQL is the lookup of a key's record, and PruneSQL the prune of
// old records on each engine, for the test that asks each engine how it
// would run them.
const PriorAnswerSQL = priorAnswerSQL

var PruneSQL = pruneSQL
