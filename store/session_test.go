package store_test

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paypage/paypage/store"
	"github.com/paypage/paypage/store/storetest"
)

// fullParams sets every field a merchant may set, each to a non-default value.
func fullParams(now time.Time) *store.SessionParams {
	return &store.SessionParams{
		Mode:     "subscription",
		Currency: "EUR",
		LineItems: []store.LineItemParams{
			{Quantity: 1, TaxAmount: 190, PriceData: &store.PriceData{
				Currency: "eur", UnitAmount: ptr[int64](1000),
				ProductData: &store.ProductData{Name: "Pro plan", Description: "Everything, billed quarterly",
					Images: []string{"https://cdn.shop.example/pro.png"}, UnitLabel: "seat"},
				Recurring: &store.Recurring{Interval: "month", IntervalCount: 3},
				LookupKey: "pro_quarterly",
			}, Metadata: store.Metadata{"sku": "PRO-Q"}},
			{Quantity: 3, PriceData: &store.PriceData{
				Currency: "eur", UnitAmount: ptr[int64](250),
				ProductData: &store.ProductData{Name: "Sticker", Description: "Die-cut, 5 cm",
					Images: []string{"https://cdn.shop.example/s1.png", "https://cdn.shop.example/s2.png"}},
			}},
		},
		Fees: []store.AdjustmentParams{
			{Type: store.AdjustFee, Label: "Service fee", Amount: 99},
			{Type: store.AdjustDiscount, Label: "WELCOME10", Amount: 100},
			{Type: store.AdjustTax, Label: "VAT on fees", Amount: 19},
			{Type: store.AdjustShipping, Label: "Express", Amount: 500},
		},
		Customer: "cus_123",
		CustomerDetails: &store.Customer{
			Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Phone: "+44 20 7946 0000",
			IPAddress: "2001:db8::1",
			Address: store.Address{Line1: "12 St James's Square", Line2: "Flat 3", City: "London",
				State: "Greater London", PostalCode: "SW1Y 4JH", Country: "GB"},
		},
		Guest:             true,
		ClientReferenceID: "order-42",
		SuccessURL:        "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
		CancelURL:         "https://shop.example/cart",
		PendingURL:        "https://shop.example/pending",
		ReturnURL:         "https://shop.example/return",
		AfterCompletion:   &store.AfterCompletion{Type: "hosted", CustomMessage: "Thank you, see you soon!"},
		Locale:            "fr-CA",
		Appearance: &store.Appearance{DisplayName: "Shop Deluxe", LogoURL: "https://cdn.shop.example/logo.svg",
			BrandColor: "#1a2b3c", ButtonColor: "#ABCDEF", BackgroundColor: "#fefefe", BorderStyle: "pill",
			FontFamily: "serif", Theme: "dark"},
		CustomText: &store.CustomText{Submit: "Pay now", AfterSubmit: "We will email you",
			ShippingAddress: "We ship within the EU", TermsOfService: "I accept the terms"},
		PaymentMethodTypes: []string{"card", "sepa_debit", "ideal"},
		WalletOptions: store.WalletOptions{"apple_pay": {Display: "auto"}, "google_pay": {Display: "never"},
			"link": {Display: "auto"}},
		DisplayCurrency: "usd",
		Metadata:        map[string]string{"order_id": "42", "channel": "web"},
		Attribution:     map[string]string{"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"},
		Contract:        store.RawJSON(`{"contract_id":"ct_1","terms":["net30"],"nested":{"a":1.5}}`),
		Estimate:        store.RawJSON(`{"delivery_days": 2}`),
		CorrelationID:   "corr-abc",
		NextAction: &store.NextAction{Type: "redirect_to_url", RedirectURL: "https://pay.acmepay.example/cs/1",
			ReturnURL: "https://shop.example/back"},
		SubmitType:               "subscribe",
		BillingAddressCollection: "required",
		CustomerCreation:         "always",
		Description:              "Pro plan, quarterly",
		ContractID:               "ct_1",
		ExecutionID:              "ex_9",
		BusinessEntityID:         "be_eu",
		ClientCustomerID:         "front-77",
		ExpiresAt:                now.Add(2 * time.Hour).Unix(),
		RecoveryEnabled:          ptr(true),
		// Each call its own key: a key already used returns its session.
		IdempotencyKey: fmt.Sprintf("idem-%d", idemKeys.Add(1)),
	}
}

var idemKeys atomic.Int64

// neverSet are the leaf fields of Session that no way of creating or
// changing a session can set: line items only take inline price data, and
// discounts apply to the whole session.
var neverSet = []string{"LineItems[].ProductID", "LineItems[].PriceID", "LineItems[].AmountDiscount"}

func TestSessionPersistsEveryField(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil) // recovery comes from the session's own setting

		var snapshots []*store.Session
		// roundTrip proves that what the store returned is what it stored.
		roundTrip := func(step string, returned *store.Session) {
			t.Helper()
			read := getSession(t, s, returned.ID)
			if !reflect.DeepEqual(read, returned) {
				t.Fatalf("%s: the session read back differs from the one returned:%s", step, sessionDiff(read, returned))
			}
			snapshots = append(snapshots, read)
		}

		paid := createSession(t, s, m, true, fullParams(c.Now()))
		roundTrip("create", paid)
		c.Advance(time.Minute)
		roundTrip("process", transition(t, s, paid.ID, store.Transition{Action: store.ActionProcess,
			PaymentIntent: "pi_123", PaymentMethod: "card", Provider: "acmepay",
			NextAction: &store.NextAction{Type: "three_d_secure", RedirectURL: "https://acs.acmepay.example/3ds/abc",
				AllowedOrigins: []string{"https://acs.acmepay.example"}, Flow: "challenge",
				StatusURL: "https://acs.acmepay.example/3ds/abc/status", IdempotencyKey: "3ds-abc-1",
				Hint: &store.ThreeDSHint{Scheme: "visa", Version: "2.2.0"}}}))
		c.Advance(time.Minute)
		roundTrip("fail", transition(t, s, paid.ID, store.Transition{Action: store.ActionFail,
			FailureReason: "card_declined", FailureMessage: "Your card was declined."}))
		c.Advance(time.Minute)
		roundTrip("succeed", transition(t, s, paid.ID, store.Transition{Action: store.ActionSucceed}))
		c.Advance(time.Minute)
		roundTrip("refund", transition(t, s, paid.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 500, Reason: "requested_by_customer"}}))
		roundTrip("failed refund", transition(t, s, paid.ID, store.Transition{Action: store.ActionRefund,
			Refund: &store.RefundParams{Amount: 100, Reason: "duplicate", Status: store.RefundFailed,
				FailureReason: "expired_or_canceled_card"}}))

		canceled := createSession(t, s, m, true, fullParams(c.Now()))
		roundTrip("cancel", transition(t, s, canceled.ID, store.Transition{Action: store.ActionCancel}))

		expired := createSession(t, s, m, true, fullParams(c.Now()))
		roundTrip("expire", transition(t, s, expired.ID, store.Transition{Action: store.ActionExpire}))
		child, err := s.Recover(t.Context(), expired.ID)
		if err != nil {
			t.Fatalf("recover: %v", err)
		}
		roundTrip("recover", child)
		// The child is paid: the expired parent is settled by it.
		roundTrip("pay the child", transition(t, s, child.ID, store.Transition{Action: store.ActionSucceed}))
		roundTrip("settled parent", getSession(t, s, expired.ID))

		// A field added to Session that this test never sets would escape the
		// comparisons above; require each to have been non-zero at least once.
		set := map[string]bool{}
		for _, snap := range snapshots {
			nonZeroPaths(reflect.ValueOf(*snap), "", set)
		}
		var missing []string
		for _, p := range leafPaths(reflect.TypeFor[store.Session](), "") {
			if !set[p] && !slices.Contains(neverSet, p) {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			t.Fatalf("never set, so their persistence was not tested: %s", strings.Join(missing, ", "))
		}
	})
}

// leafPaths lists the scalar fields of typ, by path: "Customer.Address.City",
// "LineItems[].Name". Maps and byte slices count as scalars.
func leafPaths(typ reflect.Type, prefix string) []string {
	switch {
	case typ.Kind() == reflect.Pointer:
		return leafPaths(typ.Elem(), prefix)
	case typ.Kind() == reflect.Struct:
		var out []string
		for f := range typ.Fields() {
			if f.IsExported() {
				out = append(out, leafPaths(f.Type, join(prefix, f.Name))...)
			}
		}
		return out
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
		return leafPaths(typ.Elem(), prefix+"[]")
	}
	return []string{prefix}
}

// nonZeroPaths records in set the paths (as leafPaths names them) that hold
// a non-zero value in v.
func nonZeroPaths(v reflect.Value, prefix string, set map[string]bool) {
	switch {
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			nonZeroPaths(v.Elem(), prefix, set)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				nonZeroPaths(v.Field(i), join(prefix, f.Name), set)
			}
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		for i := range v.Len() {
			nonZeroPaths(v.Index(i), prefix+"[]", set)
		}
	case (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() > 0,
		v.Kind() != reflect.Slice && v.Kind() != reflect.Map && !v.IsZero():
		set[prefix] = true
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

var sessionIDPattern = map[bool]*regexp.Regexp{
	false: regexp.MustCompile(`^cs_test_[0-9A-Za-z]{32}$`),
	true:  regexp.MustCompile(`^cs_live_[0-9A-Za-z]{32}$`),
}

func TestCreateSessionAppliesDefaultsAndReturnsWhatIsStored(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, func(m *store.Merchant) { m.RecoveryEnabled = true })
		for _, livemode := range []bool{false, true} {
			t.Run(fmt.Sprintf("livemode=%v", livemode), func(t *testing.T) {
				created := createSession(t, s, m, livemode, validParams())
				wantSameSession(t, getSession(t, s, created.ID), created)

				if !sessionIDPattern[livemode].MatchString(created.ID) {
					t.Errorf("id %q does not match %s", created.ID, sessionIDPattern[livemode])
				}
				now := c.Unix()
				for _, f := range []struct {
					name      string
					got, want any
				}{
					{"merchant", created.MerchantID, m.ID},
					{"livemode", created.Livemode, livemode},
					{"mode", created.Mode, "payment"},
					{"status", created.Status, store.StatusOpen},
					{"payment status", created.PaymentStatus, store.PaymentUnpaid},
					{"locale", created.Locale, "auto"},
					{"after completion", created.AfterCompletion, store.AfterCompletion{Type: "redirect"}},
					{"payment method types", created.PaymentMethodTypes, store.StringList{"card"}},
					{"recovery from the merchant", created.RecoveryEnabled, true},
					{"created", created.Created, now},
					{"updated", created.Updated, now},
					{"last activity", created.LastActivityAt, now},
					{"expires in 24 h", created.ExpiresAt, now + int64(store.DefaultExpiry/time.Second)},
					{"version", created.Version, int64(1)},
					{"no appearance override", created.Appearance, (*store.Appearance)(nil)},
					{"no next action", created.NextAction, (*store.NextAction)(nil)},
				} {
					if !reflect.DeepEqual(f.got, f.want) {
						t.Errorf("%s = %s, want %s", f.name, show(f.got), show(f.want))
					}
				}
			})
		}
	})
}

func TestCreateSessionComputesTotalsFromLineItemsAndFees(t *testing.T) {
	t.Parallel()
	type totals struct {
		Subtotal, Tax, Shipping, Discount, Total int64
		PaymentStatus                            string
	}
	cases := []struct {
		name string
		p    store.SessionParams
		want totals
		// per line: amount_subtotal, amount_total
		lines [][2]int64
	}{
		{
			name: "line items and every kind of fee",
			p: store.SessionParams{Currency: "eur",
				LineItems: []store.LineItemParams{item("Shirt", 2, 1500), withTax(item("Mug", 1, 500), 100)},
				Fees: []store.AdjustmentParams{{Type: "fee", Label: "Service", Amount: 250},
					{Type: "discount", Label: "SPRING", Amount: 300}, {Type: "tax", Label: "VAT", Amount: 200},
					{Type: "shipping", Label: "Post", Amount: 499}}},
			want:  totals{Subtotal: 3500, Tax: 300, Shipping: 499, Discount: 300, Total: 4249, PaymentStatus: store.PaymentUnpaid},
			lines: [][2]int64{{3000, 3000}, {500, 600}},
		},
		{
			name: "several fees of one kind add up",
			p: store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{item("Shirt", 1, 1000)},
				Fees: []store.AdjustmentParams{{Type: "fee", Label: "A", Amount: 10}, {Type: "fee", Label: "B", Amount: 20},
					{Type: "discount", Label: "X", Amount: 5}, {Type: "discount", Label: "Y", Amount: 6}}},
			want:  totals{Subtotal: 1000, Discount: 11, Total: 1019, PaymentStatus: store.PaymentUnpaid},
			lines: [][2]int64{{1000, 1000}},
		},
		{
			name: "zero-decimal currency",
			p: store.SessionParams{Currency: "jpy", LineItems: []store.LineItemParams{{Quantity: 3,
				PriceData: &store.PriceData{UnitAmount: ptr[int64](500), ProductData: &store.ProductData{Name: "Onigiri"}}}}},
			want:  totals{Subtotal: 1500, Total: 1500, PaymentStatus: store.PaymentUnpaid},
			lines: [][2]int64{{1500, 1500}},
		},
		{
			name:  "free items need no payment",
			p:     store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{item("Sample", 2, 0)}},
			want:  totals{PaymentStatus: store.PaymentNoPaymentRequired},
			lines: [][2]int64{{0, 0}},
		},
		{
			name: "a discount of the whole amount needs no payment",
			p: store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{item("Shirt", 1, 1000)},
				Fees: []store.AdjustmentParams{{Type: "discount", Label: "FREE", Amount: 1000}}},
			want:  totals{Subtotal: 1000, Discount: 1000, PaymentStatus: store.PaymentNoPaymentRequired},
			lines: [][2]int64{{1000, 1000}},
		},
		{
			name: "setup mode without line items needs no payment",
			p:    store.SessionParams{Mode: "setup", Currency: "eur"},
			want: totals{PaymentStatus: store.PaymentNoPaymentRequired},
		},
		{
			name:  "the total may reach the maximum amount",
			p:     store.SessionParams{Currency: "eur", LineItems: []store.LineItemParams{item("Yacht", 1, store.MaxAmount)}},
			want:  totals{Subtotal: store.MaxAmount, Total: store.MaxAmount, PaymentStatus: store.PaymentUnpaid},
			lines: [][2]int64{{store.MaxAmount, store.MaxAmount}},
		},
	}
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, _ := newStore(t, url)
		m, _ := newMerchant(t, s, nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := tc.p
				created := createSession(t, s, m, false, &p)
				for _, sess := range []*store.Session{created, getSession(t, s, created.ID)} {
					got := totals{sess.AmountSubtotal, sess.AmountTax, sess.AmountShipping, sess.AmountDiscount,
						sess.AmountTotal, sess.PaymentStatus}
					if got != tc.want {
						t.Fatalf("totals = %+v, want %+v", got, tc.want)
					}
					var lines [][2]int64
					for _, li := range sess.LineItems {
						lines = append(lines, [2]int64{li.AmountSubtotal, li.AmountTotal})
					}
					if !reflect.DeepEqual(lines, tc.lines) {
						t.Fatalf("line item subtotal/total = %v, want %v", lines, tc.lines)
					}
				}
			})
		}
	})
}

func withTax(li store.LineItemParams, tax int64) store.LineItemParams {
	li.TaxAmount = tax
	return li
}

// metadataKeys returns n distinct metadata entries.
func metadataKeys(n int) map[string]string {
	md := map[string]string{}
	for i := range n {
		md[fmt.Sprintf("k%d", i)] = "v"
	}
	return md
}

func TestCreateSessionRefusesInvalidInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		m, _ := newMerchant(t, s, nil) // redirect hosts: shop.example
		now := c.Now()
		for _, tc := range []struct {
			name     string
			livemode bool
			edit     func(p *store.SessionParams)
			param    string
		}{
			{"zero quantity", false, func(p *store.SessionParams) { p.LineItems[0].Quantity = 0 }, "line_items[0][quantity]"},
			{"negative quantity", false, func(p *store.SessionParams) { p.LineItems[0].Quantity = -1 }, "line_items[0][quantity]"},
			{"quantity over a million", false, func(p *store.SessionParams) { p.LineItems[0].Quantity = 1_000_001 }, "line_items[0][quantity]"},
			{"quantity times price over the maximum", false, func(p *store.SessionParams) {
				p.LineItems[0] = item("Yacht", 2, store.MaxAmount)
			}, "line_items[0][quantity]"},
			{"negative unit amount", false, func(p *store.SessionParams) { p.LineItems[0].PriceData.UnitAmount = ptr[int64](-1) }, "line_items[0][price_data][unit_amount]"},
			{"missing unit amount", false, func(p *store.SessionParams) { p.LineItems[0].PriceData.UnitAmount = nil }, "line_items[0][price_data][unit_amount]"},
			{"missing price data", false, func(p *store.SessionParams) { p.LineItems[0].PriceData = nil }, "line_items[0][price_data]"},
			{"stored price id", false, func(p *store.SessionParams) { p.LineItems[0].Price = "price_123" }, "line_items[0][price]"},
			{"blank product name", false, func(p *store.SessionParams) { p.LineItems[0].PriceData.ProductData.Name = "  " }, "line_items[0][price_data][product_data][name]"},
			{"product name not UTF-8", false, func(p *store.SessionParams) { p.LineItems[0].PriceData.ProductData.Name = "bad\xff" }, "line_items[0][price_data][product_data][name]"},
			{"http product image", false, func(p *store.SessionParams) {
				p.LineItems[0].PriceData.ProductData.Images = []string{"http://cdn.shop.example/a.png"}
			}, "line_items[0][price_data][product_data][images][0]"},
			{"negative line tax", false, func(p *store.SessionParams) { p.LineItems[0].TaxAmount = -1 }, "line_items[0][tax_amount]"},
			{"second line item in another currency", false, func(p *store.SessionParams) {
				li := item("Mug", 1, 100)
				li.PriceData.Currency = "usd"
				p.LineItems = append(p.LineItems, li)
			}, "line_items[1][price_data][currency]"},
			{"unknown recurring interval", false, func(p *store.SessionParams) {
				p.LineItems[0].PriceData.Recurring = &store.Recurring{Interval: "fortnight"}
			}, "line_items[0][price_data][recurring][interval]"},
			{"no line items in payment mode", false, func(p *store.SessionParams) { p.LineItems = nil }, "line_items"},
			{"more than 100 line items", false, func(p *store.SessionParams) {
				for range store.MaxLineItems {
					p.LineItems = append(p.LineItems, item("Pin", 1, 1))
				}
			}, "line_items"},
			{"subscription without a recurring price", false, func(p *store.SessionParams) { p.Mode = "subscription" }, "line_items"},
			{"unknown mode", false, func(p *store.SessionParams) { p.Mode = "donation" }, "mode"},
			{"unknown currency", false, func(p *store.SessionParams) {
				p.Currency = "zzz"
				p.LineItems[0].PriceData.Currency = ""
			}, "currency"},
			{"no currency at all", false, func(p *store.SessionParams) {
				p.Currency = ""
				p.LineItems[0].PriceData.Currency = ""
			}, "currency"},
			{"unknown display currency", false, func(p *store.SessionParams) { p.DisplayCurrency = "eu" }, "display_currency"},
			{"unknown fee type", false, func(p *store.SessionParams) {
				p.Fees = []store.AdjustmentParams{{Type: "tip", Label: "Tip", Amount: 1}}
			}, "fees[0][type]"},
			{"fee without label", false, func(p *store.SessionParams) {
				p.Fees = []store.AdjustmentParams{{Type: "fee", Amount: 1}}
			}, "fees[0][label]"},
			{"negative fee", false, func(p *store.SessionParams) {
				p.Fees = []store.AdjustmentParams{{Type: "fee", Label: "Fee", Amount: 1}, {Type: "fee", Label: "Refund", Amount: -5}}
			}, "fees[1][amount]"},
			{"discount larger than the amount due", false, func(p *store.SessionParams) {
				p.Fees = []store.AdjustmentParams{{Type: "discount", Label: "Too much", Amount: 3001}}
			}, "fees"},
			{"total over the maximum", false, func(p *store.SessionParams) {
				p.LineItems = []store.LineItemParams{item("Yacht", 1, store.MaxAmount)}
				p.Fees = []store.AdjustmentParams{{Type: "shipping", Label: "Tug", Amount: 1}}
			}, "line_items"},
			{"brand colour of five digits", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{BrandColor: "#12345"} }, "appearance[brand_color]"},
			{"button colour by name", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{ButtonColor: "red"} }, "appearance[button_color]"},
			{"background colour with CSS after it", false, func(p *store.SessionParams) {
				p.Appearance = &store.Appearance{BackgroundColor: "#ffffff;background:url(x)"}
			}, "appearance[background_color]"},
			{"colour with a non-hex digit", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{BrandColor: "#12345g"} }, "appearance[brand_color]"},
			{"http logo", false, func(p *store.SessionParams) {
				p.Appearance = &store.Appearance{LogoURL: "http://shop.example/logo.png"}
			}, "appearance[logo_url]"},
			{"unknown border style", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{BorderStyle: "dotted"} }, "appearance[border_style]"},
			{"unknown font", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{FontFamily: "Comic Sans"} }, "appearance[font_family]"},
			{"unknown theme", false, func(p *store.SessionParams) { p.Appearance = &store.Appearance{Theme: "neon"} }, "appearance[theme]"},
			{"http return URL in live mode", true, func(p *store.SessionParams) { p.SuccessURL = "http://shop.example/ok" }, "success_url"},
			{"http localhost return URL in live mode", true, func(p *store.SessionParams) { p.CancelURL = "http://localhost:3000/cart" }, "cancel_url"},
			{"http return URL to a non-local host in test mode", false, func(p *store.SessionParams) { p.PendingURL = "http://shop.example/pending" }, "pending_url"},
			{"user and password in the URL", false, func(p *store.SessionParams) { p.SuccessURL = "https://user:pw@shop.example/ok" }, "success_url"},
			{"user name in the URL", false, func(p *store.SessionParams) { p.ReturnURL = "https://evil.example@shop.example/" }, "return_url"},
			{"host not among the merchant's redirect hosts", false, func(p *store.SessionParams) { p.ReturnURL = "https://evil.example/back" }, "return_url"},
			{"subdomain of a redirect host", false, func(p *store.SessionParams) { p.CancelURL = "https://pay.shop.example/cart" }, "cancel_url"},
			{"relative URL", false, func(p *store.SessionParams) { p.SuccessURL = "/ok" }, "success_url"},
			{"javascript URL", false, func(p *store.SessionParams) { p.SuccessURL = "javascript:alert(1)" }, "success_url"},
			{"URL longer than 2048", false, func(p *store.SessionParams) {
				p.SuccessURL = "https://shop.example/" + strings.Repeat("a", store.MaxURLLength)
			}, "success_url"},
			{"51 metadata keys", false, func(p *store.SessionParams) { p.Metadata = metadataKeys(store.MaxMetadataKeys + 1) }, "metadata"},
			{"51 attribution keys", false, func(p *store.SessionParams) { p.Attribution = metadataKeys(store.MaxMetadataKeys + 1) }, "attribution"},
			{"metadata key with brackets", false, func(p *store.SessionParams) { p.Metadata = map[string]string{"a[b]": "c"} }, "metadata"},
			{"metadata value over 500 characters", false, func(p *store.SessionParams) {
				p.Metadata = map[string]string{"note": strings.Repeat("x", 501)}
			}, "metadata[note]"},
			{"expires in 59 seconds", false, func(p *store.SessionParams) { p.ExpiresAt = now.Add(59 * time.Second).Unix() }, "expires_at"},
			{"expires in 30 days and 1 second", false, func(p *store.SessionParams) {
				p.ExpiresAt = now.Add(store.MaxExpiry + time.Second).Unix()
			}, "expires_at"},
			{"expired already", false, func(p *store.SessionParams) { p.ExpiresAt = now.Add(-time.Hour).Unix() }, "expires_at"},
			{"unknown payment method type", false, func(p *store.SessionParams) { p.PaymentMethodTypes = []string{"card", "bitcoin"} }, "payment_method_types[1]"},
			{"unknown wallet", false, func(p *store.SessionParams) {
				p.WalletOptions = store.WalletOptions{"samsung_pay": {Display: "auto"}}
			}, "wallet_options"},
			{"unknown wallet display", false, func(p *store.SessionParams) {
				p.WalletOptions = store.WalletOptions{"apple_pay": {Display: "always"}}
			}, "wallet_options[apple_pay][display]"},
			{"email without @", false, func(p *store.SessionParams) { p.CustomerEmail = "ada.example.com" }, "customer_email"},
			{"IP address that is not one", false, func(p *store.SessionParams) {
				p.CustomerDetails = &store.Customer{IPAddress: "256.1.1.1"}
			}, "customer_details[ip_address]"},
			{"client reference over 200 characters", false, func(p *store.SessionParams) { p.ClientReferenceID = strings.Repeat("r", 201) }, "client_reference_id"},
			{"unknown after completion", false, func(p *store.SessionParams) {
				p.AfterCompletion = &store.AfterCompletion{Type: "close"}
			}, "after_completion[type]"},
			{"custom text over 1200 characters", false, func(p *store.SessionParams) {
				p.CustomText = &store.CustomText{Submit: strings.Repeat("x", store.MaxCustomText+1)}
			}, "custom_text[submit]"},
			{"locale with markup", false, func(p *store.SessionParams) { p.Locale = `en"><script>` }, "locale"},
			{"contract that is not JSON", false, func(p *store.SessionParams) { p.Contract = store.RawJSON(`{"a":`) }, "contract"},
			{"estimate that is not JSON", false, func(p *store.SessionParams) { p.Estimate = store.RawJSON(`nope`) }, "estimate"},
			{"estimate over 64 KiB", false, func(p *store.SessionParams) {
				p.Estimate = store.RawJSON(`"` + strings.Repeat("x", 64<<10) + `"`)
			}, "estimate"},
			{"idempotency key over 255 characters", false, func(p *store.SessionParams) { p.IdempotencyKey = strings.Repeat("k", 256) }, "idempotency_key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := validParams()
				tc.edit(p)
				sess, err := s.CreateSession(t.Context(), m, tc.livemode, p)
				wantInvalid(t, err, tc.param)
				if sess != nil {
					t.Errorf("returned a session along with the error: %+v", sess)
				}
				for _, table := range []string{"checkout_sessions", "line_items", "adjustments"} {
					if n := countRows(t, s, table, ""); n != 0 {
						t.Errorf("%d rows in %s after a refused creation", n, table)
					}
				}
			})
		}
	})
}

func TestCreateSessionAcceptsBoundaryValues(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, url string) {
		s, c := newStore(t, url)
		hosts, _ := newMerchant(t, s, nil)
		anyHost, _ := newMerchant(t, s, func(m *store.Merchant) { m.RedirectHosts = nil })
		now := c.Now()
		for _, tc := range []struct {
			name     string
			m        *store.Merchant
			livemode bool
			edit     func(p *store.SessionParams)
			check    func(t *testing.T, sess *store.Session)
		}{
			{"a million of one item", hosts, false, func(p *store.SessionParams) { p.LineItems[0] = item("Grain", 1_000_000, 1) }, nil},
			{"expires in exactly 60 seconds", hosts, false, func(p *store.SessionParams) { p.ExpiresAt = now.Add(store.MinExpiry).Unix() },
				func(t *testing.T, sess *store.Session) { wantInt(t, "expires_at", sess.ExpiresAt, now.Unix()+60) }},
			{"expires in exactly 30 days", hosts, false, func(p *store.SessionParams) { p.ExpiresAt = now.Add(store.MaxExpiry).Unix() },
				func(t *testing.T, sess *store.Session) {
					wantInt(t, "expires_at", sess.ExpiresAt, now.Add(store.MaxExpiry).Unix())
				}},
			{"50 metadata keys", hosts, false, func(p *store.SessionParams) { p.Metadata = metadataKeys(store.MaxMetadataKeys) },
				func(t *testing.T, sess *store.Session) {
					wantInt(t, "metadata keys", int64(len(sess.Metadata)), store.MaxMetadataKeys)
				}},
			{"redirect host in capitals and with a port", hosts, true, func(p *store.SessionParams) { p.SuccessURL = "https://SHOP.example:8443/ok" }, nil},
			{"http to localhost in test mode", anyHost, false, func(p *store.SessionParams) {
				p.SuccessURL, p.CancelURL = "http://localhost:3000/ok", "http://127.0.0.1:3000/cart"
			}, nil},
			{"any https host when the merchant names none", anyHost, true, func(p *store.SessionParams) { p.SuccessURL = "https://elsewhere.example/ok" }, nil},
			{"upper-case currency", hosts, false, func(p *store.SessionParams) { p.Currency = "EUR" },
				func(t *testing.T, sess *store.Session) {
					if sess.Currency != "eur" {
						t.Errorf("currency = %q, want eur", sess.Currency)
					}
				}},
			{"currency taken from the first price", hosts, false, func(p *store.SessionParams) { p.Currency = "" },
				func(t *testing.T, sess *store.Session) {
					if sess.Currency != "eur" {
						t.Errorf("currency = %q, want eur", sess.Currency)
					}
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := validParams()
				tc.edit(p)
				created := createSession(t, s, tc.m, tc.livemode, p)
				read := getSession(t, s, created.ID)
				wantSameSession(t, read, created)
				if tc.check != nil {
					tc.check(t, read)
				}
			})
		}
	})
}

func wantInt(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

// sortedIDs returns the ids of sessions, sorted, for order-blind comparison.
func sortedIDs(list []*store.Session) []string {
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	return ids
}
