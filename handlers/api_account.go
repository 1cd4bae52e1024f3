package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// A merchant's own settings, in the shape of Stripe's Account object: its
// branding under settings[branding] (Stripe keeps checkout branding in
// account settings) and its support contacts (and, paypage's own, its terms
// and privacy links) under business_profile. The
// rest of a merchant — embed origins, redirect hosts, keys — is the
// operator's (paypage merchant update), since a leaked key must not be
// enough to send shoppers elsewhere.

// accountObject is GET and POST /v1/account's answer.
type accountObject struct {
	ID              string          `json:"id"`
	Object          string          `json:"object"` // "account"
	Created         int64           `json:"created"`
	BusinessProfile businessProfile `json:"business_profile"`
	Settings        accountSettings `json:"settings"`
}

type businessProfile struct {
	Name         string  `json:"name"`
	SupportEmail *string `json:"support_email"` // null when unset, as Stripe's
	SupportURL   *string `json:"support_url"`
	// paypage's own: the merchant's terms and privacy policy, linked from
	// its pages.
	TermsURL   *string `json:"terms_url"`
	PrivacyURL *string `json:"privacy_url"`
}

type accountSettings struct {
	Branding store.Appearance `json:"branding"`
}

func newAccountObject(m *store.Merchant) accountObject {
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return accountObject{ID: m.ID, Object: "account", Created: m.Created,
		BusinessProfile: businessProfile{Name: m.DisplayName, SupportEmail: orNull(m.SupportEmail), SupportURL: orNull(m.SupportURL),
			TermsURL: orNull(m.TermsURL), PrivacyURL: orNull(m.PrivacyURL)},
		Settings: accountSettings{Branding: m.Appearance}}
}

// updateAccountParams is what POST /v1/account takes. A field sent changes
// (an empty value clears it); a field not sent stays.
type updateAccountParams struct {
	BusinessProfile *struct {
		SupportEmail *string `json:"support_email"`
		SupportURL   *string `json:"support_url"`
		TermsURL     *string `json:"terms_url"`
		PrivacyURL   *string `json:"privacy_url"`
	} `json:"business_profile"`
	Settings *struct {
		Branding *struct {
			DisplayName     *string `json:"display_name"`
			LogoURL         *string `json:"logo_url"`
			BrandColor      *string `json:"brand_color"`
			ButtonColor     *string `json:"button_color"`
			BackgroundColor *string `json:"background_color"`
			BorderStyle     *string `json:"border_style"`
			FontFamily      *string `json:"font_family"`
			Theme           *string `json:"theme"`
		} `json:"branding"`
	} `json:"settings"`
}

func (p *updateAccountParams) apply(m *store.Merchant) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if bp := p.BusinessProfile; bp != nil {
		set(&m.SupportEmail, bp.SupportEmail)
		set(&m.SupportURL, bp.SupportURL)
		set(&m.TermsURL, bp.TermsURL)
		set(&m.PrivacyURL, bp.PrivacyURL)
	}
	if p.Settings != nil && p.Settings.Branding != nil {
		b, a := p.Settings.Branding, &m.Appearance
		set(&a.DisplayName, b.DisplayName)
		set(&a.LogoURL, b.LogoURL)
		set(&a.BrandColor, b.BrandColor)
		set(&a.ButtonColor, b.ButtonColor)
		set(&a.BackgroundColor, b.BackgroundColor)
		set(&a.BorderStyle, b.BorderStyle)
		set(&a.FontFamily, b.FontFamily)
		set(&a.Theme, b.Theme)
	}
}

var errLiveKeyRequired = &paramError{Code: "livemode_key_required", Err: store.Invalid("",
	"Account settings apply to live and test checkouts alike: change them with your live secret key (sk_live_…).")}

// apiGetAccount is GET /v1/account.
func (h *handler) apiGetAccount(c *fiber.Ctx) error {
	var p struct{}
	if err := bindQuery(c, &p); err != nil {
		return err
	}
	m, _ := merchant(c)
	return c.JSON(newAccountObject(m))
}

// apiUpdateAccount is POST /v1/account: the merchant changes its branding
// and support contacts, checked by the rules the operator's changes are
// checked with, and audited as made by its key.
func (h *handler) apiUpdateAccount(c *fiber.Ctx) error {
	m, live := merchant(c)
	var p updateAccountParams
	if err := bindBody(c, &p); err != nil {
		return err
	}
	if !live {
		return errLiveKeyRequired
	}
	key := apiKey(c.Get(fiber.HeaderAuthorization))
	ctx := store.WithActor(c.UserContext(), "api:sk_live_…"+key[len(key)-4:])
	updated, err := h.store.UpdateMerchant(ctx, m.ID, func(m *store.Merchant) error {
		p.apply(m)
		return nil
	})
	if err != nil {
		return accountParam(err)
	}
	return c.JSON(newAccountObject(updated))
}

// accountParam names a refused field as the request named it.
func accountParam(err error) error {
	var se *store.Error
	if !errors.As(err, &se) || se.Code != store.EINVALID {
		return err
	}
	param := se.Param
	switch {
	case strings.HasPrefix(param, "appearance["):
		param = "settings[branding]" + strings.TrimPrefix(param, "appearance")
	case param == "support_email" || param == "support_url" || param == "terms_url" || param == "privacy_url":
		param = "business_profile[" + param + "]"
	}
	return &store.Error{Code: se.Code, Message: se.Message, Param: param}
}
