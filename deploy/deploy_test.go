// Package deploy_test checks the deployment files — the Dockerfile at the
// repository's root and the systemd unit beside this file — as far as a
// machine without a container engine or a running systemd can: the
// Dockerfile with BuildKit's own checks (those of `docker build --check`),
// the unit with systemd-analyze, and the binary built and run exactly as the
// image builds and runs it.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
)

const root = ".." // the repository, where the Dockerfile is

func readDockerfile(t *testing.T) []byte {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// offlineImages answers BuildKit's questions about base images without a
// registry (there is no network here): a linux/amd64 image with a PATH, as
// both base images are.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(config), config, nil
}

// The Dockerfile passes every check `docker build --check` makes, with no
// warning (BuildKit's linter, the rules of its dockerfile frontend).
func TestDockerfilePassesBuildKitsChecks(t *testing.T) {
	dt := readDockerfile(t)
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		SourceMap: sm, MetaResolver: offlineImages{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != nil {
		t.Fatalf("the Dockerfile does not build: %s", res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		t.Errorf("Dockerfile:%d: %s: %s (%s)", line, w.RuleName, w.Detail, w.URL)
	}
	// The linter itself works: a Dockerfile with known faults is flagged.
	bad := []byte("from golang:1.26 as build\nMAINTAINER someone\nCMD paypage serve\n")
	sm = llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", bad)
	sm.Definition = &llb.Definition{}
	res, err = dockerfile2llb.DockerfileLint(context.Background(), bad, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: offlineImages{}})
	if err != nil || len(res.Warnings) < 2 {
		t.Fatalf("the linter found %d faults in a faulty Dockerfile (%v)", len(res.Warnings), err)
	}
}

// dockerfile is the parsed Dockerfile: its build stage and its final one.
type dockerfile struct {
	build, final instructions.Stage
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	ast, err := parser.Parse(bytes.NewReader(readDockerfile(t)))
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].Name != "build" {
		t.Fatalf("want two stages, the first named build; got %d", len(stages))
	}
	return dockerfile{build: stages[0], final: stages[1]}
}

// env returns the variables a stage's ENV instructions set.
func env(s instructions.Stage) map[string]string {
	out := map[string]string{}
	for _, c := range s.Commands {
		if e, ok := c.(*instructions.EnvCommand); ok {
			for _, kv := range e.Env {
				out[kv.Key] = kv.Value
			}
		}
	}
	return out
}

func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if x, ok := c.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// What the issue asks of the image, read off the Dockerfile: multi-stage,
// a static binary, a non-root user, data on a volume (so the root file
// system can be read-only), a HEALTHCHECK on /healthz that needs no shell.
func TestDockerfileShape(t *testing.T) {
	df := parseDockerfile(t)
	if env(df.build)["CGO_ENABLED"] != "0" {
		t.Error("the build stage does not set CGO_ENABLED=0 (a static binary)")
	}
	for _, base := range []string{df.build.BaseName, df.final.BaseName} {
		if !strings.Contains(base, ":") || strings.HasSuffix(base, ":latest") {
			t.Errorf("base image %q is not pinned to a tag", base)
		}
	}
	users := commands[*instructions.UserCommand](df.final)
	if len(users) == 0 {
		t.Fatal("the image runs as root: no USER")
	}
	uid, _, _ := strings.Cut(users[len(users)-1].User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)", users[len(users)-1].User)
	}
	volumes := commands[*instructions.VolumeCommand](df.final)
	if len(volumes) != 1 || len(volumes[0].Volumes) != 1 || volumes[0].Volumes[0] != "/data" {
		t.Fatalf("want one VOLUME, /data; got %v", volumes)
	}
	if db := env(df.final)["PAYPAGE_DATABASE_URL"]; !strings.HasPrefix(db, "sqlite:/data/") {
		t.Errorf("PAYPAGE_DATABASE_URL=%q is not on the /data volume", db)
	}
	hc := commands[*instructions.HealthCheckCommand](df.final)
	if len(hc) != 1 || len(hc[0].Health.Test) < 2 || hc[0].Health.Test[0] != "CMD" {
		t.Fatalf("want one HEALTHCHECK in exec form (there is no shell); got %+v", hc)
	}
	if got := strings.Join(hc[0].Health.Test[1:], " "); got != "/paypage healthcheck" {
		t.Errorf("HEALTHCHECK runs %q, want /paypage healthcheck", got)
	}
}

// buildLikeTheImage runs the build stage's `go build` RUN as it is written,
// with the stage's ENV, from the repository's root (the stage's /src), into
// dir instead of /out.
func buildLikeTheImage(t *testing.T, df dockerfile, dir string) string {
	t.Helper()
	var build string
	for _, r := range commands[*instructions.RunCommand](df.build) {
		if line := strings.Join(r.CmdLine, " "); strings.HasPrefix(line, "go build ") {
			build = line
		}
	}
	if !strings.Contains(build, " -o /out/paypage ") {
		t.Fatalf("no `go build … -o /out/paypage …` RUN in the build stage: %q", build)
	}
	cmd := exec.Command("/bin/sh", "-c", strings.Replace(build, " -o /out/paypage ", " -o "+filepath.Join(dir, "paypage")+" ", 1))
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range env(df.build) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	return filepath.Join(dir, "paypage")
}

// The image's binary, built the image's way, is static and runs as the
// image runs it: as uid 65532 (when this test may switch to it), with the
// image's environment, its data directory the only place it may write (the
// working directory and TMPDIR are read-only, like the image's root file
// system), migrating, serving, answering its own health check, and stopping
// cleanly on SIGTERM.
func TestImageBinaryRunsAsTheImageRunsIt(t *testing.T) {
	df := parseDockerfile(t)
	top, err := os.MkdirTemp("", "paypage-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(top, "rootfs"), 0o755); os.RemoveAll(top) })
	bin := buildLikeTheImage(t, df, top)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary is dynamically linked (it needs %v)", libs)
		}
	}
	f.Close()

	// The image's layout: a read-only root, a writable volume.
	rootfs, data := filepath.Join(top, "rootfs"), filepath.Join(top, "data")
	for _, d := range []string{rootfs, data} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		uid, gid := 65532, 65532
		if err := os.Chown(data, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(top, 0o755); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	} else {
		t.Log("not root: running as this user rather than uid 65532")
	}
	if err := os.Chmod(rootfs, 0o555); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	imageEnv := []string{"PATH=/usr/bin:/bin", "HOME=" + rootfs, "TMPDIR=" + rootfs}
	for k, v := range env(df.final) {
		v = strings.ReplaceAll(v, "/data/", data+"/")
		if k == "PAYPAGE_ADDR" {
			// The image listens on every address; here, loopback only, on a
			// free port.
			v = strings.Replace(v, "0.0.0.0:8080", "127.0.0.1:"+port, 1)
		}
		imageEnv = append(imageEnv, k+"="+v)
	}
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = rootfs, imageEnv
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}
	healthcheck := commands[*instructions.HealthCheckCommand](df.final)[0].Health.Test[2:]

	if out, err := run(healthcheck...).CombinedOutput(); err == nil {
		t.Fatalf("the health check passed with no server: %s", out)
	}
	if out, err := run("migrate").CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := run("merchant", "create", "--name", "Image Shop").Output()
	if err != nil {
		t.Fatalf("merchant create: %v", err)
	}
	var created map[string]string
	if err := json.Unmarshal(out, &created); err != nil {
		t.Fatal(err)
	}

	cmdLine := commands[*instructions.CmdCommand](df.final)
	if len(cmdLine) != 1 || strings.Join(cmdLine[0].CmdLine, " ") != "serve" {
		t.Fatalf("CMD: want serve, got %+v", cmdLine)
	}
	srv := run(cmdLine[0].CmdLine...)
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	defer srv.Process.Kill()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		if out, err := run(healthcheck...).CombinedOutput(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the health check never passed: %v %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", base+"/v1/checkout/sessions", nil)
	req.SetBasicAuth(created["test_secret_key"], "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the API answered %d", resp.StatusCode)
	}
	for _, name := range []string{"paypage.db", "cookie-keys"} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("%s is not on the volume: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(rootfs); len(entries) != 0 {
		t.Errorf("paypage wrote outside its volume: %v", entries)
	}

	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			var all []string
			for l := range logs {
				all = append(all, l)
			}
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, strings.Join(all, "\n"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM")
	}
}

// systemdAnalyze finds systemd-analyze, or skips (fails under
// PAYPAGE_REQUIRE_ALL=1) without it.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		msg := "systemd-analyze not found (Debian: apt-get install systemd); the unit file is not checked"
		if os.Getenv("PAYPAGE_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// The unit passes `systemd-analyze verify`, keeps the hardening it promises,
// rates "OK" or better in `systemd-analyze security`, and its settings are
// ones paypage accepts.
func TestSystemdUnit(t *testing.T) {
	analyze := systemdAnalyze(t)
	unit, err := os.ReadFile("paypage.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=paypage", "ProtectHome=yes",
		"PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "ExecStart=/usr/local/bin/paypage serve\n"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}

	// verify checks that ExecStart exists: point it at the binary built as
	// the image builds it.
	dir := t.TempDir()
	bin := buildLikeTheImage(t, parseDockerfile(t), dir)
	path := filepath.Join(dir, "paypage.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/paypage"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for paypage\.service: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("exposure level %s %s, want 2.0 (\"OK\") or less:\n%s", m[1], m[2], out)
	}

	// The unit's Environment= lines are settings paypage accepts.
	var unitEnv []string
	for _, line := range strings.Split(string(unit), "\n") {
		if kv, ok := strings.CutPrefix(line, "Environment="); ok {
			unitEnv = append(unitEnv, strings.ReplaceAll(kv, "/var/lib/paypage/", dir+"/"))
		}
	}
	cmd := exec.Command(bin, "config")
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, unitEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("paypage config with the unit's environment: %v\n%s", err, out)
	}
}
