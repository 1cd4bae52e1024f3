package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Unavailable reports whether err is the database failing rather than the
// request or the code: the server cannot be reached or is shutting down,
// refuses writes (read-only, disk full), has no connection or memory to
// spare, or did not answer within the caller's deadline. Such a request may
// succeed later, unchanged; it is answered 503 with Retry-After. Everything
// else a driver reports (a syntax error, a constraint the code should have
// checked) is a bug and stays internal.
//
// This is the one classification of database failures; ErrorCode reports
// them as EUNAVAILABLE.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		pqErr   *pq.Error
		liteErr *sqlite.Error
		netErr  net.Error
	)
	switch {
	case errors.As(err, &pqErr):
		return pqUnavailable(string(pqErr.Code))
	case errors.As(err, &liteErr):
		switch liteErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
			sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, os.ErrDeadlineExceeded), // a connection whose deadline cut a wait short
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed the connection
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ENOENT), // a unix socket that is gone
		errors.As(err, &netErr):
		return true
	}
	return false
}

// pqUnavailable classifies a PostgreSQL SQLSTATE.
func pqUnavailable(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
		"57014", // query canceled: statement_timeout, or a cancel request
		"55P03", // lock_not_available: lock_timeout
		"25006": // read-only transaction: a standby, or default_transaction_read_only
		return true
	}
	switch code[:2] {
	case "08", // connection exception
		"53", // insufficient resources: disk full, out of memory, too many connections
		"58": // system error: I/O
		return true
	}
	return false
}
