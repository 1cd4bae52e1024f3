// Package browsertest finds a real browser for the tests that drive one.
package browsertest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// names are the Chromium binaries of Debian, Ubuntu and Google's builds.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Chromium returns the path of a Chromium binary: PAYPAGE_CHROMIUM when set,
// else the first of the usual names found on PATH. Without one it skips t,
// or fails it when PAYPAGE_REQUIRE_ALL=1, so that CI cannot pass without
// having run the browser tests.
func Chromium(t testing.TB) string {
	t.Helper()
	if name := os.Getenv("PAYPAGE_CHROMIUM"); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			unavailable(t, fmt.Sprintf("PAYPAGE_CHROMIUM: %v", err))
		}
		return path
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	unavailable(t, fmt.Sprintf("none of %v on PATH; install one or set PAYPAGE_CHROMIUM", names))
	return ""
}

func unavailable(t testing.TB, reason string) {
	t.Helper()
	msg := "Chromium unavailable: " + reason
	if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
}
