package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// SQLite's WAL checkpoints run here, in the background, and not in the
// commit that crosses wal_autocheckpoint's 1000 pages: that commit held
// this process's writer queue (inTx) through the checkpoint's copy and
// fsyncs, and every writer behind it waited. Like SQLite's own automatic
// checkpoints they are PASSIVE: they never wait for a reader or a writer,
// and copy what they can; what they cannot, the next one does.
//
// A checkpoint runs checkpointAfter a commit of this process, gathering the
// commits of that time, and every checkpointIdle regardless, for the commits
// of other processes (the command line), which checkpoint nothing either.
const (
	checkpointAfter = 200 * time.Millisecond
	checkpointIdle  = 5 * time.Second
)

// walCheckpointer runs one process's checkpoints of one SQLite database.
type walCheckpointer struct {
	db       *sqlx.DB
	idle     time.Duration
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	// What the checkpoints did: how many ran, and the last one's frames
	// in the WAL and frames copied from it into the database.
	runs, log, copied atomic.Int64
}

func startCheckpointer(db *sqlx.DB, idle time.Duration) *walCheckpointer {
	c := &walCheckpointer{db: db, idle: idle, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer that this process committed a write.
func (c *walCheckpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *walCheckpointer) run() {
	defer close(c.done)
	idle := time.NewTimer(c.idle)
	defer idle.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			select {
			case <-c.stop:
				return
			case <-time.After(checkpointAfter):
			}
		case <-idle.C:
		}
		c.checkpoint()
		idle.Reset(c.idle)
	}
}

// checkpoint runs one PASSIVE checkpoint. Its failure (the database busy
// with another process's checkpoint, a full disk) is left to the next.
func (c *walCheckpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, log, copied int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err == nil {
		c.log.Store(log)
		c.copied.Store(copied)
		c.runs.Add(1)
	}
}

func (c *walCheckpointer) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}
