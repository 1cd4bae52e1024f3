package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/paypage/paypage/handlers"
)

// settings is every PAYPAGE_* variable paypage reads: the one place they are
// declared, checked and documented. Commands read them only through
// setting.value, flags that stand for one are registered by settingFlag,
// and README.md's configuration reference is rendered from this table and
// the commands' flag sets (TestConfigReferenceIsTheREADMEs keeps the two
// equal; TestEverySettingIsDeclared finds variables read anywhere else).
var settings = []*setting{
	{Env: "PAYPAGE_ADDR", Flag: "addr", Default: "127.0.0.1:8080", Check: checkListenAddr,
		Commands: []string{"demo"}, Doc: "address the pages and API listen on"},
	{Env: "PAYPAGE_DATABASE_URL", Flag: "database-url", Default: defaultDatabaseURL, Check: checkDatabaseURL, Mask: maskURL,
		Doc: "`postgres://…` (lib/pq) or `sqlite:PATH` / a bare path (embedded SQLite). A new SQLite file is readable by its owner only (0600); `sqlite:PATH?_pragma=max_page_count(262144)` adds SQLite pragmas (only `_pragma`), e.g. to cap the file's size"},
	{Env: "PAYPAGE_METRICS_ADDR", Flag: "metrics-addr", DefaultDoc: "off", Check: checkListenAddr,
		Doc: "address of the Prometheus `/metrics` listener, e.g. `127.0.0.1:9090`; unauthenticated, so keep it off public networks"},
	{Env: "PAYPAGE_BASE_URL", DefaultDoc: "`http://` + the listen address", Check: checkBaseURL,
		Commands: []string{"demo", "serve"}, Doc: "public URL used in `url` fields and redirects"},
	{Env: "PAYPAGE_COOKIE_KEYS", DefaultDoc: "generated once into `cookie-keys` in the data directory", Check: checkCookieKeys,
		Mask: maskList, Commands: []string{"serve"},
		Doc: "comma-separated cookie keys of at least 32 characters, newest first (rotation: prepend a new key, drop the oldest later); the same on every instance. They also sign seed 003's `hcpToken`s, under a key derived for that alone"},
	{Env: "PAYPAGE_TRUSTED_PROXIES", DefaultDoc: "none", Check: checkTrustedProxies, Commands: []string{"serve"},
		Doc: "comma-separated proxy IPs/CIDRs whose `X-Forwarded-For` is believed; the client address is then the nearest hop that is not one of them"},
	{Env: "PAYPAGE_API_RATE", Default: strconv.FormatFloat(handlers.DefaultAPIRate, 'f', -1, 64), Check: checkRate,
		Commands: []string{"serve"}, Doc: "API requests per second per key, per instance"},
	{Env: "PAYPAGE_API_BURST", Default: strconv.Itoa(handlers.DefaultAPIBurst), Check: checkBurst,
		Commands: []string{"serve"}, Doc: "API burst per key, per instance"},
	{Env: "PAYPAGE_WEBHOOK_ALLOW_PRIVATE", Default: "0", Check: checkBool,
		Commands: []string{"serve", "webhook-endpoint create", "webhook-endpoint update"},
		Doc:      "1: webhook endpoints may be on loopback and private addresses (for tests only; never in production)"},
}

// setting is one PAYPAGE_* variable, and the flag that overrides it when
// there is one.
type setting struct {
	Env     string
	Flag    string // "" when only the variable sets it
	Default string // "" when empty, or worked out by the command (DefaultDoc says how)
	// DefaultDoc is how the reference describes an empty Default.
	DefaultDoc string
	Doc        string
	// Commands read the variable without a flag; a setting with a flag is
	// read by the commands whose flag set has it.
	Commands []string
	Check    func(string) error  // nil: any value
	Mask     func(string) string // how `paypage config` shows a secret; nil: as it is
}

func lookupSetting(env string) *setting {
	for _, s := range settings {
		if s.Env == env {
			return s
		}
	}
	panic("paypage: undeclared setting " + env) // a programming error: declare it above
}

// getenv returns the value of variable env (declared above), or its default.
func getenv(env string) string {
	s := lookupSetting(env)
	if v := os.Getenv(s.Env); v != "" {
		return v
	}
	return s.Default
}

// settingFlag registers on fs the flag that overrides variable env,
// defaulting to the variable's value.
func settingFlag(fs *flag.FlagSet, env string) *string {
	s := lookupSetting(env)
	return fs.String(s.Flag, getenv(env), s.Doc)
}

// effective is the value command (whose parsed flags are fs) uses, and
// whether it reads s at all.
func (s *setting) effective(fs *flag.FlagSet, command string) (string, bool) {
	if s.Flag != "" {
		if f := fs.Lookup(s.Flag); f != nil {
			return f.Value.String(), true
		}
	}
	for _, c := range s.Commands {
		if c == command {
			return getenv(s.Env), true
		}
	}
	return "", false
}

// checkSettings checks, once fs is parsed, every setting command reads: a
// bad value is a usage error (exit 2) naming the variable (and the flag).
func checkSettings(fs *flag.FlagSet, command string) error {
	for _, s := range settings {
		v, ok := s.effective(fs, command)
		if !ok || v == "" || s.Check == nil {
			continue
		}
		if err := s.Check(v); err != nil {
			name := s.Env
			if s.Flag != "" {
				name = "--" + s.Flag + " / " + s.Env
			}
			return usageError(fmt.Sprintf("%s: %s", name, err))
		}
	}
	return nil
}

// source says where the effective value of s comes from.
func (s *setting) source(fs *flag.FlagSet) string {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == s.Flag })
	switch {
	case set:
		return "flag --" + s.Flag
	case os.Getenv(s.Env) != "":
		return "environment"
	case s.Default == "" && s.DefaultDoc != "":
		return "default: " + strings.ReplaceAll(s.DefaultDoc, "`", "")
	}
	return "default"
}

func checkListenAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (e.g. 127.0.0.1:8080, :8080)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", v)
	}
	return nil
}

func checkDatabaseURL(v string) error {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		if _, err := url.Parse(v); err != nil {
			return fmt.Errorf("not a valid postgres:// URL")
		}
		return nil
	}
	if strings.Contains(v, "://") {
		return fmt.Errorf("must be postgres://…, postgresql://…, sqlite:PATH or a file path")
	}
	if strings.TrimPrefix(strings.TrimPrefix(v, "sqlite:"), "//") == "" {
		return fmt.Errorf("sqlite: needs a file path")
	}
	return nil
}

func checkBaseURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute http(s) URL without user info, query or fragment", v)
	}
	return nil
}

func checkCookieKeys(v string) error {
	keys := splitList(v)
	if len(keys) == 0 {
		return fmt.Errorf("no key given")
	}
	for i, k := range keys {
		if len(k) < minCookieSecret {
			return fmt.Errorf("key %d is %d characters; each must be at least %d", i+1, len(k), minCookieSecret)
		}
	}
	return nil
}

func checkTrustedProxies(v string) error {
	_, err := handlers.ParseTrustedProxies(splitList(v))
	return err
}

func checkRate(v string) error {
	if r, err := strconv.ParseFloat(v, 64); err != nil || r <= 0 {
		return fmt.Errorf("%q is not a positive number of requests per second", v)
	}
	return nil
}

func checkBool(v string) error {
	if v != "0" && v != "1" {
		return fmt.Errorf("%q is neither 1 nor 0", v)
	}
	return nil
}

func checkBurst(v string) error {
	if b, err := strconv.Atoi(v); err != nil || b < 1 {
		return fmt.Errorf("%q is not a whole number of requests, at least 1", v)
	}
	return nil
}

func maskURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	return u.Redacted()
}

func maskList(v string) string {
	return fmt.Sprintf("<%d keys, masked>", len(splitList(v)))
}

// configCmd is `paypage config`: the configuration serve would run with,
// as an environment file (secrets masked), each line saying where its value
// comes from. Bad values are refused as serve refuses them.
func configCmd(fs *flag.FlagSet, c *cli) runFunc {
	settingFlag(fs, "PAYPAGE_DATABASE_URL")
	settingFlag(fs, "PAYPAGE_ADDR")
	settingFlag(fs, "PAYPAGE_METRICS_ADDR")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if err := checkSettings(fs, "serve"); err != nil {
			return err
		}
		for _, s := range settings {
			v, _ := s.effective(fs, "serve")
			if s.Mask != nil && v != "" {
				v = s.Mask(v)
			}
			fmt.Fprintf(c.stdout, "%s=%s # %s\n", s.Env, v, s.source(fs))
		}
		return nil
	}
}

// writeReference writes the configuration reference: every PAYPAGE_*
// variable and every flag of every command, in one Markdown table.
func writeReference(w io.Writer) {
	type row struct {
		flag, env, def, doc string
		commands            []string
	}
	var rows []*row
	byFlag := map[string]*row{}
	for _, s := range settings {
		def := s.DefaultDoc
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		r := &row{env: "`" + s.Env + "`", def: def, doc: s.Doc, commands: append([]string(nil), s.Commands...)}
		if s.Flag != "" {
			r.flag = "`--" + s.Flag + "`"
			byFlag[s.Flag] = r
		}
		rows = append(rows, r)
	}
	for _, cmd := range commands {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.setup(fs, &cli{stdout: io.Discard})
		fs.VisitAll(func(f *flag.Flag) {
			key := f.Name + "\x00" + f.Usage + "\x00" + f.DefValue
			r, ok := byFlag[f.Name]
			if !ok {
				if r, ok = byFlag[key]; !ok {
					r = &row{flag: "`--" + f.Name + "`", doc: f.Usage}
					if d := flagDefault(f); d != "" {
						r.def = "`" + d + "`"
					}
					byFlag[key] = r
					rows = append(rows, r)
				}
			}
			r.commands = append(r.commands, cmd.name)
		})
	}
	fmt.Fprintln(w, "| flag | variable | default | commands | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		sort.Strings(r.commands)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.flag, r.env, r.def, strings.Join(r.commands, ", "), r.doc)
	}
}

// flagDefault is a command flag's default as the reference shows it.
func flagDefault(f *flag.Flag) string {
	if f.DefValue == "false" {
		return ""
	}
	return f.DefValue
}
