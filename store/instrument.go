package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"time"
)

// Every statement the store sends goes through a thin wrapper of the
// driver's connections that times it, so that metrics see each query, on
// both engines, without any store method having to remember to. When no
// one observes, the cost is one atomic load per statement.

// Op is the kind of database round trip being timed.
type Op int

// The kinds of round trip: a query (until its first rows are there), an
// exec, the start of a transaction (on SQLite, waiting for the write lock)
// and its commit.
const (
	OpQuery Op = iota
	OpExec
	OpBegin
	OpCommit
	numOps
)

// String names an Op as metrics label it.
func (o Op) String() string {
	switch o {
	case OpQuery:
		return "query"
	case OpExec:
		return "exec"
	case OpBegin:
		return "begin"
	case OpCommit:
		return "commit"
	}
	return "unknown"
}

// Ops lists every Op, for observers that prepare one series each.
func Ops() []Op { return []Op{OpQuery, OpExec, OpBegin, OpCommit} }

// ObserveQueries has fn called after every database round trip with its
// kind and duration (errors included). Set it before the store serves;
// fn must be cheap and safe for concurrent use.
func (s *Store) ObserveQueries(fn func(op Op, d time.Duration)) { s.timer.fn.Store(&fn) }

type queryTimer struct {
	fn atomic.Pointer[func(Op, time.Duration)]
}

func (t *queryTimer) done(op Op, start time.Time, err error) {
	if start.IsZero() || err == driver.ErrSkip {
		return // not observed when it started, or not run (database/sql goes another way)
	}
	if fn := t.fn.Load(); fn != nil {
		(*fn)(op, time.Since(start))
	}
}

func (t *queryTimer) start() time.Time {
	if t.fn.Load() == nil {
		return time.Time{}
	}
	return time.Now()
}

// driverConnector is the connector of the engine's registered driver.
func driverConnector(engine, dsn string) (driver.Connector, error) {
	plain, err := sql.Open(engine, "") // only to get at the registered driver
	if err != nil {
		return nil, err
	}
	drv := plain.Driver()
	plain.Close()
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{drv, dsn}, nil
}

type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type timedConnector struct {
	driver.Connector
	t *queryTimer
}

func (c timedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: conn, t: c.t}, nil
}

// timedConn passes everything on to the driver's connection, timing
// queries, execs and transactions on the way. Optional interfaces the
// driver lacks answer as database/sql expects from a driver without them.
type timedConn struct {
	driver.Conn
	t *queryTimer
}

func (c *timedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := c.t.start()
	rows, err := q.QueryContext(ctx, query, args)
	c.t.done(OpQuery, start, err)
	return rows, err
}

func (c *timedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := c.t.start()
	res, err := e.ExecContext(ctx, query, args)
	c.t.done(OpExec, start, err)
	return res, err
}

func (c *timedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	start := c.t.start()
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // the driver has nothing newer
	}
	c.t.done(OpBegin, start, err)
	if err != nil {
		return nil, err
	}
	return timedTx{tx, c.t}, nil
}

func (c *timedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &timedStmt{Stmt: st, t: c.t}, nil
}

// timedStmt times the runs of a prepared statement as timedConn times
// the statements sent as text.
type timedStmt struct {
	driver.Stmt
	t *queryTimer
}

func (s *timedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	start := s.t.start()
	var (
		rows driver.Rows
		err  error
	)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		rows, err = q.QueryContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = plainValues(args); err == nil {
			rows, err = s.Stmt.Query(vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	s.t.done(OpQuery, start, err)
	return rows, err
}

func (s *timedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	start := s.t.start()
	var (
		res driver.Result
		err error
	)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		res, err = e.ExecContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = plainValues(args); err == nil {
			res, err = s.Stmt.Exec(vals) //nolint:staticcheck // the driver has nothing newer
		}
	}
	s.t.done(OpExec, start, err)
	return res, err
}

func (s *timedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip // the connection's, then database/sql's conversion
}

// plainValues turns positional arguments into the values of a driver
// without context support (named ones it cannot take).
func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("store: the driver does not take named arguments")
		}
		vals[i] = a.Value
	}
	return vals, nil
}

func (c *timedConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *timedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *timedConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *timedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

type timedTx struct {
	driver.Tx
	t *queryTimer
}

func (tx timedTx) Commit() error {
	start := tx.t.start()
	err := tx.Tx.Commit()
	tx.t.done(OpCommit, start, err)
	return err
}
