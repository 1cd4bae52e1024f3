package store

// EventTypes is eventTypes, for its table test.
var EventTypes = eventTypes

// NextAttempt is nextAttempt, for its table test.
var NextAttempt = nextAttempt
