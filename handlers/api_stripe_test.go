package handlers_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paypage/paypage/handlers/handlertest"
	"github.com/paypage/paypage/handlers/stripeschema"

	"github.com/stripe/stripe-go/v85"

	"github.com/paypage/paypage/store/storetest"
)

// stripeClient is Stripe's own Go client, unchanged but for its backend URL
// and key. Its HTTP client only passes every answer through the OpenAPI
// check; its logger is quiet because some tests provoke errors on purpose.
func stripeClient(t *testing.T, srv *handlertest.Server, key string) (*stripe.Client, *validatingTransport) {
	vt := &validatingTransport{t: t, router: openAPIRouter(t, srv.URL)}
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:           stripe.String(srv.URL),
		HTTPClient:    &http.Client{Transport: vt, Timeout: 30 * time.Second},
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return stripe.NewClient(key, stripe.WithBackends(backends)), vt
}

// stripeError asserts that err is Stripe's typed error with the given
// status, type, code and param.
func stripeError(t *testing.T, what string, err error, status int, typ stripe.ErrorType, code stripe.ErrorCode, param string) {
	t.Helper()
	var se *stripe.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: got %v (%T), want a *stripe.Error", what, err, err)
		return
	}
	if se.HTTPStatusCode != status || se.Type != typ || se.Code != code || se.Param != param ||
		se.Msg == "" || !strings.HasPrefix(se.RequestID, "req_") {
		t.Errorf("%s: got status %d type %q code %q param %q msg %q request %q; want %d %q %q %q",
			what, se.HTTPStatusCode, se.Type, se.Code, se.Param, se.Msg, se.RequestID, status, typ, code, param)
	}
}

// stripeValid checks an answer's raw JSON, as stripe-go received it, against
// Stripe's own schema: schema is a component ("checkout.session") or "list
// of" one.
func stripeValid(t *testing.T, what, schema string, r *stripe.APIResponse) {
	t.Helper()
	if r == nil {
		t.Errorf("%s: no response to validate", what)
		return
	}
	var err error
	if item, ok := strings.CutPrefix(schema, "list of "); ok {
		err = stripeschema.ValidateList(item, r.RawJSON)
	} else {
		err = stripeschema.Validate(schema, r.RawJSON)
	}
	if err != nil {
		t.Errorf("%s: Stripe's schema refuses the answer: %v", what, err)
	}
}

// allValid ranges over a stripe-go list as its All does, and validates each
// page it fetches, envelope and elements, against Stripe's schema.
func allValid[T any](t *testing.T, ctx context.Context, what, item string, l *stripe.V1List[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var last *stripe.APIResponse
		for v, err := range l.All(ctx) {
			if r := l.LastResponse(); err == nil && r != last {
				last = r
				stripeValid(t, what, "list of "+item, r)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

func mugParams(ref string) *stripe.CheckoutSessionCreateParams {
	return &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String("payment"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency: stripe.String("eur"), UnitAmount: stripe.Int64(500),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String("Mug")},
			},
		}},
		SuccessURL:        stripe.String("https://shop.example/ok"),
		ClientReferenceID: stripe.String(ref),
	}
}

func TestStripeClientCreatesRetrievesListsAndExpires(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sc, vt := stripeClient(t, srv, srv.Keys.Test)
		ctx := context.Background()

		expires := time.Now().Add(2 * time.Hour).Unix()
		params := &stripe.CheckoutSessionCreateParams{
			Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{
				{
					Quantity: stripe.Int64(2),
					PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
						Currency: stripe.String("eur"), UnitAmount: stripe.Int64(1250),
						ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{
							Name: stripe.String("Mug"), Description: stripe.String("Stoneware, 300 ml"),
							Images: stripe.StringSlice([]string{"https://shop.example/mug.png"}),
						},
					},
				},
				{
					Quantity: stripe.Int64(1),
					PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
						Currency: stripe.String("eur"), UnitAmount: stripe.Int64(999),
						ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String("Beans, monthly")},
						Recurring:   &stripe.CheckoutSessionCreateLineItemPriceDataRecurringParams{Interval: stripe.String("month")},
					},
				},
			},
			Metadata:           map[string]string{"order": "A-17", "channel": "web"},
			Locale:             stripe.String("fr"),
			ExpiresAt:          stripe.Int64(expires),
			SuccessURL:         stripe.String("https://shop.example/ok?cs={CHECKOUT_SESSION_ID}"),
			CancelURL:          stripe.String("https://shop.example/cart"),
			ClientReferenceID:  stripe.String("order-17"),
			CustomerEmail:      stripe.String("ada@example.com"),
			PaymentMethodTypes: stripe.StringSlice([]string{"card", "ideal"}),
			CustomText: &stripe.CheckoutSessionCreateCustomTextParams{
				Submit: &stripe.CheckoutSessionCreateCustomTextSubmitParams{Message: stripe.String("We ship in 2 days.")},
			},
			AfterExpiration: &stripe.CheckoutSessionCreateAfterExpirationParams{
				Recovery: &stripe.CheckoutSessionCreateAfterExpirationRecoveryParams{Enabled: stripe.Bool(true)},
			},
			WalletOptions: &stripe.CheckoutSessionCreateWalletOptionsParams{
				Link: &stripe.CheckoutSessionCreateWalletOptionsLinkParams{Display: stripe.String("never")},
			},
		}
		params.AddExpand("line_items")
		s, err := sc.V1CheckoutSessions.Create(ctx, params)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		stripeValid(t, "create", "checkout.session", s.LastResponse)
		if !strings.HasPrefix(s.ID, "cs_test_") || s.Object != "checkout.session" || s.Livemode ||
			s.Status != stripe.CheckoutSessionStatusOpen || s.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid ||
			s.Mode != stripe.CheckoutSessionModePayment || s.Currency != "eur" ||
			s.AmountSubtotal != 3499 || s.AmountTotal != 3499 || s.TotalDetails == nil || s.TotalDetails.AmountTax != 0 ||
			s.Locale != "fr" || s.ExpiresAt != expires || s.ClientReferenceID != "order-17" ||
			s.CustomerEmail != "ada@example.com" || s.SuccessURL != "https://shop.example/ok?cs={CHECKOUT_SESSION_ID}" ||
			s.CancelURL != "https://shop.example/cart" || s.URL != srv.URL+"/pay/"+s.ID ||
			s.Metadata["order"] != "A-17" || s.Metadata["channel"] != "web" || len(s.Metadata) != 2 ||
			!slices.Equal(s.PaymentMethodTypes, []string{"card", "ideal"}) ||
			s.CustomText == nil || s.CustomText.Submit == nil || s.CustomText.Submit.Message != "We ship in 2 days." ||
			s.AfterExpiration == nil || !s.AfterExpiration.Recovery.Enabled ||
			s.WalletOptions == nil || s.WalletOptions.Link == nil || s.WalletOptions.Link.Display != "never" {
			t.Fatalf("created session decoded wrong: %+v", s)
		}
		if s.LineItems == nil || len(s.LineItems.Data) != 2 {
			t.Fatalf("create with expand[]=line_items: %+v", s.LineItems)
		}

		// The prices' products as Stripe gives them: ids, unless expanded.
		ids, err := sc.V1CheckoutSessions.Retrieve(ctx, s.ID, &stripe.CheckoutSessionRetrieveParams{
			Expand: stripe.StringSlice([]string{"line_items"}),
		})
		if err != nil {
			t.Fatalf("retrieve: %v", err)
		}
		stripeValid(t, "retrieve expand line_items", "checkout.session", ids.LastResponse)
		for _, li := range ids.LineItems.Data {
			if !strings.HasPrefix(li.Price.ID, "price_") || !strings.HasPrefix(li.Price.Product.ID, "prod_") || li.Price.Product.Name != "" {
				t.Fatalf("line item %s: price %q, product %+v; want ids, the product not expanded", li.ID, li.Price.ID, li.Price.Product)
			}
		}
		got, err := sc.V1CheckoutSessions.Retrieve(ctx, s.ID, &stripe.CheckoutSessionRetrieveParams{
			Expand: stripe.StringSlice([]string{"line_items", "line_items.data.price.product"}),
		})
		if err != nil {
			t.Fatalf("retrieve: %v", err)
		}
		stripeValid(t, "retrieve expand line_items.data.price.product", "checkout.session", got.LastResponse)
		if got.ID != s.ID || got.AmountTotal != 3499 || got.LineItems == nil || got.LineItems.HasMore || len(got.LineItems.Data) != 2 {
			t.Fatalf("retrieved: %+v", got)
		}
		mug, beans := got.LineItems.Data[0], got.LineItems.Data[1]
		if !strings.HasPrefix(mug.ID, "li_") || mug.Object != "item" || mug.Description != "Mug" || mug.Quantity != 2 ||
			mug.AmountSubtotal != 2500 || mug.AmountTotal != 2500 || mug.Currency != "eur" || mug.Price == nil ||
			mug.Price.UnitAmount != 1250 || mug.Price.UnitAmountDecimal != 1250 || mug.Price.Type != stripe.PriceTypeOneTime ||
			mug.Price.Recurring != nil || mug.Price.Product == nil || mug.Price.Product.Name != "Mug" ||
			mug.Price.ID != ids.LineItems.Data[0].Price.ID || mug.Price.Product.ID != ids.LineItems.Data[0].Price.Product.ID ||
			mug.Price.Product.Description != "Stoneware, 300 ml" || !slices.Equal(mug.Price.Product.Images, []string{"https://shop.example/mug.png"}) {
			t.Fatalf("first line item: %+v (price %+v)", mug, mug.Price)
		}
		if beans.Price == nil || beans.Price.Type != stripe.PriceTypeRecurring || beans.Price.Recurring == nil ||
			beans.Price.Recurring.Interval != stripe.PriceRecurringIntervalMonth || beans.Price.Recurring.IntervalCount != 1 {
			t.Fatalf("recurring line item: %+v", beans.Price)
		}
		// The client as a merchant would configure it: its backend URL, a key, nothing else.
		untouched := stripe.NewClient(srv.Keys.Test, stripe.WithBackends(stripe.NewBackendsWithConfig(
			&stripe.BackendConfig{URL: stripe.String(srv.URL)})))
		plain, err := untouched.V1CheckoutSessions.Retrieve(ctx, s.ID, nil)
		if err != nil || plain.ID != s.ID || plain.AmountTotal != 3499 || plain.LineItems != nil {
			t.Fatalf("retrieve without expand: %v %+v", err, plain)
		}
		stripeValid(t, "retrieve", "checkout.session", plain.LastResponse)

		// The line items, one per page, by auto-pagination.
		var names []string
		for li, err := range allValid(t, ctx, "line items", "item", sc.V1CheckoutSessions.ListLineItems(ctx, &stripe.CheckoutSessionListLineItemsParams{
			Session: stripe.String(s.ID), ListParams: stripe.ListParams{Limit: stripe.Int64(1)},
		})) {
			if err != nil {
				t.Fatalf("list line items: %v", err)
			}
			names = append(names, li.Description)
		}
		if !slices.Equal(names, []string{"Mug", "Beans, monthly"}) {
			t.Fatalf("line items by pages of one: %v", names)
		}

		// Six sessions, listed newest first across pages of two.
		want := []string{s.ID}
		for i := range 5 {
			more, err := sc.V1CheckoutSessions.Create(ctx, mugParams("batch-"+string(rune('a'+i))))
			if err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
			stripeValid(t, "create", "checkout.session", more.LastResponse)
			want = append([]string{more.ID}, want...)
		}
		before := vt.checked.Load()
		var listed []string
		for cs, err := range allValid(t, ctx, "list", "checkout.session", sc.V1CheckoutSessions.List(ctx, &stripe.CheckoutSessionListParams{
			ListParams: stripe.ListParams{Limit: stripe.Int64(2)},
		})) {
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			listed = append(listed, cs.ID)
		}
		if !slices.Equal(listed, want) {
			t.Fatalf("auto-paginated list:\n got %v\nwant %v", listed, want)
		}
		if pages := vt.checked.Load() - before; pages != 3 {
			t.Fatalf("six sessions in pages of two took %d requests, want 3", pages)
		}
		// Filters, through the client's own parameters.
		var filtered []string
		for cs, err := range allValid(t, ctx, "filtered list", "checkout.session", sc.V1CheckoutSessions.List(ctx, &stripe.CheckoutSessionListParams{
			Status: stripe.String("open"), CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: s.Created},
		})) {
			if err != nil {
				t.Fatalf("filtered list: %v", err)
			}
			filtered = append(filtered, cs.ClientReferenceID)
		}
		if len(filtered) != 6 {
			t.Fatalf("status=open&created[gte]: %v", filtered)
		}

		expired, err := sc.V1CheckoutSessions.Expire(ctx, s.ID, nil)
		if err != nil || expired.Status != stripe.CheckoutSessionStatusExpired || expired.ID != s.ID {
			t.Fatalf("expire: %v %+v", err, expired)
		}
		stripeValid(t, "expire", "checkout.session", expired.LastResponse)
		_, err = sc.V1CheckoutSessions.Expire(ctx, s.ID, nil)
		stripeError(t, "expire twice", err, 400, stripe.ErrorTypeInvalidRequest, "checkout_session_unexpected_state", "")
		var open []string
		for cs, err := range allValid(t, ctx, "list expired", "checkout.session", sc.V1CheckoutSessions.List(ctx, &stripe.CheckoutSessionListParams{Status: stripe.String("expired")})) {
			if err != nil {
				t.Fatalf("list expired: %v", err)
			}
			open = append(open, cs.ID)
		}
		if !slices.Equal(open, []string{s.ID}) {
			t.Fatalf("status=expired lists %v, want [%s]", open, s.ID)
		}
	})
}

func TestStripeClientGetsTypedErrors(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sc, _ := stripeClient(t, srv, srv.Keys.Test)
		ctx := context.Background()

		zero := mugParams("x")
		zero.LineItems[0].Quantity = stripe.Int64(0)
		_, err := sc.V1CheckoutSessions.Create(ctx, zero)
		stripeError(t, "quantity 0", err, 400, stripe.ErrorTypeInvalidRequest, "parameter_invalid", "line_items[0][quantity]")

		unknown := mugParams("x")
		unknown.AddExtra("line_items[0][colour]", "red")
		_, err = sc.V1CheckoutSessions.Create(ctx, unknown)
		stripeError(t, "unknown parameter", err, 400, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeParameterUnknown, "line_items[0][colour]")

		notInt := mugParams("x")
		notInt.AddExtra("expires_at", "tomorrow")
		_, err = sc.V1CheckoutSessions.Create(ctx, notInt)
		stripeError(t, "expires_at not an integer", err, 400, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeParameterInvalidInteger, "expires_at")

		plainHTTP := mugParams("x")
		plainHTTP.SuccessURL = stripe.String("http://shop.example/ok")
		_, err = sc.V1CheckoutSessions.Create(ctx, plainHTTP)
		stripeError(t, "http success_url", err, 400, stripe.ErrorTypeInvalidRequest, "parameter_invalid", "success_url")

		badExpand := mugParams("x")
		badExpand.AddExpand("customer")
		_, err = sc.V1CheckoutSessions.Create(ctx, badExpand)
		stripeError(t, "expand customer", err, 400, stripe.ErrorTypeInvalidRequest, "parameter_invalid", "expand[0]")

		_, err = sc.V1CheckoutSessions.Retrieve(ctx, "cs_test_doesnotexist", nil)
		stripeError(t, "unknown id", err, 404, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing, "id")
		_, err = sc.V1CheckoutSessions.Expire(ctx, "cs_test_doesnotexist", nil)
		stripeError(t, "expire unknown id", err, 404, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeResourceMissing, "id")

		list := sc.V1CheckoutSessions.List(ctx, &stripe.CheckoutSessionListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(101)}})
		for _, err := range list.All(ctx) {
			stripeError(t, "limit 101", err, 400, stripe.ErrorTypeInvalidRequest, "parameter_invalid", "limit")
		}

		stranger, _ := stripeClient(t, srv, "sk_test_"+strings.Repeat("x", 40))
		_, err = stranger.V1CheckoutSessions.Create(ctx, mugParams("x"))
		stripeError(t, "unknown key", err, 401, stripe.ErrorTypeInvalidRequest, "", "")

		if n := count(t, srv, "checkout_sessions"); n != 0 {
			t.Fatalf("refused requests stored %d sessions", n)
		}
	})
}

func TestStripeClientIdempotencyKeys(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, dbURL string) {
		srv := handlertest.Start(t, dbURL)
		sc, _ := stripeClient(t, srv, srv.Keys.Test)
		ctx := context.Background()

		p := mugParams("order-1")
		p.SetIdempotencyKey("order-1-attempt")
		first, err := sc.V1CheckoutSessions.Create(ctx, p)
		if err != nil {
			t.Fatalf("first: %v", err)
		}
		stripeValid(t, "idempotent create", "checkout.session", first.LastResponse)
		again := mugParams("order-1")
		again.SetIdempotencyKey("order-1-attempt")
		second, err := sc.V1CheckoutSessions.Create(ctx, again)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		stripeValid(t, "idempotent replay", "checkout.session", second.LastResponse)
		if second.ID != first.ID || second.LastResponse.Header.Get("Idempotent-Replayed") != "true" ||
			string(second.LastResponse.RawJSON) != string(first.LastResponse.RawJSON) {
			t.Fatalf("replay gave %s (replayed %q), want the first answer %s", second.ID,
				second.LastResponse.Header.Get("Idempotent-Replayed"), first.ID)
		}
		if first.LastResponse.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the first answer claims to be a replay")
		}

		other := mugParams("order-2")
		other.SetIdempotencyKey("order-1-attempt")
		_, err = sc.V1CheckoutSessions.Create(ctx, other)
		stripeError(t, "same key, other body", err, 400, stripe.ErrorTypeIdempotency, stripe.ErrorCodeIdempotencyKeyInUse, "Idempotency-Key")

		if n := count(t, srv, "checkout_sessions"); n != 1 {
			t.Fatalf("%d sessions stored, want 1", n)
		}
		if first.LastResponse.IdempotencyKey != "order-1-attempt" {
			t.Fatalf("Idempotency-Key not echoed: %q", first.LastResponse.IdempotencyKey)
		}
	})
}
