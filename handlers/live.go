package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// Live updates: every session page keeps a Server-Sent Events stream open
// (GET /pay/:id/events) and falls back to polling GET /pay/:id/status. Both
// read the store; the hub only says when to look again. See docs/live.md.

const (
	// DefaultHeartbeat is how often an idle stream sends a comment: it keeps
	// proxies from closing the connection and finds out clients that left.
	DefaultHeartbeat = 15 * time.Second
	// retryMillis is the reconnection delay the stream asks browsers for.
	retryMillis = 2000
	// liveReadTimeout bounds one read of the store by a stream.
	liveReadTimeout = 5 * time.Second
)

// jsonErrorsKey marks a route outside /v1 whose errors are JSON too.
const jsonErrorsKey ctxKey = 301

// liveState is what the stream and the status endpoint publish. Streams end
// on a final status: later refunds show when the pages are loaded.
type liveState = store.State

// etag names the version and status: the status alone moves when a session
// expires by the clock, without a new version.
func etag(s liveState) string {
	return `W/"v` + strconv.FormatInt(s.Version, 10) + "-" + s.Status + `"`
}

// liveStatus is GET /pay/:id/status, what live.js polls when the stream is
// down. Conditional requests are answered 304 while nothing changed.
func (h *handler) liveStatus(c *fiber.Ctx) error {
	c.Locals(jsonErrorsKey, true)
	id, err := sessionIDParam(c)
	if err != nil {
		return err
	}
	st, err := h.hub.Cache().SessionState(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, etag(st))
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatch(inm, etag(st)) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.JSON(st)
}

// etagMatch reports whether an If-None-Match list names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, tag string) bool {
	weak := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || weak(t) == weak(tag) {
			return true
		}
	}
	return false
}

// liveEvents is GET /pay/:id/events: a Server-Sent Events stream that sends
// a "status" event whenever the session's version or status moves, starting
// with the current state unless the client's Last-Event-ID (a version) says
// it has it. It ends after a final status, when the client leaves (noticed by
// the heartbeat) and when the server shuts down. A client that has already
// seen the final state is answered 204, which tells EventSource to stop.
func (h *handler) liveEvents(c *fiber.Ctx) error {
	id, err := sessionIDParam(c)
	if err != nil {
		return err
	}
	// A copy: Fiber's strings point into the request buffer, which the
	// connection reuses once the handler returns, while the stream goes on.
	id = strings.Clone(id)
	ip := h.clientIP(c)
	if !h.streams.acquire(ip) {
		return errTooManyStreams
	}
	// Subscribe before the first read, so that no change falls in between.
	changed, subscribed := h.hub.Subscribe(id)
	unsubscribe := func() {
		subscribed()
		h.streams.release(ip)
	}
	cur, err := h.hub.Cache().SessionState(c.UserContext(), id)
	if err != nil {
		unsubscribe()
		return err
	}
	seen := int64(-1)
	if v, err := strconv.ParseInt(strings.TrimSpace(c.Get("Last-Event-ID")), 10, 64); err == nil && v <= cur.Version {
		seen = v // a version from the future is ignored, not trusted
	}
	if store.IsFinalStatus(cur.Status) && seen >= cur.Version {
		unsubscribe()
		return c.SendStatus(fiber.StatusNoContent)
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	// The stream takes the connection over (hijack): fasthttp's worker,
	// its buffers and the request go back to their pools, and the stream
	// writes its chunks straight to the socket from one goroutine. The
	// response head, with every header the middleware set, is written
	// first by the stream itself; the stream closes the connection when
	// it ends.
	c.Status(fiber.StatusOK)
	c.Response().Header.SetContentLength(-1) // chunked
	c.Response().Header.SetConnectionClose()
	s := &liveStream{
		h: h, id: id, changed: changed, shutdown: c.Context().Done(),
		head: append([]byte(nil), c.Response().Header.Header()...), seenVersion: seen, initial: cur,
	}
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) {
		// A goroutine of the stream's own: once this returns, fasthttp
		// lets go of the request, its buffers and its goroutine, and keeps
		// the connection open (KeepHijackedConns) for the stream.
		s.conn = conn
		go func() {
			defer conn.Close()
			defer unsubscribe()
			s.run()
		}()
	})
	return nil
}

// liveStream is one client's stream, run after the handler returned (so it
// uses its own contexts, never the request's). It holds no timer: the
// heartbeat and the session's expiry come from the clocks all streams
// share (live_clock.go).
type liveStream struct {
	h        *handler
	id       string
	changed  <-chan struct{}
	conn     net.Conn
	shutdown <-chan struct{}
	head     []byte // the response's status line and headers, written with the first chunk

	ended       bool   // the body's end was written with the last event
	seenVersion int64  // the last version the client has (-1: none)
	seenStatus  string // the status sent with it ("" when the client sent Last-Event-ID)
	initial     liveState
}

func (s *liveStream) run() {
	// fasthttp recovers no panic of a hijack handler: one would end the process.
	defer func() {
		if r := recover(); r != nil {
			s.h.log.Error("live: stream panic", "session", s.id, "panic", fmt.Sprint(r))
		}
	}()
	s.h.beat.join()
	defer s.h.beat.leave()
	if !s.write("retry: " + strconv.Itoa(retryMillis) + "\n\n") {
		return
	}
	defer s.end()

	cur, stale, signalled := s.initial, false, false
	for {
		if !stale {
			if s.news(cur) && !s.send(cur) {
				return
			}
			if store.IsFinalStatus(cur.Status) {
				return
			}
			s.armExpiry(cur)
		}
		select {
		case _, ok := <-s.changed:
			if !ok {
				return // the hub closed: shutting down
			}
			signalled = true
		case <-s.h.beat.wait():
			if !s.write(": heartbeat\n\n") {
				return
			}
			if !stale {
				continue
			}
		case <-s.shutdown:
			return
		}
		readAt := time.Now()
		next, err := s.read(signalled)
		signalled = false
		switch {
		case store.IsNotFound(err):
			return
		case err != nil:
			// The database is unavailable for now: keep the client, look
			// again at the next heartbeat or signal (the hub signals every
			// stream when its connection comes back). Counted with the
			// outage, not logged per stream.
			if databaseDown(err) {
				s.h.outage.failed(err, readAt)
			} else {
				s.h.log.Warn("live: read session", "session", s.id, "err", err)
			}
			stale = true
		default:
			cur, stale = next, false
		}
	}
}

// read reads the session's state; signalled says that the hub's signal
// woke the stream, which makes a sync needless (store.AfterSignal).
func (s *liveStream) read(signalled bool) (liveState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), liveReadTimeout)
	defer cancel()
	if signalled {
		ctx = store.AfterSignal(ctx)
	}
	return s.h.hub.Cache().SessionState(ctx, s.id)
}

// news reports whether cur is something the client has not seen.
func (s *liveStream) news(cur liveState) bool {
	switch {
	case cur.Version != s.seenVersion:
		return cur.Version > s.seenVersion
	case s.seenStatus == "":
		// The client named this version in Last-Event-ID: it saw the
		// session open or processing; only the clock can have moved it.
		return store.IsFinalStatus(cur.Status)
	}
	return cur.Status != s.seenStatus
}

// send writes cur as a status event; false means the client is gone.
func (s *liveStream) send(cur liveState) bool {
	text, err := s.h.lastEvent.text(cur)
	if err != nil {
		return false
	}
	s.seenVersion, s.seenStatus = cur.Version, cur.Status
	if store.IsFinalStatus(cur.Status) {
		// The last event: the body's end leaves with it, in one write.
		s.ended = true
	}
	return s.write(text)
}

// lastEvent holds the text of the last event made, for the next stream that
// sends the same state: a change reaches every stream of its session at
// once, and each would encode the same JSON.
type lastEvent struct{ p atomic.Pointer[eventText] }

type eventText struct {
	st   liveState
	text string
}

func (l *lastEvent) text(cur liveState) (string, error) {
	if e := l.p.Load(); e != nil && e.st == cur {
		return e.text, nil
	}
	data, err := json.Marshal(cur)
	if err != nil {
		return "", err
	}
	text := "id: " + strconv.FormatInt(cur.Version, 10) + "\nevent: status\ndata: " + string(data) + "\n\n"
	l.p.Store(&eventText{st: cur, text: text})
	return text, nil
}

// armExpiry has the stream woken when an open session's time runs out:
// expiry is exact on read, and nothing else would say so until the sweeper
// runs. The alarm signals every watcher of the session through the hub.
func (s *liveStream) armExpiry(cur liveState) {
	if cur.Status != store.StatusOpen {
		return
	}
	left := max(time.Unix(cur.ExpiresAt, 0).Sub(s.h.store.Now()), 0)
	s.h.expiries.at(s.id, time.Now().Add(left+50*time.Millisecond))
}

// write sends text at once, as one chunk (after the response head, the
// first time). A failure means the client left (or stopped reading for
// longer than the write deadline): the stream ends.
func (s *liveStream) write(text string) bool {
	buf := make([]byte, 0, len(s.head)+len(text)+17)
	buf = append(buf, s.head...)
	s.head = nil
	buf = strconv.AppendInt(buf, int64(len(text)), 16)
	buf = append(buf, "\r\n"...)
	buf = append(buf, text...)
	buf = append(buf, "\r\n"...)
	if s.ended {
		buf = append(buf, "0\r\n\r\n"...) // the last chunk: the body ends with it
	}
	// A deadline per write, long enough for a slow network.
	s.conn.SetWriteDeadline(time.Now().Add(s.h.heartbeat + 10*time.Second))
	_, err := s.conn.Write(buf)
	return err == nil
}

// end closes the chunked body, unless the last event did (the connection
// closes after).
func (s *liveStream) end() {
	if s.ended {
		return
	}
	s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	s.conn.Write([]byte("0\r\n\r\n"))
}

// liveHub picks the hub and heartbeat of cfg, or the defaults.
func liveHub(st *store.Store, cfg Config) (*store.Hub, time.Duration) {
	hub, every := cfg.Hub, cfg.Heartbeat
	if hub == nil {
		hub = store.NewHub(st, cfg.Logger)
	}
	if every <= 0 {
		every = DefaultHeartbeat
	}
	return hub, every
}

// Default caps on open live-update streams per process. A stream holds a
// connection and a goroutine for as long as the session is open, so without
// a cap anyone holding one checkout link could exhaust file descriptors.
// Refused clients fall back to polling /status.
const (
	DefaultMaxStreams          = 10_000
	DefaultMaxStreamsPerClient = 32 // a household or office behind one address
)

// streamLimit counts open streams, in all and per client address.
type streamLimit struct {
	max, perClient int

	mu     sync.Mutex
	total  int
	client map[string]int
}

func newStreamLimit(max, perClient int) *streamLimit {
	if max <= 0 {
		max = DefaultMaxStreams
	}
	if perClient <= 0 {
		perClient = DefaultMaxStreamsPerClient
	}
	return &streamLimit{max: max, perClient: perClient, client: map[string]int{}}
}

// acquire takes a slot for ip, or reports that none is free.
func (l *streamLimit) acquire(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max || l.client[ip] >= l.perClient {
		return false
	}
	l.total++
	l.client[ip]++
	return true
}

func (l *streamLimit) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.client[ip]--; l.client[ip] <= 0 {
		delete(l.client, ip)
	}
}

var errTooManyStreams = &store.Error{Code: store.EUNAVAILABLE,
	Message: "Too many live-update streams are open; poll /status instead, or retry later."}
