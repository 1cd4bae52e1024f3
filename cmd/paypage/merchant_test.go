package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/paypage/paypage/store/storetest"
)

// paypageEnv runs the binary with extra environment variables.
func paypageEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("paypage %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not the JSON expected: %v\n%s", err, out)
	}
	return v
}

type shownMerchant struct {
	ID             string            `json:"id"`
	DisplayName    string            `json:"display_name"`
	Disabled       bool              `json:"disabled"`
	AllowedOrigins []string          `json:"allowed_origins"`
	Appearance     map[string]string `json:"appearance"`
	SupportEmail   string            `json:"support_email"`
	DefaultLocale  string            `json:"default_locale"`
	Keys           []struct {
		Mode      string `json:"mode"`
		Last4     string `json:"last4"`
		ExpiresAt *int64 `json:"expires_at"`
		Active    bool   `json:"active"`
	} `json:"keys"`
	Audit []struct {
		Actor   string         `json:"actor"`
		Action  string         `json:"action"`
		Changes map[string]any `json:"changes"`
		Created int64          `json:"created"`
	} `json:"audit"`
}

func TestMerchantAdministrationCommands(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		db := []string{"PAYPAGE_DATABASE_URL=" + dbURL}
		out, stderr, code := paypageEnv(t, db, "merchant", "create", "--name", "Acme", "--actor", "carol",
			"--brand-color", "#112233", "--support-email", "help@acme.example")
		if code != 0 {
			t.Fatalf("create: %d %s", code, stderr)
		}
		created := decode[map[string]string](t, out)
		id := created["merchant_id"]

		// update: the fields given change, the others stay; the operator is
		// $USER without --actor.
		out, stderr, code = paypageEnv(t, append(db, "USER=dave"), "merchant", "update", id,
			"--theme", "dark", "--allowed-origin", "HTTPS://Shop.Example", "--default-locale", "de")
		if code != 0 {
			t.Fatalf("update: %d %s", code, stderr)
		}
		m := decode[shownMerchant](t, out)
		if m.Appearance["theme"] != "dark" || m.Appearance["brand_color"] != "#112233" ||
			len(m.AllowedOrigins) != 1 || m.AllowedOrigins[0] != "https://shop.example" || m.DefaultLocale != "de" ||
			m.SupportEmail != "help@acme.example" {
			t.Fatalf("after update: %+v", m)
		}

		// Refused values: exit 2 naming the flag, and nothing changes.
		for _, args := range [][]string{
			{"--brand-color", "red"}, {"--allowed-origin", "https://shop.example/path"}, {"--support-url", "http://x.example"},
			{"--default-locale", "xx"}, {"--theme", "neon"}, {"--name", ""},
		} {
			_, stderr, code := paypageEnv(t, db, append([]string{"merchant", "update", id}, args...)...)
			if code != 2 || !strings.Contains(stderr, args[0]) {
				t.Errorf("update %v: exit %d, want 2 naming %s: %s", args, code, args[0], firstLine(stderr))
			}
		}
		for _, args := range [][]string{
			{"merchant", "update", id},                                // no field
			{"merchant", "update", "acct_missing", "--theme", "dark"}, // unknown merchant
			{"merchant", "show"},                                      // no id
			{"merchant", "show", "acct_missing"},
			{"merchant", "disable", "acct_missing"},
			{"merchant", "roll-key", id},                                            // no mode
			{"merchant", "roll-key", id, "--mode", "live", "--expire-old-in", "8d"}, // beyond 7 days
			{"merchant", "roll-key", id, "--mode", "live", "--expire-old-in", "soon"},
			{"merchant", "roll-webhook-secret", id, "--expire-old-in", "-1h"},
		} {
			if _, stderr, code := paypageEnv(t, db, args...); code != 2 {
				t.Errorf("paypage %v: exit %d, want 2: %s", args, code, firstLine(stderr))
			}
		}

		out, _, code = paypageEnv(t, db, "merchant", "roll-key", id, "--mode", "live", "--expire-old-in", "2d", "--actor", "erin")
		rolled := decode[map[string]any](t, out)
		if code != 0 || !strings.HasPrefix(rolled["secret_key"].(string), "sk_live_") || rolled["secret_key"] == created["live_secret_key"] {
			t.Fatalf("roll-key: %d %v", code, rolled)
		}
		out, _, code = paypageEnv(t, db, "merchant", "roll-webhook-secret", id)
		secret := decode[map[string]any](t, out)
		if code != 0 || !strings.HasPrefix(secret["webhook_secret"].(string), "whsec_") || secret["webhook_secret"] == created["webhook_secret"] {
			t.Fatalf("roll-webhook-secret: %d %v", code, secret)
		}

		out, _, code = paypageEnv(t, db, "merchant", "disable", id)
		if m := decode[shownMerchant](t, out); code != 0 || !m.Disabled {
			t.Fatalf("disable: %d %+v", code, m)
		}
		out, _, _ = paypageEnv(t, db, "merchant", "list")
		list := decode[[]shownMerchant](t, out)
		if len(list) != 1 || list[0].ID != id || !list[0].Disabled {
			t.Fatalf("list: %+v", list)
		}

		out, _, code = paypageEnv(t, db, "merchant", "show", id)
		m = decode[shownMerchant](t, out)
		if code != 0 || len(m.Keys) != 3 {
			t.Fatalf("show: %d %+v", code, m)
		}
		for _, k := range m.Keys {
			if k.Active {
				t.Errorf("a disabled merchant's key shows as active: %+v", k)
			}
			if strings.Contains(out, created["test_secret_key"][8:]) || strings.Contains(out, rolled["secret_key"].(string)[8:]) {
				t.Fatal("show printed a secret key")
			}
		}
		var trail []string
		for _, e := range m.Audit {
			trail = append(trail, e.Actor+" "+e.Action)
		}
		me := actor("") // the same environment as the binary's: $USER, else the OS user
		want := []string{me + " disable", me + " roll_webhook_secret", "erin roll_key", "dave update", "carol create"}
		if strings.Join(trail, ", ") != strings.Join(want, ", ") {
			t.Errorf("audit trail:\n got %v\nwant %v", trail, want)
		}
		if _, _, code := paypageEnv(t, db, "merchant", "enable", id); code != 0 {
			t.Errorf("enable: exit %d", code)
		}
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// What the command line changes reaches a running server at once, on
// SQLite too, where the command is another process that nothing notifies:
// the server's caches of keys and pages see the change before the command
// has exited.
func TestMerchantCommandsReachARunningServerAtOnce(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		db := []string{"PAYPAGE_DATABASE_URL=" + dbURL}
		addr := freeAddr(t)
		out, stderr, code := paypageEnv(t, append(db, "PAYPAGE_ADDR="+addr), "demo")
		if code != 0 {
			t.Fatalf("demo: %d %s", code, stderr)
		}
		id := regexp.MustCompile(`\((acct_\w+)\)`).FindStringSubmatch(out)
		key := regexp.MustCompile(`sk_test_\w+`).FindString(out)
		page := regexp.MustCompile(`http://\S+/pay/cs_test_\w+`).FindString(out)
		if id == nil || key == "" || page == "" {
			t.Fatalf("demo printed no merchant, key or page:\n%s", out)
		}
		srv := exec.Command(binary(t), "serve", "--database-url", dbURL, "--addr", addr)
		srv.Dir = t.TempDir()
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer srv.Process.Kill()
		waitHealthy(t, "http://"+addr)
		retrieve := "http://" + addr + "/v1/checkout/sessions/" + page[strings.LastIndex(page, "/")+1:]

		run := func(args ...string) map[string]any {
			out, stderr, code := paypageEnv(t, db, append([]string{"merchant"}, args...)...)
			if code != 0 {
				t.Fatalf("merchant %v: %d %s", args, code, stderr)
			}
			return decode[map[string]any](t, out)
		}
		for i := range 3 {
			for range 2 { // the second from the server's caches
				if code := get(t, retrieve, key); code != 200 {
					t.Fatalf("round %d: retrieve: %d", i, code)
				}
				if code := get(t, page, ""); code != 200 {
					t.Fatalf("round %d: page: %d", i, code)
				}
			}
			run("disable", id[1])
			if code := get(t, retrieve, key); code != 401 {
				t.Fatalf("round %d: retrieve right after merchant disable: %d, want 401", i, code)
			}
			if code := get(t, page, ""); code != 403 {
				t.Fatalf("round %d: page right after merchant disable: %d, want 403", i, code)
			}
			run("enable", id[1])
			if code := get(t, retrieve, key); code != 200 {
				t.Fatalf("round %d: retrieve right after merchant enable: %d", i, code)
			}
			rolled := run("roll-key", id[1], "--mode", "test")
			if code := get(t, retrieve, key); code != 401 {
				t.Fatalf("round %d: the key rolled without overlap still works: %d", i, code)
			}
			key = rolled["secret_key"].(string)
		}
	})
}
