package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	// liveSessions is how many sessions the watchers are spread over; each
	// is changed once, so each change reaches Watchers/liveSessions streams.
	liveSessions = 10
	// perAddress stays under paypage's streams per client address (32):
	// each group of watchers connects from its own 127.x.y.z.
	perAddress = 25
	liveWait   = 2 * time.Minute
)

// liveFigures are the live-update measurements of one engine.
type liveFigures struct {
	watchers      int
	rssBefore     int64 // paypage's RSS before any stream
	rss           int64 // with every watcher connected
	p50, p99, max time.Duration
	events        int // change events received
}

// watcher is one open stream and when the change reached it.
type watcher struct {
	conn    net.Conn
	session int
	arrived time.Time
}

// measureLive starts a fresh paypage, opens o.Watchers event streams on
// liveSessions sessions, reads its RSS, then changes (expires) each session
// in turn and times how long each change takes to reach every stream.
func measureLive(ctx context.Context, o Options, dir, paypage string, e *engine, f *fixture) (*liveFigures, error) {
	if len(f.ids) < liveSessions+1 {
		return nil, fmt.Errorf("need %d seeded sessions", liveSessions+1)
	}
	pp, _, err := startPaypage(ctx, dir, paypage, e)
	if err != nil {
		return nil, err
	}
	defer pp.stop()
	ids := f.ids[len(f.ids)-liveSessions:]
	if _, _, err := httpGet(pp.addr, "/pay/"+ids[0]+"/status", ""); err != nil {
		return nil, err
	}
	lf := &liveFigures{watchers: o.Watchers}
	if lf.rssBefore, err = pp.rssBytes(); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "paybench: %s: opening %d event streams\n", e.name, o.Watchers)
	ws := make([]*watcher, o.Watchers)
	defer func() {
		for _, w := range ws {
			if w != nil && w.conn != nil {
				w.conn.Close()
			}
		}
	}()
	var connected sync.WaitGroup
	changed := make([]sync.WaitGroup, liveSessions)
	errs := make(chan error, o.Watchers)
	// Connects in flight: more only queue up in paypage, past its request
	// deadline.
	dialing := make(chan struct{}, 32)
	for i := range ws {
		w := &watcher{session: i % liveSessions}
		ws[i] = w
		connected.Add(1)
		changed[w.session].Add(1)
		dialing <- struct{}{}
		go func() {
			err := w.watch(pp.addr, "/pay/"+ids[w.session]+"/events", i/perAddress, &connected, &changed[w.session], dialing)
			if err != nil {
				errs <- err
			}
		}()
	}
	if err := waitGroup(&connected, errs, liveWait); err != nil {
		return nil, fmt.Errorf("connecting: %w; paypage's log ends:\n%s", err, tail(pp.log))
	}
	if lf.rss, err = pp.rssBytes(); err != nil {
		return nil, err
	}
	var lat []time.Duration
	for s, id := range ids {
		sent := time.Now()
		if err := expire(pp.addr, f.key, id); err != nil {
			return nil, err
		}
		if err := waitGroup(&changed[s], errs, liveWait); err != nil {
			return nil, fmt.Errorf("change of %s: %w", id, err)
		}
		for _, w := range ws {
			if w.session == s {
				lat = append(lat, w.arrived.Sub(sent))
			}
		}
	}
	slices.Sort(lat)
	lf.events = len(lat)
	lf.p50, lf.p99, lf.max = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	return lf, nil
}

// waitGroup waits for wg, the first error on errs, or the time limit.
func waitGroup(wg *sync.WaitGroup, errs <-chan error, limit time.Duration) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case err := <-errs:
		return err
	case <-time.After(limit):
		return fmt.Errorf("not done after %s", limit)
	}
}

func expire(addr, key, id string) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("http://" + addr + "/v1/checkout/sessions/" + id + "/expire")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.SetContentType("application/x-www-form-urlencoded")
	if err := fasthttp.DoTimeout(req, resp, 30*time.Second); err != nil {
		return fmt.Errorf("expire %s: %w", id, err)
	}
	if resp.StatusCode() != 200 {
		return fmt.Errorf("expire %s: status %d: %.300s", id, resp.StatusCode(), resp.Body())
	}
	return nil
}

var statusEvent = []byte("event: status")

// open connects from the client address numbered client and starts the
// stream. A 503 (paypage busy, as EventSource would see it) is retried a
// few times, as EventSource would.
func (w *watcher) open(addr, path string, client int) (*bufio.Reader, error) {
	local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(client/250), byte(client%250+1))}
	d := net.Dialer{LocalAddr: local, Timeout: 30 * time.Second}
	for attempt := 1; ; attempt++ {
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr); err != nil {
			conn.Close()
			return nil, err
		}
		r := bufio.NewReaderSize(conn, 1024)
		status, err := r.ReadSlice('\n')
		switch {
		case err != nil:
			conn.Close()
			return nil, err
		case bytes.HasPrefix(status, []byte("HTTP/1.1 200")):
			w.conn = conn
			return r, nil
		case bytes.HasPrefix(status, []byte("HTTP/1.1 503")) && attempt < 5:
			conn.Close()
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond) // EventSource's retry, shortened
			continue
		}
		rest := make([]byte, 300)
		n, _ := io.ReadFull(r, rest)
		conn.Close()
		return nil, fmt.Errorf("GET %s: %s\n%s", path, bytes.TrimSpace(status), rest[:n])
	}
}

// watch opens the stream from the client address numbered client, marks
// connected once the first status event (the current state) is in, and
// changed, with the time, at the second (the change).
func (w *watcher) watch(addr, path string, client int, connected, changed *sync.WaitGroup, dialing chan struct{}) error {
	r, err := w.open(addr, path, client)
	<-dialing
	if err != nil {
		return err
	}
	// Events are found by their "event: status" line, whatever the chunked
	// framing around them: each is written in one piece.
	seen := 0
	for seen < 2 {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue // the rest of a long data line
		}
		if err != nil {
			return fmt.Errorf("GET %s: after %d events: %w", path, seen, err)
		}
		if !bytes.HasPrefix(line, statusEvent) {
			continue
		}
		seen++
		if seen == 1 {
			connected.Done()
		} else {
			w.arrived = time.Now()
			changed.Done()
		}
	}
	return nil
}
