package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Merchants and their keys also change from the command line (paypage
// merchant disable, roll-key…), in a process of its own. On PostgreSQL such
// a change is notified like any other (merchantTx); SQLite has no channel
// between processes, so every change of a merchant or its keys moves a
// counter, the admin generation, kept in a small file beside the database
// ("<database>-paypage") that every paypage process maps into its memory,
// as SQLite does with its own -shm file. A server's caches compare it on
// every use (a load from memory, no system call) and forget whatever they
// read before it moved.
//
// The counter moves before the change's transaction and after its commit:
// a read under way while a change is in flight sees it move and keeps
// nothing, and once the changing process has committed, no cache of any
// process serves what was read before. The file must stay where it is
// while paypage runs: a server keeps the file it mapped at start.
type adminGen struct {
	mem    []byte // 8 bytes mapped shared
	closed atomic.Bool
}

const adminGenSuffix = "-paypage"

// openAdminGen maps the admin generation of the SQLite database at path:
// the file beside the database itself, wherever a symbolic link to it
// leads (SQLite follows them too), owned like the database (a command run
// as root must not leave a file the server cannot open).
func openAdminGen(path string) (*adminGen, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	f, err := os.OpenFile(path+adminGenSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: %w", err)
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err == nil && fi.Size() < 8 {
		err = f.Truncate(8) // never shrunk: every process maps the same 8 bytes
	}
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: %w", err)
	}
	if db, err := os.Stat(path); err == nil && os.Geteuid() == 0 {
		if st, ok := db.Sys().(*syscall.Stat_t); ok {
			f.Chown(int(st.Uid), int(st.Gid))
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: map %s: %w", f.Name(), err)
	}
	return &adminGen{mem: mem}, nil
}

// counter is the shared word; a mapping starts on a page, so it is aligned.
func (g *adminGen) counter() *uint64 { return (*uint64)(unsafe.Pointer(&g.mem[0])) }

// load returns the generation now (0 without a file).
func (g *adminGen) load() uint64 {
	if g == nil {
		return 0
	}
	return atomic.LoadUint64(g.counter())
}

// move moves the generation on, for every process that maps it.
func (g *adminGen) move() {
	if g != nil && !g.closed.Load() {
		atomic.AddUint64(g.counter(), 1)
	}
}

// close stops g moving. The mapping stays (8 bytes, until the process
// ends): a reader still under way when the store closes (a live stream, a
// request past the shutdown's deadline) must not fault on it.
func (g *adminGen) close() error {
	if g != nil {
		g.closed.Store(true)
	}
	return nil
}
