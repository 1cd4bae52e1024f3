package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// Fuzz targets: each states what must hold for any input, beyond not
// panicking. Seeds are below and in testdata/fuzz; `make fuzz` runs each
// longer (see .ci/fuzz.sh).

// wantRefusal fails unless err is answered 400 (a refusal naming what the
// caller sent), never a 500.
func wantRefusal(t *testing.T, input any, err error) {
	t.Helper()
	if status, _ := classify(err); status != fiber.StatusBadRequest {
		t.Fatalf("%q: refused with %d (%v), want 400", input, status, err)
	}
}

// walkText calls fn on every map key and string in a parameter tree or a
// bound value.
func walkText(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			walkText(v.Elem(), fn)
		}
	case reflect.String:
		fn(v.String())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // RawJSON: bytes as sent
			fn(string(v.Bytes()))
			return
		}
		for i := range v.Len() {
			walkText(v.Index(i), fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkText(k, fn)
			walkText(v.MapIndex(k), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkText(v.Field(i), fn)
			}
		}
	}
}

// checkBound binds an accepted tree into the API's parameters: the binder
// either refuses it with a 400, or every text it lets through is text.
func checkBound(t *testing.T, input any, tree map[string]any, fromJSON bool) {
	t.Helper()
	var p createSessionParams
	if err := bindTree(tree, fromJSON, &p); err != nil {
		wantRefusal(t, input, err)
		return
	}
	walkText(reflect.ValueOf(p), func(s string) {
		if !store.IsText(s) {
			t.Fatalf("%q: bound %q, which is not text", input, s)
		}
	})
}

// FuzzBinder: a request's parameters — a form body or query string, or a
// JSON body — are refused with a 400, or read into a tree where every name
// and value is text, within the binder's bounds. A JSON body accepted is
// exactly what encoding/json reads from it (so it held no duplicate key and
// no byte that is not text: those are what encoding/json would have hidden),
// and reads back the same after encoding. Binding the tree into the API's
// parameters refuses with a 400 or yields only text.
func FuzzBinder(f *testing.F) {
	for _, s := range []string{
		"line_items[0][quantity]=2&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1250" +
			"&line_items[0][price_data][product_data][name]=Mug&metadata[order]=1017&expand[]=line_items",
		"payment_method_types[]=card&payment_method_types[]=ideal", "a[][x]=1&a[][y]=2&a[][x]=3", "fees[0][label]=a%00b",
		"client_reference_id=%FF", "metadata[a%00]=1", "a=1&a=2", "a[b]=1&a=2", "a[0]=1&a[2]=3", "%zz=1", "a[=1", "=x",
		"line_items[99999999999999999999][quantity]=1", "created[gt]=9223372036854775807", "expires_at=1e9",
	} {
		f.Add([]byte(s), false)
	}
	for _, s := range []string{
		`{"currency":"eur","line_items":[{"quantity":1,"price_data":{"unit_amount":100,"product_data":{"name":"Tea"}}}]}`,
		`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ufffd"}`,
		"{\"a\":\"\xff\"}", "{\"\xc3\":1}", `{"contract":{"x":[1,2,{"y":null}]}}`, `[1]`, `{} {}`, `{"a":1e400}`,
		`{"metadata":{"k":"v"},"expand":["line_items"]}`, strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		if asJSON {
			fuzzJSON(t, body)
		} else {
			fuzzForm(t, string(body))
		}
	})
}

func fuzzForm(t *testing.T, raw string) {
	tree, err := parseForm(raw)
	if err != nil {
		wantRefusal(t, raw, err)
		return
	}
	values := 0
	walkText(reflect.ValueOf(tree), func(s string) {
		values++
		if !store.IsText(s) {
			t.Fatalf("%q: accepted %q, which is not text", raw, s)
		}
	})
	if values > 2*maxParams {
		t.Fatalf("%q: %d names and values, more than %d parameters", raw, values, maxParams)
	}
	checkBound(t, raw, tree, false)
}

func fuzzJSON(t *testing.T, body []byte) {
	tree, err := parseJSON(body)
	if err != nil {
		wantRefusal(t, body, err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var std any
	if len(bytes.TrimSpace(body)) == 0 {
		std = map[string]any{}
	} else if err := dec.Decode(&std); err != nil {
		t.Fatalf("%q: accepted, but encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(any(tree), std) {
		t.Fatalf("%q: read as %#v, encoding/json reads %#v", body, tree, std)
	}
	again, err := json.Marshal(tree)
	if err != nil {
		t.Fatalf("%q: re-encode: %v", body, err)
	}
	if back, err := parseJSON(again); err != nil || !reflect.DeepEqual(back, tree) {
		t.Fatalf("%q: re-encoded as %s, which reads back as %#v (%v)", body, again, back, err)
	}
	checkBound(t, body, tree, true)
}

// FuzzParseSignature: a Paypage-Signature header is refused as
// unauthorized, or it names a timestamp and 1 to 8 SHA-256 signatures that
// survive being written out again; a body matches only when one of them is
// the HMAC of "<t>.<body>" under the secret.
func FuzzParseSignature(f *testing.F) {
	sig := strings.Repeat("ab", 32)
	for _, s := range []string{"t=1700000000,v1=" + sig, "t=1,v1=" + sig + ",v1=" + sig + ",v0=zz", "t=1,t=2,v1=" + sig,
		"v1=" + sig, "t=1", "t=-5,v1=" + sig, "t=1,v1=" + sig[:62], "t=1, v1=" + strings.ToUpper(sig), "t=99999999999999999999,v1=" + sig,
		"t=1,v1=" + sig + "," + strings.Repeat("v1="+sig+",", 9), "", ",,,", "t=1;v1=" + sig} {
		f.Add(s, "whsec_test", []byte(`{"id":"evt_1"}`))
	}
	f.Fuzz(func(t *testing.T, header, secret string, body []byte) {
		ts, sigs, err := parseSignature(header)
		if err != nil {
			var e *store.Error
			if !errors.As(err, &e) || e.Code != codeUnauthorized {
				t.Fatalf("%q: refused with %v, want unauthorized", header, err)
			}
			return
		}
		if len(sigs) < 1 || len(sigs) > 8 {
			t.Fatalf("%q: %d signatures", header, len(sigs))
		}
		rebuilt := "t=" + strconv.FormatInt(ts, 10)
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("%q: a signature of %d bytes", header, len(s))
			}
			rebuilt += ",v1=" + hex.EncodeToString(s)
		}
		ts2, sigs2, err := parseSignature(rebuilt)
		if err != nil || ts2 != ts || !reflect.DeepEqual(sigs2, sigs) {
			t.Fatalf("%q → %q does not read back (%v)", header, rebuilt, err)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(mac, "%d.", ts)
		mac.Write(body)
		want := mac.Sum(nil)
		matches := false
		for _, s := range sigs {
			matches = matches || bytes.Equal(s, want)
		}
		if got := signatureMatches([]string{secret}, ts, body, sigs); got != (matches && secret != "") {
			t.Fatalf("%q with secret %q: matches %v, want %v", header, secret, got, matches && secret != "")
		}
	})
}

// FuzzSessionPath: the language switcher only ever sends a shopper back to
// a page of a checkout session of this site, and the ids it lets through
// are session ids: whatever path a request had, switcherReturn gives "" or
// /pay/<session id>[/success|/cancel|/pending], which is its own return.
func FuzzSessionPath(f *testing.F) {
	for _, s := range []string{"/pay/cs_test_abc", "/pay/cs_live_ABC123/success", "/pay/cs_test_abc/embed",
		"/pay/cs_test_abc/../../evil", "//evil.example/pay/cs_test_a", "/pay/cs_test_a/success/", "/pay/cs_test_\xff",
		"/pay/cs_test_a%2F..", "/pay/cs_test_a\\evil", "/pay/cs_test_" + strings.Repeat("a", 70), "/locale", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		ret := switcherReturn(path)
		if ret == "" {
			return
		}
		rest, ok := strings.CutPrefix(ret, "/pay/")
		id, sub, _ := strings.Cut(rest, "/")
		if !ok || !store.IsSessionID(id) || (sub != "" && sub != "success" && sub != "cancel" && sub != "pending") {
			t.Fatalf("%q → %q: not a checkout page of this site", path, ret)
		}
		if strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Fatalf("%q → id %q is not plain ASCII", path, id)
		}
		if switcherReturn(ret) != ret {
			t.Fatalf("%q → %q, whose own return is %q", path, ret, switcherReturn(ret))
		}
	})
}
