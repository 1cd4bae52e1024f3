package handlers

import (
	"container/heap"
	"sync"
	"time"
)

// The clocks every live stream shares, so that an open stream holds no
// timer of its own: one ticker for the heartbeats of all streams, running
// only while there are streams, and one timer for every session's expiry.

// beat is the heartbeat of every stream.
type beat struct {
	every time.Duration

	mu      sync.Mutex
	streams int
	next    chan struct{} // closed at the next beat, then replaced
	stop    chan struct{} // closed when the last stream leaves
}

// join counts a stream in, starting the ticker for the first one.
func (b *beat) join() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.streams++; b.streams == 1 {
		b.next, b.stop = make(chan struct{}), make(chan struct{})
		go b.run(b.stop)
	}
}

// leave counts a stream out, stopping the ticker after the last one.
func (b *beat) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.streams--; b.streams == 0 {
		close(b.stop)
	}
}

// wait returns the channel that closes at the next beat.
func (b *beat) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next
}

func (b *beat) run(stop <-chan struct{}) {
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.mu.Lock()
			close(b.next)
			b.next = make(chan struct{})
			b.mu.Unlock()
		case <-stop:
			return
		}
	}
}

// alarms calls ring(id) once at each time asked for session id: the
// streams of an open session wake when it expires by the clock, which
// nothing else would tell them until the sweeper runs. One timer serves
// every session; a session watched by many streams is one alarm.
type alarms struct {
	ring func(id string)

	mu    sync.Mutex
	due   map[string]time.Time // the alarm set for each session
	queue alarmQueue
	timer *time.Timer
}

func newAlarms(ring func(id string)) *alarms {
	return &alarms{ring: ring, due: map[string]time.Time{}}
}

// at sets an alarm for session id at t, unless one is set by then.
func (a *alarms) at(id string, t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.due[id]; ok && !d.After(t) {
		return
	}
	a.due[id] = t
	heap.Push(&a.queue, alarm{at: t, id: id})
	a.arm()
}

// arm sets the timer for the earliest alarm. Called with mu held.
func (a *alarms) arm() {
	if len(a.queue) == 0 {
		return
	}
	wait := time.Until(a.queue[0].at)
	if a.timer == nil {
		a.timer = time.AfterFunc(wait, a.fire)
		return
	}
	a.timer.Reset(wait)
}

// fire rings every alarm that is due, and arms the timer for the next.
func (a *alarms) fire() {
	var ids []string
	a.mu.Lock()
	now := time.Now()
	for len(a.queue) > 0 && !a.queue[0].at.After(now) {
		al := heap.Pop(&a.queue).(alarm)
		if d, ok := a.due[al.id]; ok && d.Equal(al.at) {
			delete(a.due, al.id)
			ids = append(ids, al.id)
		}
	}
	a.arm()
	a.mu.Unlock()
	for _, id := range ids {
		a.ring(id)
	}
}

type alarm struct {
	at time.Time
	id string
}

// alarmQueue is a heap of alarms, earliest first.
type alarmQueue []alarm

func (q alarmQueue) Len() int           { return len(q) }
func (q alarmQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q alarmQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *alarmQueue) Push(x any)        { *q = append(*q, x.(alarm)) }
func (q *alarmQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
