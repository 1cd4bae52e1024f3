package views

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/paypage/paypage/locales"
)

// Request is what every component may need about the request being
// answered: the shopper's locale, the CSP nonce and the CSRF token. Handlers
// put it in the context once; components read it through the getters below.
type Request struct {
	Printer *locales.Printer
	Nonce   string
	// CSRF returns the token the page's forms carry. It is called only when
	// a form is rendered, so that a page without one (the embed) never
	// creates the token, nor the cookie that holds it.
	CSRF func() string
	// Return is the page the language switcher brings the shopper back to
	// ("" where there is none of ours to go back to).
	Return string
	// Zone is the time zone times are shown in until the browser's own
	// takes over (static/checkout.js); nil: UTC. See locales.Zone.
	Zone *time.Location
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	if r.Printer == nil {
		r.Printer = locales.For("en")
	}
	return context.WithValue(ctx, requestKey{}, r)
}

func request(ctx context.Context) Request {
	r, ok := ctx.Value(requestKey{}).(Request)
	if !ok {
		return Request{Printer: locales.For("en")}
	}
	return r
}

// printer is the shopper's locale printer.
func printer(ctx context.Context) *locales.Printer { return request(ctx).Printer }

func nonce(ctx context.Context) string { return request(ctx).Nonce }

func csrfToken(ctx context.Context) string {
	if f := request(ctx).CSRF; f != nil {
		return f()
	}
	return ""
}

func switcherReturn(ctx context.Context) string { return request(ctx).Return }

// t translates a message id for the shopper.
func t(ctx context.Context, id string, data ...map[string]any) string {
	return oneFullStop(printer(ctx).T(id, data...), data)
}

// n translates a plural message id for count.
func n(ctx context.Context, id string, count int, data ...map[string]any) string {
	return oneFullStop(printer(ctx).N(id, count, data...), data)
}

// oneFullStop lets a value that ends in its own full stop ("Sunny Side Surf
// Co.") end the sentence it closes: "Contact Sunny Side Surf Co.", not "Co..".
func oneFullStop(s string, data []map[string]any) string {
	for _, d := range data {
		for _, v := range d {
			if w, ok := v.(string); ok && strings.HasSuffix(strings.TrimSuffix(w, pdi), ".") {
				s = strings.ReplaceAll(s, w+".", w)
			}
		}
	}
	return s
}

// money is the pages' one way to show an amount: integer minor units in the
// currency's ISO 4217 exponent, in the shopper's locale, direction-isolated.
func money(ctx context.Context, minor int64, currency string) string {
	return isoAmount(ctx, printer(ctx).Money(minor, currency))
}

// zone is the shopper's time zone as the server can tell it.
func zone(ctx context.Context) *time.Location {
	if z := request(ctx).Zone; z != nil {
		return z
	}
	return time.UTC
}

// localTime is a time in the shopper's zone, the zone named: "Dec 3, 2026,
// 9:01 AM JST".
func localTime(ctx context.Context, at time.Time) string {
	z := zone(ctx)
	return iso(ctx, printer(ctx).DateTimeIn(at, z)+" "+locales.ZoneName(at, z))
}

// clock formats a number of seconds as m:ss in the shopper's digits, the
// same way static/checkout.js ticks it on.
func clock(ctx context.Context, seconds int64) string {
	p := printer(ctx)
	if seconds < 0 {
		seconds = 0
	}
	sec := p.Number(seconds % 60)
	if seconds%60 < 10 {
		sec = p.Number(0) + sec
	}
	return p.Number(seconds/60) + ":" + sec
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
