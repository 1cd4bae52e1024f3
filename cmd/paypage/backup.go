package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
)

// backupCmd is `paypage backup --to FILE`: a consistent copy of the live
// SQLite database (see store.Backup), safe while servers write to it.
func backupCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	to := fs.String("to", "", "the backup file to create (it must not exist)")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if *to == "" {
			return usageError("backup: --to FILE is required")
		}
		if strings.Contains(*dbURL, "://") {
			return usageError("backup: copies the embedded SQLite database; back PostgreSQL up with pg_dump (README, \"Backups\")")
		}
		st, err := openStore(ctx, *dbURL, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Backup(ctx, *to); err != nil {
			return storeError("backup", err)
		}
		fi, err := os.Stat(*to)
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(*to)
		return printJSON(c.stdout, map[string]any{"backup": abs, "bytes": fi.Size(), "engine": st.Engine()})
	}
}
