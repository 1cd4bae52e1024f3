package handlers

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
)

// The cookie encoder writes what securecookie writes: values that the
// codecs of the newest pair and of a jar that keeps it as an older pair
// decode, of securecookie's length and layout ("time|value|mac"), with a
// fresh IV each time; without a block key, unencrypted as securecookie
// does; and it stands aside where securecookie must answer.
func TestCookieEncoderIsSecurecookies(t *testing.T) {
	t.Parallel()
	newest := pair(1)
	for _, tc := range []struct {
		name string
		keys [][]byte
	}{
		{"encrypted", newest},
		{"hash key only", [][]byte{newest[0], nil}},
	} {
		jar := newCookieJar(tc.keys)
		if jar.enc == nil {
			t.Fatalf("%s: no encoder", tc.name)
		}
		rotated := newCookieJar(append(pair(7), tc.keys...))
		for _, data := range []cookieData{{}, {CSRF: "tok"}, {Locale: "pt-BR", CSRF: strings.Repeat("x", 43)}, {Locale: "<&>\"é"}} {
			got, ok := jar.enc.encode(cookieName, data)
			if !ok {
				t.Fatalf("%s: %+v: not encoded", tc.name, data)
			}
			want, err := securecookie.EncodeMulti(cookieName, data, jar.codecs...)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("%s: %+v: %d bytes, securecookie %d", tc.name, data, len(got), len(want))
			}
			raw, err := base64.URLEncoding.DecodeString(got)
			if err != nil || bytes.Count(raw[:len(raw)-32], []byte("|")) != 2 {
				t.Errorf("%s: %+v: not time|value|mac: %q", tc.name, data, raw)
			}
			for _, j := range []*cookieJar{jar, rotated} {
				var back cookieData
				if err := securecookie.DecodeMulti(cookieName, got, &back, j.codecs...); err != nil || back != data {
					t.Errorf("%s: %+v: decoded %+v, %v", tc.name, data, back, err)
				}
			}
			if again, _ := jar.enc.encode(cookieName, data); again == got && tc.keys[1] != nil {
				t.Errorf("%s: the same value twice: the IV is not fresh", tc.name)
			}
		}
		if _, ok := jar.enc.encode(cookieName, cookieData{Locale: strings.Repeat("x", maxCookieLength)}); ok {
			t.Errorf("%s: a value over securecookie's length encoded", tc.name)
		}
	}
	if newCookieJar([][]byte{newest[0], []byte("not an AES key")}).enc != nil {
		t.Error("an encoder for a block key securecookie refuses")
	}
}
