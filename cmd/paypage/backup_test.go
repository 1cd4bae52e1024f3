package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A backup taken while a server writes holds every session committed
// before it began, restores as the README says, and serves them again.
func TestBackupWhileServingAndRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "paypage.db")
	db := []string{"PAYPAGE_DATABASE_URL=" + dbURL}
	out, _, code := paypageEnv(t, db, "merchant", "create", "--name", "Busy Shop")
	if code != 0 {
		t.Fatalf("merchant create: exit %d", code)
	}
	key := decode[map[string]string](t, out)["test_secret_key"]

	addr := freeAddr(t)
	srv := exec.Command(binary(t), "serve", "--addr", addr)
	srv.Env = append(os.Environ(), db...)
	srv.Env = append(srv.Env, "PAYPAGE_API_RATE=10000", "PAYPAGE_API_BURST=10000")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	waitHealthy(t, "http://"+addr)

	// Writers create sessions until told to stop; each remembers when its
	// sessions were committed (their answer arrived).
	type created struct {
		id string
		at time.Time
	}
	var (
		mu       sync.Mutex
		sessions []created
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	form := url.Values{"currency": {"eur"}, "line_items[0][quantity]": {"1"},
		"line_items[0][price_data][unit_amount]": {"700"}, "line_items[0][price_data][product_data][name]": {"Beans"}}.Encode()
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 2000; i++ {
				req, _ := http.NewRequest("POST", "http://"+addr+"/v1/checkout/sessions", strings.NewReader(form))
				req.SetBasicAuth(key, "")
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				var s struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("writer %d: create: %d", w, resp.StatusCode)
					return
				}
				mu.Lock()
				sessions = append(sessions, created{s.ID, time.Now()})
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(sessions) }
	for deadline := time.Now().Add(30 * time.Second); count() < 50 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	backup := filepath.Join(t.TempDir(), "paypage-backup.db")
	began := time.Now()
	out, stderr, code := paypageEnv(t, db, "backup", "--to", backup)
	ended := time.Now()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	if r := decode[map[string]any](t, out); r["backup"] != backup || r["engine"] != "sqlite" || r["bytes"].(float64) < 4096 {
		t.Errorf("backup printed %v", r)
	}
	time.Sleep(200 * time.Millisecond) // writers go on after the backup
	stop.Store(true)
	wg.Wait()
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	var before, after []string
	for _, s := range sessions {
		switch {
		case s.at.Before(began):
			before = append(before, s.id)
		case s.at.After(ended):
			after = append(after, s.id)
		}
	}
	t.Logf("%d sessions committed before the backup, %d during it, %d after", len(before), len(sessions)-len(before)-len(after), len(after))
	if len(after) == 0 {
		t.Fatal("no session was written after the backup: the test proves nothing about writes going on")
	}

	// Refusals: an existing file, a PostgreSQL database.
	if _, stderr, code := paypageEnv(t, db, "backup", "--to", backup); code != 2 || !strings.Contains(stderr, "exists") {
		t.Errorf("backup over an existing file: exit %d: %s", code, firstLine(stderr))
	}
	if _, stderr, code := paypageEnv(t, []string{"PAYPAGE_DATABASE_URL=postgres://paypage@db.invalid/paypage"}, "backup", "--to", backup+"2"); code != 2 || !strings.Contains(stderr, "pg_dump") {
		t.Errorf("backup of PostgreSQL: exit %d: %s", code, firstLine(stderr))
	}

	// Restore as the README says: the backup in place of the database, no
	// write-ahead log of the old one, then start.
	restored := t.TempDir()
	copyFile(t, backup, filepath.Join(restored, "paypage.db"))
	restoredDB := []string{"PAYPAGE_DATABASE_URL=sqlite:" + filepath.Join(restored, "paypage.db")}
	addr2 := freeAddr(t)
	srv2 := exec.Command(binary(t), "serve", "--addr", addr2)
	srv2.Env = append(append(os.Environ(), restoredDB...), "PAYPAGE_API_RATE=10000", "PAYPAGE_API_BURST=10000")
	if err := srv2.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv2.Process.Kill()
	waitHealthy(t, "http://"+addr2)
	for _, id := range before {
		if code := get(t, "http://"+addr2+"/v1/checkout/sessions/"+id, key); code != 200 {
			t.Fatalf("session %s, committed before the backup, reads %d from the restored database", id, code)
		}
	}
	for _, id := range after {
		if code := get(t, "http://"+addr2+"/v1/checkout/sessions/"+id, key); code != 404 {
			t.Fatalf("session %s, made after the backup, reads %d from the restored database", id, code)
		}
	}
	if code := get(t, "http://"+addr2+"/pay/"+before[0], ""); code != 200 {
		t.Errorf("a restored session's page: %d", code)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
