package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outcome records Skip and Fatal instead of ending the test, so that the
// test can check which one Chromium chose.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()           {}
func (o *outcome) Skip(args ...any)  { o.skipped = fmt.Sprint(args...) }
func (o *outcome) Fatal(args ...any) { o.failed = fmt.Sprint(args...) }

func TestChromium(t *testing.T) {
	bin := t.TempDir()
	fake := filepath.Join(bin, "chromium-browser")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	for _, tc := range []struct {
		name               string
		env, path, require string
		want, skip, fail   string
	}{
		{name: "env names a binary", env: fake, path: empty, want: fake},
		{name: "env names a missing binary", env: filepath.Join(empty, "chromium"), path: bin, skip: "PAYPAGE_CHROMIUM"},
		{name: "found on PATH", path: bin, want: fake},
		{name: "none skips", path: empty, skip: "Chromium unavailable"},
		{name: "none fails when all are required", path: empty, require: "1", fail: "Chromium unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PAYPAGE_CHROMIUM", tc.env)
			t.Setenv("PATH", tc.path)
			t.Setenv("PAYPAGE_REQUIRE_ALL", tc.require)
			o := &outcome{TB: t}
			got := Chromium(o)
			if got != tc.want {
				t.Errorf("Chromium() = %q, want %q", got, tc.want)
			}
			if !strings.Contains(o.skipped, tc.skip) || (tc.skip == "") != (o.skipped == "") {
				t.Errorf("skipped with %q, want a message containing %q", o.skipped, tc.skip)
			}
			if !strings.Contains(o.failed, tc.fail) || (tc.fail == "") != (o.failed == "") {
				t.Errorf("failed with %q, want a message containing %q", o.failed, tc.fail)
			}
		})
	}
}
