package storetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is a PostgreSQL server of one test's own, for fault tests: the
// test may stop it, start it again, and freeze it (SIGSTOP on the postmaster
// and every backend, as a paused VM or a hung host looks from outside) and
// thaw it. It listens on 127.0.0.1 and on a unix socket in its directory,
// and is removed when the test ends, however it ends.
type Cluster struct {
	t testing.TB
	c *cluster

	mu     sync.Mutex
	frozen []int // the processes Freeze stopped
}

// NewCluster starts a cluster for t. It skips t when PostgreSQL's binaries
// are missing, or fails it when PAYPAGE_REQUIRE_ALL=1. Starting one takes a
// few seconds (initdb).
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("storetest: free port: %v", err)
	}
	c, err := startCluster(port)
	if err != nil {
		unavailable(t, fmt.Errorf("start a cluster of the test's own: %w", err))
	}
	cl := &Cluster{t: t, c: c}
	t.Cleanup(func() {
		cl.Thaw() // a stopped process would not stop
		c.stop()
	})
	return cl
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// URL is the admin URL of the cluster's postgres database over TCP on
// 127.0.0.1.
func (cl *Cluster) URL() string {
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Host: "127.0.0.1:" + strconv.Itoa(cl.c.tcpPort),
		Path: "/postgres", RawQuery: "sslmode=disable"}).String()
}

// SocketURL is the same database over the unix socket.
func (cl *Cluster) SocketURL() string { return cl.c.url }

// Stop stops the server at once (pg_ctl stop -m immediate), as a crash
// would: connections are cut, and new ones are refused.
func (cl *Cluster) Stop() {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.c.pgCtl(ctx, "stop", "-D", filepath.Join(cl.c.dir, "data"), "-m", "immediate", "-s"); err != nil {
		cl.t.Fatalf("storetest: stop the cluster: %v", err)
	}
}

// Start starts the stopped server again and waits until it accepts
// connections.
func (cl *Cluster) Start() {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.c.start(ctx); err != nil {
		cl.t.Fatalf("storetest: start the cluster again: %v", err)
	}
}

// Freeze stops the postmaster and every one of its processes with SIGSTOP:
// the server keeps its connections and its kernel keeps accepting new ones
// and acknowledging what is sent, but nothing is ever answered.
func (cl *Cluster) Freeze() {
	cl.t.Helper()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.frozen != nil {
		return
	}
	pm, err := cl.postmaster()
	if err != nil {
		cl.t.Fatalf("storetest: freeze: %v", err)
	}
	// The postmaster first: stopped, it forks nothing new while its
	// children are listed and stopped.
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		cl.t.Fatalf("storetest: freeze postmaster %d: %v", pm, err)
	}
	cl.frozen = []int{pm}
	children, err := childrenOf(pm)
	if err != nil {
		cl.t.Fatalf("storetest: freeze: %v", err)
	}
	for _, pid := range children {
		if syscall.Kill(pid, syscall.SIGSTOP) == nil {
			cl.frozen = append(cl.frozen, pid)
		}
	}
}

// Thaw lets the processes Freeze stopped run again.
func (cl *Cluster) Thaw() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for i := len(cl.frozen) - 1; i >= 0; i-- {
		syscall.Kill(cl.frozen[i], syscall.SIGCONT)
	}
	cl.frozen = nil
}

// postmaster reads the postmaster's pid from its pid file.
func (cl *Cluster) postmaster() (int, error) {
	b, err := os.ReadFile(filepath.Join(cl.c.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// "pid (comm) state ppid …": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out, nil
}
