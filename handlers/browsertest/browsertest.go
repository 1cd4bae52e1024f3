// Package browsertest gives the tests that drive a real browser one headless
// Chromium per test binary, and the helpers to look at pages with it.
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
	unavailableTest(t, "Chromium unavailable: "+reason)
}

// unavailableTest skips t for a missing part, or fails it when
// PAYPAGE_REQUIRE_ALL=1.
func unavailableTest(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
}
