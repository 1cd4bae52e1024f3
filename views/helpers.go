package views

import (
	"context"
	"encoding/json"
	"strings"
)

// Which element of a page is its <h1>.
const (
	headNotice  = "notice"  // a return page's own heading
	headSummary = "summary" // "Pay <merchant>", while the shopper can pay
	headBanner  = "banner"  // the outcome, once there is one
)

func (v CheckoutView) headline() string {
	switch {
	case (v.Return == ReturnSuccess || v.Return == ReturnPending) && v.Settled(),
		v.Return == ReturnCancel && v.Payable():
		return headNotice
	case v.Payable():
		return headSummary
	}
	return headBanner
}

// bannerIsNews reports whether the status banner tells the shopper
// something the page does not already say: not "Awaiting payment" on a
// checkout just opened, unless it replaces an expired one.
func (v CheckoutView) bannerIsNews() bool {
	return v.State() != StateOpen || (v.Recovered && v.Payable())
}

// bannerKey is the catalog prefix of the banner's title and body.
func (v CheckoutView) bannerKey() string {
	switch s := v.State(); s {
	case StateProcessing:
		if v.Return == ReturnPending {
			return "return.pending"
		}
		return "status.processing"
	case StateCompleteFree:
		return "status.no_payment_required"
	default:
		return "status." + string(s)
	}
}

// tone is the banner's colour: how good the news is.
func (v CheckoutView) tone() string {
	switch v.State() {
	case StatePaid, StateCompleteFree:
		return "ok"
	case StateFailed, StateReversed:
		return "bad"
	case StateExpired, StateRequiresAction:
		return "warn"
	case StateProcessing, StateNoPaymentRequired:
		return "info"
	}
	return "neutral"
}

func (v CheckoutView) chrome(ctx context.Context) chrome {
	c := chrome{
		Title:    t(ctx, v.bannerKey()+".title") + " · " + iso(ctx, v.Merchant),
		Style:    NewStyle(v.Appearance),
		Merchant: v.Merchant,
		LogoURL:  v.Appearance.LogoURL,
		TestMode: !v.Livemode,
		Support:  v.Support,
		Refresh:  v.Refresh(),
		Scripts:  pageScripts(v.Status),
		Legal:    Legal{Terms: v.TermsURL, Privacy: v.PrivacyURL},
	}
	if v.Livemode {
		c.Provider = v.Provider
	}
	if u := v.RedirectURL(); u != "" && !v.Stay {
		c.Refresh, c.RedirectURL = RedirectSeconds, u
	}
	return c
}

// itemMeta is a line item's quantity, unit price and billing interval.
func itemMeta(ctx context.Context, it ItemView, currency string) string {
	s := t(ctx, "checkout.quantity_short", map[string]any{"Quantity": printer(ctx).Number(it.Quantity)}) +
		" · " + t(ctx, "checkout.each", map[string]any{"Amount": money(ctx, it.UnitAmount, currency)})
	if it.Interval == "" {
		return s
	}
	if it.IntervalCount > 1 {
		return s + " · " + n(ctx, "recurring.every_"+it.Interval+"s", it.IntervalCount)
	}
	return s + " · " + t(ctx, "recurring.per_"+it.Interval)
}

// paymentMethod names a payment method type in the shopper's language, or
// shows the type as it is when the catalog has no name for it.
func paymentMethod(ctx context.Context, typ string) string {
	key := "payment_method." + typ
	if s := t(ctx, key); s != key {
		return s
	}
	return typ
}

// redirectTexts are the countdown's sentences for 0…RedirectSeconds seconds
// left, so that the script ticks with the locale's plural rules.
func redirectTexts(ctx context.Context, v *CheckoutView) string {
	texts := make([]string, RedirectSeconds+1)
	for i := range texts {
		texts[i] = n(ctx, "return.redirecting", i, map[string]any{"Merchant": iso(ctx, v.Merchant)})
	}
	b, _ := json.Marshal(texts)
	return string(b)
}

// stayURL is this return page without the redirect countdown: where "Stay
// on this page" goes when no script stops the countdown in place.
func (v CheckoutView) stayURL() string { return "/pay/" + v.ID + "/" + v.Return + "?stay=1" }

// liveLabel is the live-mode pay button: the amount, and who takes it.
func (v CheckoutView) liveLabel(ctx context.Context) string {
	amount := money(ctx, v.AmountTotal, v.Currency)
	if v.Provider == "" {
		return t(ctx, "checkout.pay_button", map[string]any{"Amount": amount})
	}
	return t(ctx, "checkout.pay_with", map[string]any{"Amount": amount, "Provider": iso(ctx, v.Provider)})
}

// idPrefix is a session id's "cs_test_" or "cs_live_", after which the id
// may break onto a new line: the random part after it never does.
func idPrefix(id string) string {
	if i := strings.Index(id, "_"); i >= 0 {
		if j := strings.Index(id[i+1:], "_"); j >= 0 {
			return id[:i+1+j+1]
		}
	}
	return ""
}
