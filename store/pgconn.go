package store

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// PostgreSQL connections whose every wait ends with its context, even when
// the server does not answer at all.
//
// lib/pq meets a context that ends by sending the server a CancelRequest on
// a second connection and leaving the query's own read to wait for the
// server's answer. A server that answers nothing — frozen (SIGSTOP, a VM
// paused), or cut off without a reset — therefore pins the caller, deadline
// or not, and so does BEGIN and the startup handshake, which lib/pq does not
// watch at all. Keepalives and TCP_USER_TIMEOUT do not help there: a frozen
// server's kernel still acknowledges every packet. So the connection itself
// is cut: each session's connection is dialed through its own sessionDialer,
// and when the context of a call on it ends, an expired deadline is set on
// the socket, which ends the blocked read or write at once. The connection is
// then useless and discarded; lib/pq has already marked it bad.
//
// The cue for a query is lib/pq's own: it dials the cancel request only when
// the context of a call waiting on the connection has ended. Connect and
// BeginTx are guarded explicitly.

const (
	// cancelRequestTimeout bounds the cancel request lib/pq sends when a
	// call's context ends, from its dial to its end. lib/pq waits for it
	// before a prepared statement's call returns, so what it takes is added
	// to that call's deadline: a dial, and the write (cancelConn), unless
	// the request goes over TLS, which waits for the server to close.
	cancelRequestTimeout = 500 * time.Millisecond
	// connectTimeout bounds opening a connection, handshake included.
	connectTimeout = 10 * time.Second
	// tcpKeepAlive finds out a server that vanished from the network while a
	// connection was idle (the LISTEN connection is idle most of the time).
	tcpKeepAliveIdle     = 15 * time.Second
	tcpKeepAliveInterval = 5 * time.Second
	tcpKeepAliveCount    = 3
)

func newNetDialer() *net.Dialer {
	return &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true,
		Idle: tcpKeepAliveIdle, Interval: tcpKeepAliveInterval, Count: tcpKeepAliveCount}}
}

// pgConnector is the driver.Connector of paypage's PostgreSQL pool.
type pgConnector struct {
	cfg  pq.Config
	base *net.Dialer
}

func newPGConnector(dsn string) (*pgConnector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &pgConnector{cfg: cfg, base: newNetDialer()}, nil
}

func (c *pgConnector) Driver() driver.Driver { return &pq.Driver{} }

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// Connect opens a connection, giving up when ctx ends even if the server
// never answers the handshake, and after connectTimeout at most: the pool
// also opens connections in the background, with no deadline of its own.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	d := &sessionDialer{base: c.base}
	pc, err := pq.NewConnectorConfig(c.cfg)
	if err != nil {
		return nil, err
	}
	pc.Dialer(d)
	stop := context.AfterFunc(ctx, d.sever)
	cn, err := pc.Connect(ctx)
	if !stop() {
		if err == nil {
			cn.Close()
		}
		return nil, fmt.Errorf("pq: connect: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	conn, ok := cn.(pqConn)
	if !ok {
		cn.Close()
		return nil, errors.New("store: lib/pq connection lacks a database/sql interface")
	}
	d.established()
	return &pgConn{pqConn: conn, d: d}, nil
}

// pgConn is a lib/pq connection whose BEGIN is bounded by its context too,
// and which is never reused once cut.
type pgConn struct {
	pqConn
	d *sessionDialer
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	stop := context.AfterFunc(ctx, c.d.sever)
	defer stop()
	return c.pqConn.BeginTx(ctx, opts)
}

func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.d.cut() {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

func (c *pgConn) IsValid() bool { return !c.d.cut() && c.pqConn.IsValid() }

// sessionDialer dials one session's connection, and then only lib/pq's
// cancel requests for it.
type sessionDialer struct {
	base *net.Dialer

	mu      sync.Mutex
	conn    net.Conn // the session's connection
	open    bool     // established: later dials are cancel requests
	severed bool
}

func (d *sessionDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *sessionDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *sessionDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	open := d.open
	d.mu.Unlock()
	if open {
		// A cancel request: the context of the call waiting on the session
		// ended. End that wait now, whether or not the server ever answers.
		d.sever()
		deadline := time.Now().Add(cancelRequestTimeout)
		ctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		c, err := d.base.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(deadline)
		return &cancelConn{Conn: c, limit: deadline}, nil
	}
	c, err := d.base.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.severed {
		c.Close()
		return nil, fmt.Errorf("pq: dial: %w", os.ErrDeadlineExceeded)
	}
	d.conn = c
	return c, nil
}

func (d *sessionDialer) established() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open = true
}

// sever ends every wait on the session's connection, now and later.
func (d *sessionDialer) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.severed = true
	if d.conn != nil {
		d.conn.SetDeadline(time.Unix(1, 0))
	}
}

func (d *sessionDialer) cut() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.severed
}

// cancelRequestCode opens a CancelRequest message (PostgreSQL's protocol,
// "Message Formats"): its length, this code, the backend's pid and key (4
// bytes before protocol 3.2, up to 256 since).
const cancelRequestCode = 1234<<16 | 5678

// cancelConn carries a cancel request. Once the request is written nothing
// is left to wait for: the session's connection is cut already, and the
// server reads a request its kernel holds even after this side has closed
// (a frozen one, once it thaws; the pid's key keeps it from cancelling
// anyone else's query). lib/pq reads on until the server closes the
// connection, which a frozen server never does; here that read ends at
// once. A request over TLS is never seen as written: it waits until its
// deadline, which nothing moves past cancelRequestTimeout (lib/pq sets its
// own when the URL has connect_timeout).
type cancelConn struct {
	net.Conn
	limit time.Time
	sent  atomic.Bool
}

func (c *cancelConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err == nil && len(b) >= 12 && int(binary.BigEndian.Uint32(b)) == len(b) &&
		binary.BigEndian.Uint32(b[4:]) == cancelRequestCode {
		c.sent.Store(true)
	}
	return n, err
}

func (c *cancelConn) Read(b []byte) (int, error) {
	if c.sent.Load() {
		return 0, io.EOF
	}
	return c.Conn.Read(b)
}

func (c *cancelConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.bound(t)) }
func (c *cancelConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.bound(t)) }
func (c *cancelConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.bound(t)) }

func (c *cancelConn) bound(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}
