package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

func TestLiveCanonicalOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://shop.example", "https://shop.example", true},
		{"https://Shop.Example/", "https://shop.example", true},
		{"HTTPS://shop.example:443", "https://shop.example", true},
		{"http://shop.example:80", "http://shop.example", true},
		{"https://shop.example:8443", "https://shop.example:8443", true},
		{"http://127.0.0.2:9999", "http://127.0.0.2:9999", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", true},
		{"", "", false},
		{"*", "", false},
		{"null", "", false},
		{"shop.example", "", false},
		{"ftp://shop.example", "", false},
		{"javascript:alert(1)", "", false},
		{"https://shop.example/path", "", false},
		{"https://shop.example?", "", false},
		{"https://shop.example#x", "", false},
		{"https://user:pw@shop.example", "", false},
		{"https://shop.example:99999x", "", false},
		{"https://shop.example; script-src *", "", false},
		{"https://shop.example,https://evil.example", "", false},
		{"https://bücher.example", "", false}, // browsers send the punycode form
		{"https://-shop.example", "", false},
	} {
		got, ok := canonicalOrigin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("canonicalOrigin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEventSignatureCheck(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_900_000_000, 0)
	sig := func(secret string, ts int64, body []byte) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "." + string(body)))
		return hex.EncodeToString(mac.Sum(nil))
	}
	ts := now.Unix()
	good := sig(secret, ts, body)
	for _, tc := range []struct {
		name   string
		header string
		at     time.Time
		ok     bool
	}{
		{"exact", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now, true},
		{"299 s later", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now.Add(299 * time.Second), true},
		{"300 s later", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now.Add(300 * time.Second), true},
		{"301 s later", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now.Add(301 * time.Second), false},
		{"301 s earlier", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now.Add(-301 * time.Second), false},
		{"spaces and another scheme", "t=" + strconv.FormatInt(ts, 10) + ", v0=abc, v1=" + good, now, true},
		{"second of two v1", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + sig("whsec_old", ts, body) + ",v1=" + good, now, true},
		{"wrong secret", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + sig("whsec_other", ts, body), now, false},
		{"signed for another time", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + sig(secret, ts-1, body), now, false},
		{"upper-case hex", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + "ZZ", now, false},
		{"short signature", "t=" + strconv.FormatInt(ts, 10) + ",v1=" + good[:62], now, false},
		{"two timestamps", "t=1,t=" + strconv.FormatInt(ts, 10) + ",v1=" + good, now, false},
		{"no v1", "t=" + strconv.FormatInt(ts, 10), now, false},
		{"no t", "v1=" + good, now, false},
		{"garbage", "hello", now, false},
	} {
		ok := func() bool {
			ts, sigs, err := parseSignature(tc.header)
			if err != nil || checkTimestamp(ts, tc.at) != nil {
				return false
			}
			return signatureMatches(secret, ts, body, sigs)
		}()
		if ok != tc.ok {
			t.Errorf("%s: accepted = %v, want %v", tc.name, ok, tc.ok)
		}
	}
	if signatureMatches("", ts, body, nil) {
		t.Error("an empty secret verified something")
	}
}
