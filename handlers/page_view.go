package handlers

import (
	"net/url"
	"strings"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/views"
)

// checkoutView builds the view model of a session's pages. Views never see
// the store: everything they show passes through here.
func (h *handler) checkoutView(sess *store.Session, m *store.Merchant, ret string) views.CheckoutView {
	a := m.Appearance.Merge(sess.Appearance)
	v := views.CheckoutView{
		ID: sess.ID, Status: sess.Status, PaymentStatus: sess.PaymentStatus, Version: sess.Version,
		Livemode: sess.Livemode, Mode: sess.Mode, Return: ret,
		Merchant: firstNonEmpty(a.DisplayName, m.DisplayName, m.Name),
		Appearance: views.Appearance{
			DisplayName: a.DisplayName, LogoURL: httpsURL(a.LogoURL), BrandColor: a.BrandColor,
			ButtonColor: a.ButtonColor, BackgroundColor: a.BackgroundColor, BorderStyle: a.BorderStyle,
			FontFamily: a.FontFamily, Theme: a.Theme,
		},
		Support:  views.Support{Email: m.SupportEmail, URL: httpsURL(m.SupportURL)},
		TermsURL: httpsURL(m.TermsURL), PrivacyURL: httpsURL(m.PrivacyURL),
		Currency:       sess.Currency,
		AmountSubtotal: sess.AmountSubtotal, AmountTotal: sess.AmountTotal,
		AmountRefunded: sess.AmountRefunded,
		CustomerEmail:  sess.Customer.Email, Reference: sess.ClientReferenceID,
		CustomText: views.CustomText{
			Submit: sess.CustomText.Submit, AfterSubmit: sess.CustomText.AfterSubmit,
			ShippingAddress: sess.CustomText.ShippingAddress, TermsOfService: sess.CustomText.TermsOfService,
		},
		Now:           h.store.Now(),
		ExpiresAt:     time.Unix(sess.ExpiresAt, 0),
		PaidAt:        unixTime(sess.PaidAt),
		PaymentMethod: sess.PaymentMethod, Provider: sess.Provider, FailureReason: sess.FailureReason,
		CancelURL:         webURL(sess.CancelURL),
		PendingURL:        webURL(sess.PendingURL),
		SuccessURL:        webURL(strings.ReplaceAll(firstNonEmpty(sess.SuccessURL, sess.ReturnURL), "{CHECKOUT_SESSION_ID}", sess.ID)),
		HostedCompletion:  sess.AfterCompletion.Type == "hosted",
		CompletionMessage: sess.AfterCompletion.CustomMessage,
		RecoveryEnabled:   sess.RecoveryEnabled,
		Recovered:         sess.ParentID != "",
	}
	for _, at := range []*int64{sess.CompletedAt, sess.CanceledAt, sess.ExpiredAt} {
		if at != nil {
			v.DoneAt = unixTime(at)
			break
		}
	}
	if sess.NextAction != nil {
		v.NextActionURL = httpsURL(sess.NextAction.RedirectURL)
	}
	for _, li := range sess.LineItems {
		v.LineTax += li.AmountTax
		v.Items = append(v.Items, views.ItemView{
			Name: li.Name, Description: li.Description, Quantity: li.Quantity, UnitAmount: li.UnitAmount,
			Amount: li.AmountSubtotal, Interval: li.RecurringInterval, IntervalCount: li.RecurringIntervalCount,
		})
	}
	for _, adj := range sess.Adjustments {
		v.Adjustments = append(v.Adjustments, views.AdjustmentView{Kind: adj.Kind, Label: adj.Label, Amount: adj.Amount})
	}
	for _, r := range sess.Refunds {
		v.Refunds = append(v.Refunds, views.RefundView{Amount: r.Amount, Status: r.Status, Created: time.Unix(r.Created, 0)})
	}
	return v
}

// httpsURL returns raw when it is an absolute https URL without user info,
// else "": the only links to elsewhere a page may carry.
func httpsURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return raw
}

// webURL returns a stored return URL when it is http(s), else "". The store
// validated it at creation; this keeps any other scheme off the page's links,
// redirects and scripts whatever happens upstream.
func webURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return raw
}

func unixTime(sec *int64) *time.Time {
	if sec == nil {
		return nil
	}
	t := time.Unix(*sec, 0)
	return &t
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
