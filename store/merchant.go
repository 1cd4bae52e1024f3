package store

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/paypage/paypage/locales"
)

// Merchant is a seller using paypage.
type Merchant struct {
	ID              string     `db:"id"`
	Name            string     `db:"name"`
	DisplayName     string     `db:"display_name"`
	AllowedOrigins  StringList `db:"allowed_origins"` // who may frame the embed
	RedirectHosts   StringList `db:"redirect_hosts"`  // where return URLs may point; empty = any https host
	Appearance      Appearance `db:"appearance"`
	DefaultLocale   string     `db:"default_locale"`
	SupportEmail    string     `db:"support_email"`
	SupportURL      string     `db:"support_url"`
	TermsURL        string     `db:"terms_url"`        // the merchant's terms of service, linked from its pages
	PrivacyURL      string     `db:"privacy_url"`      // its privacy policy, likewise
	RecoveryEnabled bool       `db:"recovery_enabled"` // expired sessions may be restarted as a child
	WebhookSecret   string     `db:"webhook_secret"`
	APIVersion      string     `db:"api_version"` // pinned: how its requests without a version header are answered
	Created         int64      `db:"created"`
	// DisabledAt is when the operator disabled the merchant (nil: enabled):
	// its keys and webhook secret are refused and its pages say it is
	// unavailable; its data is kept.
	DisabledAt *int64 `db:"disabled_at"`
	// The webhook secret replaced by the last roll, still accepted until
	// PreviousWebhookSecretExpiresAt.
	PreviousWebhookSecret          string `db:"previous_webhook_secret"`
	PreviousWebhookSecretExpiresAt *int64 `db:"previous_webhook_secret_expires_at"`
}

// Disabled reports whether the operator disabled the merchant.
func (m *Merchant) Disabled() bool { return m.DisabledAt != nil }

// WebhookSecrets returns the secrets a signed payment event may be signed
// with at now: the current one and, during a roll's overlap, the previous.
func (m *Merchant) WebhookSecrets(now time.Time) []string {
	secrets := []string{m.WebhookSecret}
	if m.PreviousWebhookSecret != "" && m.PreviousWebhookSecretExpiresAt != nil && now.Unix() < *m.PreviousWebhookSecretExpiresAt {
		secrets = append(secrets, m.PreviousWebhookSecret)
	}
	return secrets
}

// Appearance is the merchant's branding; a session may override any field.
type Appearance struct {
	DisplayName     string `json:"display_name,omitempty"`
	LogoURL         string `json:"logo_url,omitempty"`
	BrandColor      string `json:"brand_color,omitempty"`
	ButtonColor     string `json:"button_color,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
	BorderStyle     string `json:"border_style,omitempty"` // rounded | rectangular | pill
	FontFamily      string `json:"font_family,omitempty"`  // one of FontFamilies
	Theme           string `json:"theme,omitempty"`        // light | dark | auto
}

// FontFamilies are the font choices; views map each to a CSS font stack.
var FontFamilies = []string{"system", "sans-serif", "serif", "monospace", "rounded", "humanist"}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks every field; param is the request field's prefix.
func (a Appearance) Validate(param string) error {
	if utf8.RuneCountInString(a.DisplayName) > 100 || !IsText(a.DisplayName) {
		return Invalid(param+"[display_name]", "display_name must be at most 100 characters of UTF-8 text without NUL")
	}
	if err := validateLinkURL(param+"[logo_url]", a.LogoURL); err != nil {
		return err
	}
	for _, c := range []struct{ name, v string }{
		{"brand_color", a.BrandColor}, {"button_color", a.ButtonColor}, {"background_color", a.BackgroundColor},
	} {
		if c.v != "" && !colorRE.MatchString(c.v) {
			return Invalid(param+"["+c.name+"]", "%s must be a colour like #1a2b3c", c.name)
		}
	}
	if !oneOf(a.BorderStyle, "", "rounded", "rectangular", "pill") {
		return Invalid(param+"[border_style]", "border_style must be one of rounded, rectangular, pill")
	}
	if a.FontFamily != "" && !oneOf(a.FontFamily, FontFamilies...) {
		return Invalid(param+"[font_family]", "font_family must be one of %s", strings.Join(FontFamilies, ", "))
	}
	if !oneOf(a.Theme, "", "light", "dark", "auto") {
		return Invalid(param+"[theme]", "theme must be one of light, dark, auto")
	}
	return nil
}

// Merge returns a with every non-empty field of override applied.
func (a Appearance) Merge(override *Appearance) Appearance {
	if override == nil {
		return a
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&a.DisplayName, override.DisplayName)
	set(&a.LogoURL, override.LogoURL)
	set(&a.BrandColor, override.BrandColor)
	set(&a.ButtonColor, override.ButtonColor)
	set(&a.BackgroundColor, override.BackgroundColor)
	set(&a.BorderStyle, override.BorderStyle)
	set(&a.FontFamily, override.FontFamily)
	set(&a.Theme, override.Theme)
	return a
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// Keys are a new merchant's secret keys, shown once and stored only hashed.
type Keys struct {
	Test string
	Live string
}

// originHostRE is what a host may be in an origin paypage puts in a header:
// a DNS name (IDNs in their punycode form) or an IPv4 address (IPv6 is
// checked separately).
var originHostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// CanonicalOrigin returns o as browsers serialise an origin (lower-case
// scheme and host, no default port, no trailing slash), or false when o is
// not an http(s) origin: no path, query, fragment or user info. The result
// is safe to put in a CSP header and to use as postMessage's targetOrigin.
func CanonicalOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + ip.String() + "]"
	} else if !originHostRE.MatchString(host) {
		return "", false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", false
		}
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// validateOrigin accepts an exact web origin: scheme://host[:port], nothing
// else, in a form CanonicalOrigin accepts (so that the embed can name it).
func validateOrigin(o string) error {
	if _, ok := CanonicalOrigin(o); !ok {
		return fmt.Errorf("%q is not an origin like https://shop.example (IDNs in punycode)", o)
	}
	return nil
}

// normalize puts a merchant's fields in their stored form: origins as
// browsers send them, hosts in lower case, the locale in its canonical
// spelling, the display name defaulting to the name. Values it cannot
// read are left for Validate to refuse.
func (m *Merchant) normalize() {
	if m.DisplayName == "" {
		m.DisplayName = m.Name
	}
	if m.APIVersion == "" {
		m.APIVersion = APIVersionNative
	}
	for i, o := range m.AllowedOrigins {
		if c, ok := CanonicalOrigin(o); ok {
			m.AllowedOrigins[i] = c // stored as browsers send it
		}
	}
	for i, h := range m.RedirectHosts {
		m.RedirectHosts[i] = strings.ToLower(h)
	}
	if m.DefaultLocale != "" && locales.Supported(m.DefaultLocale) {
		m.DefaultLocale = locales.For(m.DefaultLocale).Code()
	}
}

// Validate checks a merchant before it is stored: at creation, at every
// update by the operator and by the merchant itself (one rule, one place).
func (m *Merchant) Validate() error {
	if strings.TrimSpace(m.Name) == "" || utf8.RuneCountInString(m.Name) > 100 {
		return Invalid("name", "name is required, at most 100 characters")
	}
	if utf8.RuneCountInString(m.DisplayName) > 100 {
		return Invalid("display_name", "display_name must be at most 100 characters")
	}
	for _, o := range m.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			return Invalid("allowed_origin", "%s", err)
		}
	}
	for _, h := range m.RedirectHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			return Invalid("redirect_host", "%q is not a host name like shop.example", h)
		}
	}
	if m.DefaultLocale != "" && !locales.Supported(m.DefaultLocale) {
		return Invalid("default_locale", "default_locale %q is not one of the supported locales (en, fr, pt-BR, …)", m.DefaultLocale)
	}
	if m.SupportEmail != "" {
		a, err := mail.ParseAddress(m.SupportEmail)
		if err != nil || a.Address != m.SupportEmail || len(m.SupportEmail) > 254 {
			return Invalid("support_email", "support_email must be a plain e-mail address like help@shop.example")
		}
	}
	for _, f := range []struct{ param, url string }{
		{"support_url", m.SupportURL}, {"terms_url", m.TermsURL}, {"privacy_url", m.PrivacyURL},
	} {
		if err := validateLinkURL(f.param, f.url); err != nil {
			return err
		}
	}
	if err := ValidateAPIVersion("api_version", m.APIVersion); err != nil {
		return err
	}
	return m.Appearance.Validate("appearance")
}

// validateLinkURL is the one check of a URL the pages take from the
// merchant (logo, support, terms, privacy): empty, or an absolute https URL
// without user info, of text, at most MaxURLLength.
func validateLinkURL(param, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(raw) > MaxURLLength || !IsText(raw) {
		return Invalid(param, "%s must be an absolute https URL without user info, at most %d characters", param, MaxURLLength)
	}
	return nil
}

// CreateMerchant stores a merchant with new test and live secret keys.
//
// The creation is recorded in the audit trail as done by the actor of ctx
// (WithActor).
func (s *Store) CreateMerchant(ctx context.Context, m *Merchant) (Keys, error) {
	m.normalize()
	if err := m.Validate(); err != nil {
		return Keys{}, err
	}
	m.ID = "acct_" + randomString(24)
	m.Created = s.now().Unix()
	if m.WebhookSecret == "" {
		m.WebhookSecret = "whsec_" + randomString(32)
	}
	keys := Keys{Test: "sk_test_" + randomString(40), Live: "sk_live_" + randomString(40)}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.NamedExecContext(ctx, `INSERT INTO merchants (id, name, display_name,
			allowed_origins, redirect_hosts, appearance, default_locale, support_email, support_url,
			terms_url, privacy_url, recovery_enabled, webhook_secret, api_version, created) VALUES (:id, :name,
			:display_name, :allowed_origins, :redirect_hosts, :appearance, :default_locale, :support_email,
			:support_url, :terms_url, :privacy_url, :recovery_enabled, :webhook_secret, :api_version, :created)`, m); err != nil {
			return err
		}
		for _, k := range []struct {
			secret string
			live   bool
		}{{keys.Test, false}, {keys.Live, true}} {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO api_keys (hash, merchant_id, livemode, last4, created)
				VALUES (?, ?, ?, ?, ?)`), hashKey(k.secret), m.ID, k.live, k.secret[len(k.secret)-4:], m.Created); err != nil {
				return err
			}
		}
		return audit(ctx, tx, m.ID, "create", diffMerchants(&Merchant{}, m), m.Created)
	})
	if err != nil {
		return Keys{}, fmt.Errorf("store: create merchant: %w", err)
	}
	return keys, nil
}

const merchantColumns = `id, name, display_name, allowed_origins, redirect_hosts, appearance,
	default_locale, support_email, support_url, terms_url, privacy_url, recovery_enabled, webhook_secret,
	api_version, created, disabled_at, previous_webhook_secret, previous_webhook_secret_expires_at`

// Merchant returns the merchant with the given id.
func (s *Store) Merchant(ctx context.Context, id string) (*Merchant, error) {
	var m Merchant
	err := s.db.GetContext(ctx, &m, s.db.Rebind(`SELECT `+merchantColumns+` FROM merchants WHERE id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("store: get merchant %s: %w", id, mapErr(err))
	}
	return &m, nil
}

// Authenticate resolves a secret key to its merchant and mode. An unknown
// key, a rolled key past its expiry and any key of a disabled merchant are
// ENOTFOUND; callers answer 401 without saying more. KeyCache.Authenticate
// answers the same from memory when it can.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Merchant, bool, error) {
	if !keyShaped(secret) {
		return s.keyAnswer(nil, errUnknownKey)
	}
	return s.keyAnswer(s.readKey(ctx, hashKey(secret)))
}

var errUnknownKey = &Error{Code: ENOTFOUND, Message: "unknown key"}

// keyShaped reports whether secret can be a secret key at all; anything
// else is refused without asking the database.
func keyShaped(secret string) bool {
	return strings.HasPrefix(secret, "sk_test_") || strings.HasPrefix(secret, "sk_live_")
}

// keyRow is what authenticating a key reads: its merchant (every column:
// the API's handlers use its settings and secrets), its mode and its expiry.
type keyRow struct {
	Merchant
	Livemode  bool   `db:"livemode"`
	ExpiresAt *int64 `db:"key_expires_at"` // nil: until rolled
}

var readKeySQL = `SELECT ` + prefixed("m", "", merchantColumns) + `, k.livemode, k.expires_at AS key_expires_at
	FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.hash = ?`

// readKey reads the key of the given hash, working or not, in one prepared
// statement.
func (s *Store) readKey(ctx context.Context, hash string) (*keyRow, error) {
	stmt, err := s.prepared(ctx, readKeySQL)
	if err != nil {
		return nil, err
	}
	var k keyRow
	if err := stmt.GetContext(ctx, &k, hash); err != nil {
		return nil, err
	}
	return &k, nil
}

// works reports whether k authenticates at now (Unix seconds): it has not
// expired (a rolled key works until its overlap ends, to the second) and
// its merchant is not disabled.
func (k *keyRow) works(now int64) bool {
	return (k.ExpiresAt == nil || *k.ExpiresAt > now) && !k.Merchant.Disabled()
}

// keyAnswer is what Authenticate returns for k as read (or not, err): the
// merchant is the caller's own copy.
func (s *Store) keyAnswer(k *keyRow, err error) (*Merchant, bool, error) {
	if err == nil && !k.works(s.now().Unix()) {
		err = errUnknownKey
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: authenticate: %w", mapErr(err))
	}
	m := k.Merchant
	return &m, k.Livemode, nil
}
