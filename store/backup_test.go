package store_test

import (
	"path/filepath"
	"testing"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

func TestBackupCopiesSQLiteAndLeavesPostgreSQLToPgDump(t *testing.T) {
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		sess := createSession(t, s, m, false, validParams())
		path := filepath.Join(t.TempDir(), "backup.db")
		err := s.Backup(t.Context(), path)
		if s.Engine() == store.Postgres {
			wantInvalid(t, err, "database_url")
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		copy, err := store.Open(t.Context(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer copy.Close()
		got, err := copy.Session(t.Context(), sess.ID)
		if err != nil || got.AmountTotal != sess.AmountTotal {
			t.Fatalf("the backup's copy of the session: %+v %v", got, err)
		}
		wantInvalid(t, s.Backup(t.Context(), path), "to") // never overwrites
	})
}
