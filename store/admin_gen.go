package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
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
// process serves what was read before.
//
// The file should stay where it is while paypage runs. If it is deleted or
// replaced anyway, a server finds out within adminGenCheck (it looks at
// the file's identity in the background), maps the new one, and forgets
// everything its caches read before: the generation it reports carries
// the count of such switches in its top bits.
type adminGen struct {
	path     string // the file
	cur      atomic.Pointer[adminFile]
	switches atomic.Uint64
	closed   atomic.Bool
	stop     chan struct{}
}

// adminFile is one mapping of the file, kept for the process's life: a
// reader under way when it is replaced (or the store closed) must not
// fault on it.
type adminFile struct {
	mem      []byte // 8 bytes mapped shared; a mapping starts on a page, so it is aligned
	dev, ino uint64
}

const (
	adminGenSuffix = "-paypage"
	adminGenCheck  = time.Second
	switchShift    = 48 // the generation's bits above hold the switches
)

// openAdminGen maps the admin generation of the SQLite database at path:
// the file beside the database itself, wherever a symbolic link to it
// leads (SQLite follows them too), owned like the database (a command run
// as root must not leave a file the server cannot open).
func openAdminGen(path string) (*adminGen, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	g := &adminGen{path: path + adminGenSuffix, stop: make(chan struct{})}
	f, err := mapAdminFile(g.path, path)
	if err != nil {
		return nil, err
	}
	g.cur.Store(f)
	go g.watch()
	return g, nil
}

// mapAdminFile opens (or creates) the file and maps its 8 bytes.
func mapAdminFile(name, db string) (*adminFile, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: %w", err)
	}
	defer f.Close() // the mapping outlives the descriptor
	fi, err := f.Stat()
	if err == nil && fi.Size() < 8 {
		err = f.Truncate(8) // never shrunk: every process maps the same 8 bytes
	}
	if err == nil {
		fi, err = f.Stat()
	}
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: %w", err)
	}
	if dbi, err := os.Stat(db); err == nil && os.Geteuid() == 0 {
		if st, ok := dbi.Sys().(*syscall.Stat_t); ok {
			f.Chown(int(st.Uid), int(st.Gid))
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("store: admin generation: map %s: %w", name, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return &adminFile{mem: mem, dev: uint64(st.Dev), ino: st.Ino}, nil
}

func (f *adminFile) counter() *uint64 { return (*uint64)(unsafe.Pointer(&f.mem[0])) }

// load returns the generation now (0 without a file).
func (g *adminGen) load() uint64 {
	if g == nil {
		return 0
	}
	n := atomic.LoadUint64(g.cur.Load().counter())
	return g.switches.Load()<<switchShift | n&(1<<switchShift-1)
}

// move moves the generation on, for every process that maps it.
func (g *adminGen) move() {
	if g != nil && !g.closed.Load() {
		atomic.AddUint64(g.cur.Load().counter(), 1)
	}
}

// watch maps the file anew when another file has taken its name, until
// the store closes.
func (g *adminGen) watch() {
	t := time.NewTicker(adminGenCheck)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		g.check()
	}
}

// check looks at the file's identity once; a new file is mapped, and the
// generation switches.
func (g *adminGen) check() {
	fi, err := os.Stat(g.path)
	cur := g.cur.Load()
	if err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && uint64(st.Dev) == cur.dev && st.Ino == cur.ino {
			return
		}
	}
	f, err := mapAdminFile(g.path, strings.TrimSuffix(g.path, adminGenSuffix))
	if err != nil {
		return // looked at again next time
	}
	g.cur.Store(f)
	g.switches.Add(1)
}

// close stops g moving and watching.
func (g *adminGen) close() error {
	if g != nil && !g.closed.Swap(true) {
		close(g.stop)
	}
	return nil
}
