package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Backup copies an SQLite database into the new file path, consistent as
// of one instant, while the database goes on serving: VACUUM INTO reads it
// in one read transaction (in WAL mode writers carry on meanwhile) and
// writes a compacted copy. The copy is written beside path and renamed
// into place only once complete and checked, so path never holds half a
// backup. PostgreSQL has pg_dump for this; asking here is EINVALID.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.engine != SQLite {
		return Invalid("database_url", "backup copies the embedded SQLite database; back PostgreSQL up with pg_dump")
	}
	if _, err := os.Stat(path); err == nil {
		return Invalid("to", "%s exists already; back up into a new file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	tmp.Close()
	os.Remove(tmp.Name()) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmp.Name())
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmp.Name()); err != nil {
		return fmt.Errorf("store: backup: %w", mapErr(err))
	}
	if err := checkSQLiteFile(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("store: backup: the copy fails its check: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// checkSQLiteFile runs SQLite's integrity check on the database file path.
func checkSQLiteFile(ctx context.Context, path string) error {
	copy, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer copy.Close()
	var result string
	if err := copy.db.GetContext(ctx, &result, `PRAGMA integrity_check`); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
