package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite README.md's configuration reference")

const (
	referenceStart = "<!-- configuration reference: generated from cmd/paypage by `go test ./cmd/paypage -run ConfigReference -update` -->\n"
	referenceEnd   = "<!-- end of the configuration reference -->\n"
)

// The README's configuration table is what the code declares: every
// PAYPAGE_* variable and every flag of every command, rendered from the
// settings table and the commands' flag sets.
func TestConfigReferenceIsTheREADMEs(t *testing.T) {
	t.Parallel()
	var want bytes.Buffer
	writeReference(&want)
	path := filepath.Join("..", "..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte(referenceStart))
	end := bytes.Index(readme, []byte(referenceEnd))
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the markers of the configuration reference:\n%s%s", referenceStart, referenceEnd)
	}
	got := readme[start+len(referenceStart) : end]
	if bytes.Equal(got, want.Bytes()) {
		return
	}
	if *update {
		out := append(append(append([]byte{}, readme[:start+len(referenceStart)]...), want.Bytes()...), readme[end:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration reference is stale; run go test ./cmd/paypage -run ConfigReference -update\nwant:\n%s", want.String())
}

// No code reads a PAYPAGE_* variable that the settings table does not
// declare, and the table declares none that nothing reads.
func TestEverySettingIsDeclared(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`PAYPAGE_[A-Z0-9_]+`)
	readElsewhere := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, file := range fields[1:] {
			src, err := os.ReadFile(filepath.Join(fields[0], file))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range name.FindAllString(string(src), -1) {
				declared := false
				for _, s := range settings {
					declared = declared || s.Env == v
				}
				if !declared {
					t.Errorf("%s mentions %s, which cmd/paypage/config.go's settings table does not declare", file, v)
				}
				if file != "config.go" {
					readElsewhere[v] = true
				}
			}
		}
	}
	for _, s := range settings {
		if !readElsewhere[s.Env] {
			t.Errorf("%s is declared but nothing reads it", s.Env)
		}
	}
}

// A bad value stops serve before it opens anything, with exit status 2 and
// the variable (and flag) named.
func TestServeRefusesBadSettingsNamingThem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := binary(t) // built first: the build is not what the deadline below bounds
	for _, tc := range []struct {
		env  string
		args []string
		name string
	}{
		{"PAYPAGE_ADDR=localhost", nil, "PAYPAGE_ADDR"},
		{"", []string{"--addr", "127.0.0.1:99999"}, "--addr / PAYPAGE_ADDR"},
		{"PAYPAGE_DATABASE_URL=mysql://db/paypage", nil, "PAYPAGE_DATABASE_URL"},
		{"PAYPAGE_BASE_URL=pay.example", nil, "PAYPAGE_BASE_URL"},
		{"PAYPAGE_BASE_URL=https://user:pw@pay.example", nil, "PAYPAGE_BASE_URL"},
		{"PAYPAGE_COOKIE_KEYS=short", nil, "PAYPAGE_COOKIE_KEYS"},
		{"PAYPAGE_TRUSTED_PROXIES=10.0.0.0/33", nil, "PAYPAGE_TRUSTED_PROXIES"},
		{"PAYPAGE_API_RATE=fast", nil, "PAYPAGE_API_RATE"},
		{"PAYPAGE_API_RATE=-1", nil, "PAYPAGE_API_RATE"},
		{"PAYPAGE_API_BURST=1.5", nil, "PAYPAGE_API_BURST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"serve"}, tc.args...)...)
			cmd.Env = append(os.Environ(), "PAYPAGE_ADDR=127.0.0.1:0", "PAYPAGE_DATABASE_URL=sqlite:"+filepath.Join(dir, "p.db"), tc.env)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, _ := err.(*exec.ExitError)
			if ee == nil || ee.ExitCode() != 2 || !strings.Contains(firstLine(stderr.String()), tc.name+":") {
				t.Fatalf("serve with %s %v: %v, want exit 2 naming %s:\n%s", tc.env, tc.args, err, tc.name, firstLine(stderr.String()))
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "p.db")); err == nil {
		t.Error("serve opened the database before refusing its settings")
	}
}

func TestConfigPrintsTheEffectiveConfigurationMasked(t *testing.T) {
	t.Parallel()
	cookieKey := strings.Repeat("k", 40)
	out, stderr, code := paypageEnv(t, []string{
		"PAYPAGE_DATABASE_URL=postgres://paypage:hunter2@db.internal/paypage?sslmode=verify-full",
		"PAYPAGE_COOKIE_KEYS=" + cookieKey + "," + strings.Repeat("o", 40),
		"PAYPAGE_API_RATE=", "PAYPAGE_BASE_URL=", "PAYPAGE_TRUSTED_PROXIES=10.0.0.0/8",
	}, "config", "--addr", "0.0.0.0:8080")
	if code != 0 {
		t.Fatalf("config: exit %d: %s", code, stderr)
	}
	for _, line := range []string{
		"PAYPAGE_ADDR=0.0.0.0:8080 # flag --addr",
		"PAYPAGE_DATABASE_URL=postgres://paypage:xxxxx@db.internal/paypage?sslmode=verify-full # environment",
		"PAYPAGE_COOKIE_KEYS=<2 keys, masked> # environment",
		"PAYPAGE_TRUSTED_PROXIES=10.0.0.0/8 # environment",
		"PAYPAGE_API_RATE=100 # default",
		"PAYPAGE_BASE_URL= # default: http:// + the listen address",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("config lacks the line %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, cookieKey) {
		t.Errorf("config printed a secret:\n%s", out)
	}
	for _, s := range settings {
		if !strings.Contains(out, s.Env+"=") {
			t.Errorf("config does not print %s", s.Env)
		}
	}
	if _, stderr, code := paypageEnv(t, []string{"PAYPAGE_API_BURST=many"}, "config"); code != 2 || !strings.Contains(stderr, "PAYPAGE_API_BURST") {
		t.Errorf("config with a bad value: exit %d: %s", code, firstLine(stderr))
	}
}
