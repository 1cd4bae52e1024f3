package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/paypage/paypage/locales"
)

// Every page the layout renders carries the language switcher: a plain
// POST form with the CSRF token, a visible label, every locale under its
// native name and language, the current one selected.
func TestLocaleSwitcherOnEveryLayoutPage(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]templ.Component{
		"checkout":      Checkout(baseView()),
		"404":           ErrorPage(ErrorView{Status: 404}),
		"400 language":  ErrorPage(ErrorView{Status: 400, Param: "locale", Locale: "xx"}),
		"embed refused": EmbedRefused(EmbedRefusedView{Status: 403}),
	} {
		doc := render(t, "ar", c)
		f := doc.Find(`footer form[data-testid="locale-switcher"]`)
		if f.Length() != 1 || f.AttrOr("method", "") != "post" || f.AttrOr("action", "") != "/locale" ||
			f.Find(`input[name="csrf"]`).AttrOr("value", "") != "tok3n" ||
			f.Find(`input[name="return"]`).AttrOr("value", "") != "/pay/cs_test_abc" {
			t.Errorf("%s: switcher form missing or incomplete", name)
			continue
		}
		sel := f.Find(`select[name="locale"]`)
		label := f.Find(`label[for="` + sel.AttrOr("id", "-") + `"]`)
		if strings.TrimSpace(label.Text()) != locales.For("ar").T("language.label") || f.Find(`button[type="submit"]`).Length() != 1 {
			t.Errorf("%s: label %q", name, label.Text())
		}
		all := locales.All()
		opts := sel.Find("option")
		if opts.Length() != len(all) {
			t.Fatalf("%s: %d options, want %d", name, opts.Length(), len(all))
		}
		for i, l := range all {
			o := opts.Eq(i)
			_, selected := o.Attr("selected")
			if o.AttrOr("value", "") != l.Code || o.AttrOr("lang", "") != l.Lang || o.Text() != l.Name || selected != (l.Code == "ar") {
				t.Errorf("%s: option %d: value %q lang %q %q selected %v", name, i, o.AttrOr("value", ""), o.AttrOr("lang", ""), o.Text(), selected)
			}
		}
	}
}

// Where there is no page of ours to come back to, the form says so by
// carrying no return path.
func TestLocaleSwitcherWithoutReturn(t *testing.T) {
	t.Parallel()
	ctx := WithRequest(context.Background(), Request{Printer: locales.For("de"), CSRF: func() string { return "t" }})
	var buf bytes.Buffer
	if err := ErrorPage(ErrorView{Status: 404}).Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(&buf)
	if doc.Find(`[data-testid="locale-switcher"]`).Length() != 1 || doc.Find(`input[name="return"]`).Length() != 0 {
		t.Error("a switcher without a return path still carries one (or is missing)")
	}
}

// The CSRF token, and with it the shopper's cookie, is asked for only by a
// page that renders a form: never by the embed.
func TestLocaleSwitcherTokenNeverAskedByTheEmbed(t *testing.T) {
	t.Parallel()
	ctx := WithRequest(context.Background(), Request{Printer: locales.For("en"),
		CSRF: func() string { t.Error("the embed asked for a CSRF token"); return "" }})
	if err := Embed(EmbedView{Checkout: baseView(), Origin: "https://shop.example"}).Render(ctx, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
}

// The invalid-language and bad-field pages name what was refused.
func TestLocaleBadRequestPagesNameTheField(t *testing.T) {
	t.Parallel()
	de := locales.For("de")
	for _, tc := range []struct {
		v    ErrorView
		want string
	}{
		{ErrorView{Status: 400, Param: "locale", Locale: "xx"}, de.T("error.invalid_locale.body", map[string]any{"Locale": "xx"})},
		{ErrorView{Status: 400, Param: "return"}, de.T("error.bad_request.body", map[string]any{"Field": "return"})},
		{ErrorView{Status: 400}, de.T("error.generic.body")},
	} {
		doc := render(t, "de", ErrorPage(tc.v))
		if got := strings.TrimSpace(doc.Find("main p").First().Text()); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}
