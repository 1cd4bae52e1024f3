package stripeschema

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// minimalSession is the smallest checkout.session Stripe could send: every
// property of the schema's required list, the nullable ones as null, the
// others with the least value their type allows.
const minimalSession = `{
	"id": "cs_test_a1", "object": "checkout.session", "livemode": false,
	"created": 1767225600, "expires_at": 1767312000,
	"mode": "payment", "payment_status": "unpaid",
	"automatic_tax": {"enabled": false, "status": null},
	"custom_fields": [], "payment_method_types": [], "shipping_options": [],
	"custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
	"adaptive_pricing": null, "after_expiration": null, "allow_promotion_codes": null,
	"amount_subtotal": null, "amount_total": null, "billing_address_collection": null,
	"cancel_url": null, "client_reference_id": null, "client_secret": null,
	"collected_information": null, "consent": null, "consent_collection": null,
	"currency": null, "currency_conversion": null, "customer": null, "customer_account": null,
	"customer_creation": null, "customer_details": null, "customer_email": null,
	"discounts": null, "integration_identifier": null, "invoice": null, "invoice_creation": null,
	"locale": null, "managed_payments": null, "metadata": null, "origin_context": null,
	"payment_intent": null, "payment_link": null, "payment_method_collection": null,
	"payment_method_configuration_details": null, "payment_method_options": null,
	"permissions": null, "recovered_from": null, "saved_payment_method_options": null,
	"setup_intent": null, "shipping_address_collection": null, "shipping_cost": null,
	"status": null, "submit_type": null, "subscription": null, "success_url": null,
	"total_details": null, "ui_mode": null, "url": null, "wallet_options": null
}`

// mugItem is a line item as Stripe sends it with its price and product
// expanded.
const mugItem = `{
	"id": "li_1", "object": "item", "description": "Mug", "quantity": 2, "currency": "eur",
	"amount_discount": 0, "amount_subtotal": 2500, "amount_tax": 0, "amount_total": 2500,
	"adjustable_quantity": null, "metadata": {},
	"price": {
		"id": "price_1", "object": "price", "active": true, "billing_scheme": "per_unit",
		"created": 1767225600, "currency": "eur", "custom_unit_amount": null, "livemode": false,
		"lookup_key": null, "metadata": {}, "nickname": null, "recurring": null,
		"tax_behavior": "unspecified", "tiers_mode": null, "transform_quantity": null,
		"type": "one_time", "unit_amount": 1250, "unit_amount_decimal": "1250",
		"product": {
			"id": "prod_1", "object": "product", "active": true, "created": 1767225600,
			"description": "Stoneware, 300 ml", "images": [], "livemode": false,
			"marketing_features": [], "metadata": {}, "name": "Mug", "package_dimensions": null,
			"shippable": null, "type": "service", "updated": 1767225600, "url": null
		}
	}
}`

// openSession is an open session with the values an answer of paypage's
// would have, its line items expanded and a field of paypage's own
// (Stripe's schema allows more properties than it lists).
func openSession(t *testing.T) map[string]any {
	t.Helper()
	s := decode(t, minimalSession)
	for k, v := range map[string]any{
		"status": "open", "ui_mode": "hosted_page", "currency": "eur", "locale": "fr",
		"amount_subtotal": 2500, "amount_total": 2500, "url": "https://pay.example/pay/cs_test_a1",
		"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/cart",
		"metadata":      map[string]any{"order": "A-17"},
		"total_details": map[string]any{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
		"after_expiration": map[string]any{"recovery": map[string]any{
			"allow_promotion_codes": false, "enabled": true, "expires_at": nil, "url": nil}},
		"line_items": map[string]any{"object": "list", "has_more": false,
			"url": "/v1/checkout/sessions/cs_test_a1/line_items", "data": []any{decode(t, mugItem)}},
		"paypage_status": "processing",
	} {
		s[k] = v
	}
	return s
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return m
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at returns the object at the path of property names below m.
func at(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		if l, ok := m[p].(map[string]any); ok {
			m = l
			continue
		}
		m = m[p].([]any)[0].(map[string]any) // a list's data: its first element
	}
	return m
}

func TestEverySchemaCompiles(t *testing.T) {
	if _, err := compiled("checkout.session"); err != nil {
		t.Fatal(err)
	}
	if len(schemas.defs) < 70 {
		t.Fatalf("Stripe's schema gave %d schemas, want the 71 Stripe components", len(schemas.defs))
	}
	for name := range schemas.defs {
		if _, err := compiled(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := Validate("charge", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `has no "charge"`) {
		t.Errorf("an unknown schema name: got %v, want an error naming it", err)
	}
}

func TestValidAnswersPass(t *testing.T) {
	list := map[string]any{"object": "list", "has_more": true, "url": "/v1/checkout/sessions",
		"data": []any{decode(t, minimalSession), openSession(t)}}
	for _, tc := range []struct {
		name, schema string
		doc          []byte
		list         bool
	}{
		{"minimal session", "checkout.session", []byte(minimalSession), false},
		{"open session with line items and a field of paypage's own", "checkout.session", encode(t, openSession(t)), false},
		{"line item, price and product expanded", "item", []byte(mugItem), false},
		{"line item, product as an id", "item", func() []byte {
			it := decode(t, mugItem)
			at(it, "price")["product"] = "prod_1"
			return encode(t, it)
		}(), false},
		{"line item, product deleted", "item", func() []byte {
			it := decode(t, mugItem)
			at(it, "price")["product"] = map[string]any{"id": "prod_1", "object": "product", "deleted": true}
			return encode(t, it)
		}(), false},
		{"list of sessions", "checkout.session", encode(t, list), true},
		{"empty list of items", "item", []byte(`{"object":"list","data":[],"has_more":false,"url":"/v1/checkout/sessions/cs_test_a1/line_items"}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			validate := Validate
			if tc.list {
				validate = ValidateList
			}
			if err := validate(tc.schema, tc.doc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestViolationsNameTheirPointer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema string // "list of X" for ValidateList
		edit   func(s map[string]any)
		want   []Violation // pointer, and a part of the message
	}{
		{"missing nullable property", "checkout.session",
			func(s map[string]any) { delete(s, "client_secret") },
			[]Violation{{"/client_secret", "missing required property"}}},
		{"missing non-nullable property", "checkout.session",
			func(s map[string]any) { delete(s, "automatic_tax") },
			[]Violation{{"/automatic_tax", "missing required property"}}},
		{"missing property of a nested object", "checkout.session",
			func(s map[string]any) { delete(at(s, "after_expiration", "recovery"), "allow_promotion_codes") },
			[]Violation{{"/after_expiration/recovery/allow_promotion_codes", "missing required property"}}},
		{"status outside Stripe's enum", "checkout.session",
			func(s map[string]any) { s["status"] = "processing" },
			[]Violation{{"/status", `got "processing", want one of ["complete", "expired", "open", null]`}}},
		{"ui_mode outside Stripe's enum", "checkout.session",
			func(s map[string]any) { s["ui_mode"] = "hosted" },
			[]Violation{{"/ui_mode", `got "hosted"`}}},
		{"payment_status outside Stripe's enum", "checkout.session",
			func(s map[string]any) { s["payment_status"] = "pending" },
			[]Violation{{"/payment_status", `got "pending"`}}},
		{"return_url null (Stripe omits it)", "checkout.session",
			func(s map[string]any) { s["return_url"] = nil },
			[]Violation{{"/return_url", "got null, want string"}}},
		{"nullable object of the wrong type", "checkout.session",
			func(s map[string]any) { s["total_details"] = "none" },
			[]Violation{{"/total_details", "got string, want object or null"}}},
		{"currency in capitals", "checkout.session",
			func(s map[string]any) { s["currency"] = "EUR" },
			[]Violation{{"/currency", "three lowercase letters"}}},
		{"a timestamp with a fraction", "checkout.session",
			func(s map[string]any) { s["created"] = 1767225600.5 },
			[]Violation{{"/created", "want integer"}}},
		{"price with a null id, in expanded line items", "checkout.session",
			func(s map[string]any) { at(s, "line_items", "data", "price")["id"] = nil },
			[]Violation{{"/line_items/data/0/price/id", "got null, want string"}}},
		{"price without metadata", "checkout.session",
			func(s map[string]any) { delete(at(s, "line_items", "data", "price"), "metadata") },
			[]Violation{{"/line_items/data/0/price/metadata", "missing required property"}}},
		{"every violation named, not the first only", "checkout.session",
			func(s map[string]any) {
				s["ui_mode"] = "hosted"
				delete(s, "consent")
				delete(at(s, "line_items", "data", "price", "product"), "created")
			},
			[]Violation{{"/consent", "missing required property"}, {"/line_items/data/0/price/product/created", "missing required property"},
				{"/ui_mode", `got "hosted"`}}},
		{"list without has_more", "list of checkout.session",
			func(s map[string]any) { delete(s, "has_more") },
			[]Violation{{"/has_more", "missing required property"}}},
		{"list element with a wrong status", "list of checkout.session",
			func(s map[string]any) { s["data"].([]any)[1].(map[string]any)["status"] = "canceled" },
			[]Violation{{"/data/1/status", `got "canceled"`}}},
		{"list of items whose element lacks its price", "list of item",
			func(s map[string]any) { delete(s["data"].([]any)[0].(map[string]any), "price") },
			[]Violation{{"/data/0/price", "missing required property"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			item, isList := strings.CutPrefix(tc.schema, "list of ")
			switch {
			case isList && item == "item":
				doc = map[string]any{"object": "list", "has_more": false, "url": "/v1/checkout/sessions/cs_test_a1/line_items",
					"data": []any{decode(t, mugItem)}}
			case isList:
				doc = map[string]any{"object": "list", "has_more": false, "url": "/v1/checkout/sessions",
					"data": []any{decode(t, minimalSession), openSession(t)}}
			default:
				doc = openSession(t)
			}
			tc.edit(doc)
			var err error
			if isList {
				err = ValidateList(item, encode(t, doc))
			} else {
				err = Validate(tc.schema, encode(t, doc))
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *Error", err)
			}
			if len(se.Violations) != len(tc.want) {
				t.Fatalf("got %d violations, want %d:\n%v", len(se.Violations), len(tc.want), err)
			}
			for i, w := range tc.want {
				got := se.Violations[i]
				if got.Pointer != w.Pointer || !strings.Contains(got.Message, w.Message) {
					t.Errorf("violation %d: got %q, want %s: …%s…", i, got, w.Pointer, w.Message)
				}
				if !strings.Contains(err.Error(), got.String()) {
					t.Errorf("the error's text %q lacks %q", err, got)
				}
			}
		})
	}
}

func TestViolationOrderIsStable(t *testing.T) {
	s := openSession(t)
	for _, k := range []string{"wallet_options", "adaptive_pricing", "url", "subscription"} {
		delete(s, k)
	}
	var first []Violation
	for range 5 {
		var se *Error
		if !errors.As(Validate("checkout.session", encode(t, s)), &se) {
			t.Fatal("want a *Error")
		}
		if first == nil {
			first = se.Violations
		} else if !slices.Equal(first, se.Violations) {
			t.Fatalf("violations in another order: %v then %v", first, se.Violations)
		}
	}
}
