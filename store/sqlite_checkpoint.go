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
//
// The WAL starts over from its beginning only when a write begins after a
// checkpoint has copied all of it. Under steady writes a checkpoint that
// leaves writers running never has, and the WAL would grow for ever. So
// once it holds checkpointTail pages (32 MB of 4 KB pages), passes beside
// the writers catch up with them until what one leaves is under
// checkpointHeld pages, and a last pass copies that with this process's
// writers held: the next write starts the WAL over, and journal_size_limit
// (the DSN) cuts the file back.
// A pass takes two fsyncs; holding the writers for a whole pass (thousands
// of pages) cost a tenth of the creates per second under load.
const (
	checkpointAfter = 200 * time.Millisecond
	checkpointIdle  = 5 * time.Second
	checkpointTail  = 8000
	checkpointHeld  = 200
)

// walCheckpointer runs one process's checkpoints of one SQLite database.
type walCheckpointer struct {
	db       *sqlx.DB
	writers  chan struct{} // the store's writer queue (inTx)
	idle     time.Duration // checkpointIdle, but in tests
	tail     int64         // checkpointTail, but in tests
	kick     chan struct{}
	ctx      context.Context // ends with close, and with it a checkpoint under way
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once

	// What the checkpoints did: how many passes ran, how many of them
	// held the writers, and the last one's frames in the WAL and frames
	// copied from it into the database.
	runs, held, log, copied atomic.Int64
}

func startCheckpointer(db *sqlx.DB, writers chan struct{}, idle time.Duration, tail int64) *walCheckpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &walCheckpointer{db: db, writers: writers, idle: idle, tail: tail, kick: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
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
		case <-c.ctx.Done():
			return
		case <-c.kick:
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(checkpointAfter):
			}
		case <-idle.C:
		}
		c.checkpoint()
		idle.Reset(c.idle)
	}
}

// checkpoint copies the WAL into the database: beside the writers, and
// once the WAL has grown, the last few pages with them held. A failure
// (the database busy with another process's checkpoint, a full disk) is
// left to the next.
func (c *walCheckpointer) checkpoint() {
	log, ok := c.pass()
	if !ok || log < c.tail {
		return
	}
	for range 3 {
		before := log
		if log, ok = c.pass(); !ok || log < before {
			return // failed, or the WAL started over meanwhile
		}
		if log-before < checkpointHeld {
			break
		}
	}
	select {
	case c.writers <- struct{}{}:
		c.pass()
		c.held.Add(1)
		<-c.writers
	case <-c.ctx.Done():
	}
}

// pass runs one PASSIVE checkpoint and reports the frames the WAL held.
func (c *walCheckpointer) pass() (log int64, ok bool) {
	var busy, copied int64
	if err := c.db.QueryRowContext(c.ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return 0, false
	}
	c.log.Store(log)
	c.copied.Store(copied)
	c.runs.Add(1)
	return log, true
}

func (c *walCheckpointer) close() {
	c.stopOnce.Do(c.cancel)
	<-c.done
}
