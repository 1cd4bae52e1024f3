package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// watch is the child: it opens the streams, says "connected" once each
// has its first event, then times the rounds the server announces.
func watch() error {
	addr := os.Getenv("SSEMEM_ADDR")
	ids := strings.Split(os.Getenv("SSEMEM_IDS"), ",")
	n, _ := strconv.Atoi(os.Getenv("SSEMEM_WATCHERS"))
	var (
		expected atomic.Int64 // the session index of the round (-1: none)
		arrivals = make(chan int64, n)
		ready    sync.WaitGroup
		failed   = make(chan error, 1)
	)
	expected.Store(-1)
	ready.Add(n)
	for i := range n {
		go func() {
			if err := stream(addr, ids[i%len(ids)], int64(i%len(ids)), &expected, arrivals, ready.Done); err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		}()
		if i%500 == 499 {
			time.Sleep(20 * time.Millisecond) // let the server's accept loop keep up
		}
	}
	connected := make(chan struct{})
	go func() { ready.Wait(); close(connected) }()
	select {
	case <-connected:
	case err := <-failed:
		return err
	case <-time.After(2 * time.Minute):
		return errors.New("not every stream connected within 2 minutes")
	}
	fmt.Println("connected")

	per := map[int64]int{}
	for i := range n {
		per[int64(i%len(ids))]++
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) < 2 || f[0] != "expect" {
			return fmt.Errorf("unexpected command %q", in.Text())
		}
		s, _ := strconv.ParseInt(f[1], 10, 64)
		expected.Store(s)
		fmt.Println("ready")
		if !in.Scan() {
			return nil
		}
		t0, _ := strconv.ParseInt(strings.TrimPrefix(in.Text(), "sent "), 10, 64)
		var out []string
		timeout := time.After(10 * time.Second)
	collect:
		for range per[s] {
			select {
			case at := <-arrivals:
				out = append(out, strconv.FormatInt(at-t0, 10))
			case <-timeout:
				break collect
			}
		}
		expected.Store(-1)
		fmt.Println(strings.Join(out, " "))
	}
	return nil
}

// stream watches session id until the process ends.
func stream(addr, id string, index int64, expected *atomic.Int64, arrivals chan<- int64, connected func()) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c, "GET /pay/%s/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", id, addr); err != nil {
		return err
	}
	r := bufio.NewReaderSize(c, 512)
	status, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.Contains(status, " 200 ") {
		return fmt.Errorf("stream of %s: %s", id, strings.TrimSpace(status))
	}
	first := true
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line != "event: status\n" {
			continue
		}
		if first {
			first = false
			connected()
			continue
		}
		if expected.Load() == index {
			arrivals <- time.Now().UnixNano()
		}
	}
}
