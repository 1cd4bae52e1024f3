package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/paypage/paypage/store"
)

// The merchant commands. Each prints one JSON document on success; bad
// flags, refused values and unknown merchants are usage errors (exit 2).
// Every change is recorded in the audit trail under the operator's name
// (--actor, else $USER, else the OS user), which `merchant show` prints.

// auditShown is how many audit entries `merchant show` prints, newest first.
const auditShown = 100

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// merchantFields are the flags that set a merchant's fields, the same for
// create and update. The values are checked by the store, by the rules
// merchants are always checked with.
type merchantFields struct {
	fs                                           *flag.FlagSet
	name, displayName, appearanceName            *string
	logoURL, brandColor, buttonColor, background *string
	borderStyle, fontFamily, theme               *string
	locale, supportEmail, supportURL             *string
	termsURL, privacyURL, apiVersion             *string
	recovery                                     *bool
	origins, hosts                               repeated
}

func addMerchantFields(fs *flag.FlagSet) *merchantFields {
	f := &merchantFields{fs: fs}
	f.name = fs.String("name", "", "the merchant's name (required at creation)")
	f.displayName = fs.String("display-name", "", "name shown to shoppers (default: the name)")
	fs.Var(&f.origins, "allowed-origin", "origin allowed to frame the status widget, like https://shop.example (repeatable; update: replaces the list, a single empty value clears it)")
	fs.Var(&f.hosts, "redirect-host", "host return URLs may point to (repeatable; none: any https host; update: replaces the list, a single empty value clears it)")
	f.appearanceName = fs.String("appearance-display-name", "", "branding: name shown instead of the display name")
	f.logoURL = fs.String("logo-url", "", "branding: logo, an https URL")
	f.brandColor = fs.String("brand-color", "", "branding: colour as #rrggbb")
	f.buttonColor = fs.String("button-color", "", "branding: button colour as #rrggbb")
	f.background = fs.String("background-color", "", "branding: background colour as #rrggbb")
	f.borderStyle = fs.String("border-style", "", "branding: rounded, rectangular or pill")
	f.fontFamily = fs.String("font-family", "", "branding: "+strings.Join(store.FontFamilies, ", "))
	f.theme = fs.String("theme", "", "branding: light, dark or auto")
	f.locale = fs.String("default-locale", "", "pages' language when neither the shopper nor the session chose one (en, fr, pt-BR, …)")
	f.supportEmail = fs.String("support-email", "", "support e-mail address shown on the pages")
	f.supportURL = fs.String("support-url", "", "support page shown on the pages, an https URL")
	f.termsURL = fs.String("terms-url", "", "terms of service linked from the pages, an https URL")
	f.privacyURL = fs.String("privacy-url", "", "privacy policy linked from the pages, an https URL")
	f.recovery = fs.Bool("recovery", false, "expired sessions may be restarted by the shopper (--recovery=false to stop)")
	f.apiVersion = fs.String("api-version", "", "pinned API version: how requests without a version header are answered: "+
		store.APIVersionNative+" (the default), "+store.APIVersionBLIK+" or a Stripe version like "+store.APIVersionStripe+" (docs/api-versions.md)")
	return f
}

// apply sets the fields whose flags were given on m ("" clears a field),
// and says how many there were.
func (f *merchantFields) apply(m *store.Merchant) int {
	n := 0
	list := func(values repeated) store.StringList {
		out := store.StringList{}
		for _, v := range values {
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	f.fs.Visit(func(fl *flag.Flag) {
		n++
		switch fl.Name {
		case "name":
			m.Name = *f.name
		case "display-name":
			m.DisplayName = *f.displayName
		case "allowed-origin":
			m.AllowedOrigins = list(f.origins)
		case "redirect-host":
			m.RedirectHosts = list(f.hosts)
		case "appearance-display-name":
			m.Appearance.DisplayName = *f.appearanceName
		case "logo-url":
			m.Appearance.LogoURL = *f.logoURL
		case "brand-color":
			m.Appearance.BrandColor = *f.brandColor
		case "button-color":
			m.Appearance.ButtonColor = *f.buttonColor
		case "background-color":
			m.Appearance.BackgroundColor = *f.background
		case "border-style":
			m.Appearance.BorderStyle = *f.borderStyle
		case "font-family":
			m.Appearance.FontFamily = *f.fontFamily
		case "theme":
			m.Appearance.Theme = *f.theme
		case "default-locale":
			m.DefaultLocale = *f.locale
		case "support-email":
			m.SupportEmail = *f.supportEmail
		case "support-url":
			m.SupportURL = *f.supportURL
		case "terms-url":
			m.TermsURL = *f.termsURL
		case "privacy-url":
			m.PrivacyURL = *f.privacyURL
		case "recovery":
			m.RecoveryEnabled = *f.recovery
		case "api-version":
			m.APIVersion = *f.apiVersion
		default:
			n-- // not a field: --database-url, --actor
		}
	})
	return n
}

// actorFlag registers --actor; actor resolves its value.
func actorFlag(fs *flag.FlagSet) *string {
	return fs.String("actor", "", "who makes the change, for the audit trail (default: $USER, else the OS user)")
}

func actor(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid:" + strconv.Itoa(os.Getuid())
}

// overlap is a --expire-old-in duration: Go's units (90m, 24h) plus days
// (7d), or "now".
type overlap time.Duration

func (o *overlap) String() string {
	d := time.Duration(*o)
	switch {
	case d == 0:
		return "now"
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}

func (o *overlap) Set(v string) error {
	switch {
	case v == "now" || v == "0":
		*o = 0
		return nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil {
			return errors.New("want a duration like 1h, 24h or 7d, or now")
		}
		*o = overlap(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want a duration like 1h, 24h or 7d, or now")
	}
	*o = overlap(d)
	return nil
}

// merchantStore opens the store for a merchant command, its changes audited
// as made by the operator.
func merchantStore(ctx context.Context, dbURL, who string) (*store.Store, context.Context, error) {
	st, err := openStore(ctx, dbURL, true)
	if err != nil {
		return nil, nil, err
	}
	return st, store.WithActor(ctx, actor(who)), nil
}

// storeError turns what the caller got wrong (a refused value, an unknown
// merchant) into a usage error, exit 2, naming the flag; anything else
// stays a failure.
func storeError(command string, err error) error {
	var se *store.Error
	if !errors.As(err, &se) || (se.Code != store.EINVALID && se.Code != store.ENOTFOUND) {
		return err
	}
	if flagName := paramFlag(se.Param); flagName != "" && se.Code == store.EINVALID {
		return usageError(command + ": " + flagName + ": " + se.Message)
	}
	return usageError(command + ": " + se.Message)
}

// paramFlag names the flag that sets a store parameter.
func paramFlag(param string) string {
	switch param {
	case "", "merchant":
		return ""
	case "appearance[display_name]":
		return "--appearance-display-name"
	}
	name := strings.TrimSuffix(strings.TrimPrefix(param, "appearance["), "]")
	return "--" + strings.ReplaceAll(name, "_", "-")
}

// oneID returns the merchant id a command takes as its one argument.
func oneID(fs *flag.FlagSet, args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError(fs.Name() + ": give one merchant id (acct_…)")
	}
	return args[0], nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func merchantCreateCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	fields := addMerchantFields(fs)
	who := actorFlag(fs)
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		if *fields.name == "" {
			return usageError("merchant create: --name is required")
		}
		m := &store.Merchant{}
		fields.apply(m)
		st, ctx, err := merchantStore(ctx, *dbURL, *who)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := st.CreateMerchant(ctx, m)
		if err != nil {
			return storeError("merchant create", err)
		}
		return json.NewEncoder(c.stdout).Encode(map[string]string{
			"merchant_id": m.ID, "test_secret_key": keys.Test, "live_secret_key": keys.Live,
			// Beyond the contract's three keys: signed payment events need it,
			// and like the keys it is shown here once.
			"webhook_secret": m.WebhookSecret,
		})
	}
}

func merchantListCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(fs, args); err != nil {
			return err
		}
		st, err := openStore(ctx, *dbURL, true)
		if err != nil {
			return err
		}
		defer st.Close()
		ms, err := st.ListMerchants(ctx)
		if err != nil {
			return err
		}
		out := make([]merchantSummary, len(ms))
		for i, m := range ms {
			out[i] = summary(m)
		}
		return printJSON(c.stdout, out)
	}
}

func merchantShowCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	return func(ctx context.Context, args []string) error {
		id, err := oneID(fs, args)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, *dbURL, true)
		if err != nil {
			return err
		}
		defer st.Close()
		m, err := st.Merchant(ctx, id)
		if err != nil {
			return storeError("merchant show", err)
		}
		return showMerchant(ctx, c.stdout, st, m, true)
	}
}

func merchantUpdateCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	fields := addMerchantFields(fs)
	who := actorFlag(fs)
	return func(ctx context.Context, args []string) error {
		id, err := oneID(fs, args)
		if err != nil {
			return err
		}
		if fields.apply(&store.Merchant{}) == 0 {
			return usageError("merchant update: give at least one field flag (--brand-color, --support-email, …)")
		}
		st, ctx, err := merchantStore(ctx, *dbURL, *who)
		if err != nil {
			return err
		}
		defer st.Close()
		m, err := st.UpdateMerchant(ctx, id, func(m *store.Merchant) error {
			fields.apply(m)
			return nil
		})
		if err != nil {
			return storeError("merchant update", err)
		}
		return showMerchant(ctx, c.stdout, st, m, false)
	}
}

func merchantDisableCmd(fs *flag.FlagSet, c *cli) runFunc { return setDisabledCmd(fs, c, true) }

func merchantEnableCmd(fs *flag.FlagSet, c *cli) runFunc { return setDisabledCmd(fs, c, false) }

func setDisabledCmd(fs *flag.FlagSet, c *cli, disabled bool) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	who := actorFlag(fs)
	return func(ctx context.Context, args []string) error {
		id, err := oneID(fs, args)
		if err != nil {
			return err
		}
		st, ctx, err := merchantStore(ctx, *dbURL, *who)
		if err != nil {
			return err
		}
		defer st.Close()
		m, err := st.SetMerchantDisabled(ctx, id, disabled)
		if err != nil {
			return storeError(fs.Name(), err)
		}
		return showMerchant(ctx, c.stdout, st, m, false)
	}
}

func merchantRollKeyCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	mode := fs.String("mode", "", "which key to roll: test or live (required)")
	var expire overlap
	fs.Var(&expire, "expire-old-in", "how long the replaced key of that mode keeps working: now, or up to 7d (90m, 24h, 7d)")
	who := actorFlag(fs)
	return func(ctx context.Context, args []string) error {
		id, err := oneID(fs, args)
		if err != nil {
			return err
		}
		if *mode != "test" && *mode != "live" {
			return usageError("merchant roll-key: --mode must be test or live")
		}
		st, ctx, err := merchantStore(ctx, *dbURL, *who)
		if err != nil {
			return err
		}
		defer st.Close()
		rolled, err := st.RollKey(ctx, id, *mode == "live", time.Duration(expire))
		if err != nil {
			return storeError("merchant roll-key", err)
		}
		return printJSON(c.stdout, map[string]any{
			"merchant_id": id, "mode": *mode, "secret_key": rolled.Secret, "old_key_expires_at": rolled.OldExpiresAt,
		})
	}
}

// defaultWebhookOverlap is how long a rolled webhook secret keeps verifying
// by default: the integration that signs payment events needs time to
// switch, while a rolled key (default: now) is usually a leak.
const defaultWebhookOverlap = overlap(24 * time.Hour)

func merchantRollWebhookSecretCmd(fs *flag.FlagSet, c *cli) runFunc {
	dbURL := settingFlag(fs, "PAYPAGE_DATABASE_URL")
	expire := defaultWebhookOverlap
	fs.Var(&expire, "expire-old-in", "how long the replaced webhook secret keeps verifying signatures: now, or up to 7d")
	who := actorFlag(fs)
	return func(ctx context.Context, args []string) error {
		id, err := oneID(fs, args)
		if err != nil {
			return err
		}
		st, ctx, err := merchantStore(ctx, *dbURL, *who)
		if err != nil {
			return err
		}
		defer st.Close()
		m, err := st.RollWebhookSecret(ctx, id, time.Duration(expire))
		if err != nil {
			return storeError("merchant roll-webhook-secret", err)
		}
		oldExpires := st.Now().Unix()
		if m.PreviousWebhookSecretExpiresAt != nil {
			oldExpires = *m.PreviousWebhookSecretExpiresAt
		}
		return printJSON(c.stdout, map[string]any{
			"merchant_id": id, "webhook_secret": m.WebhookSecret, "old_secret_expires_at": oldExpires,
		})
	}
}

// merchantSummary is a merchant as `merchant list` prints it.
type merchantSummary struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Disabled    bool   `json:"disabled"`
	Created     int64  `json:"created"`
}

func summary(m *store.Merchant) merchantSummary {
	return merchantSummary{ID: m.ID, Name: m.Name, DisplayName: m.DisplayName, Disabled: m.Disabled(), Created: m.Created}
}

// merchantDetail is a merchant as show, update, disable and enable print
// it: every field, its keys and webhook secrets by their last four
// characters only.
type merchantDetail struct {
	merchantSummary
	DisabledAt      *int64             `json:"disabled_at"`
	AllowedOrigins  []string           `json:"allowed_origins"`
	RedirectHosts   []string           `json:"redirect_hosts"`
	Appearance      store.Appearance   `json:"appearance"`
	DefaultLocale   string             `json:"default_locale"`
	SupportEmail    string             `json:"support_email"`
	SupportURL      string             `json:"support_url"`
	TermsURL        string             `json:"terms_url"`
	PrivacyURL      string             `json:"privacy_url"`
	RecoveryEnabled bool               `json:"recovery_enabled"`
	Keys            []keyDetail        `json:"keys"`
	WebhookSecrets  []keyDetail        `json:"webhook_secrets"`
	Audit           []store.AuditEntry `json:"audit,omitempty"`
}

type keyDetail struct {
	Mode      string `json:"mode,omitempty"`
	Last4     string `json:"last4"`
	Created   int64  `json:"created,omitempty"`
	ExpiresAt *int64 `json:"expires_at"`
	Active    bool   `json:"active"`
}

func showMerchant(ctx context.Context, w io.Writer, st *store.Store, m *store.Merchant, withAudit bool) error {
	now := st.Now().Unix()
	d := merchantDetail{
		merchantSummary: summary(m), DisabledAt: m.DisabledAt,
		AllowedOrigins: append([]string{}, m.AllowedOrigins...), RedirectHosts: append([]string{}, m.RedirectHosts...),
		Appearance: m.Appearance, DefaultLocale: m.DefaultLocale, SupportEmail: m.SupportEmail,
		SupportURL: m.SupportURL, TermsURL: m.TermsURL, PrivacyURL: m.PrivacyURL,
		RecoveryEnabled: m.RecoveryEnabled, Keys: []keyDetail{},
		WebhookSecrets: []keyDetail{{Last4: last4(m.WebhookSecret), Active: !m.Disabled()}},
	}
	if m.PreviousWebhookSecret != "" {
		exp := m.PreviousWebhookSecretExpiresAt
		d.WebhookSecrets = append(d.WebhookSecrets, keyDetail{Last4: last4(m.PreviousWebhookSecret), ExpiresAt: exp,
			Active: !m.Disabled() && exp != nil && *exp > now})
	}
	keys, err := st.APIKeys(ctx, m.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		mode := "test"
		if k.Livemode {
			mode = "live"
		}
		d.Keys = append(d.Keys, keyDetail{Mode: mode, Last4: k.Last4, Created: k.Created, ExpiresAt: k.ExpiresAt,
			Active: !m.Disabled() && (k.ExpiresAt == nil || *k.ExpiresAt > now)})
	}
	if withAudit {
		if d.Audit, err = st.MerchantAudit(ctx, m.ID, auditShown); err != nil {
			return err
		}
	}
	return printJSON(w, d)
}

func last4(secret string) string {
	if len(secret) < 4 {
		return ""
	}
	return secret[len(secret)-4:]
}
