package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

func TestEventSignatureCheck(t *testing.T) {
	t.Parallel()
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
			return signatureMatches([]string{secret}, ts, body, sigs)
		}()
		if ok != tc.ok {
			t.Errorf("%s: accepted = %v, want %v", tc.name, ok, tc.ok)
		}
	}
	if signatureMatches([]string{""}, ts, body, nil) {
		t.Error("an empty secret verified something")
	}
	// During a roll's overlap the merchant accepts two secrets: either verifies.
	_, sigs, _ := parseSignature("t=" + strconv.FormatInt(ts, 10) + ",v1=" + sig("whsec_old", ts, body))
	if !signatureMatches([]string{secret, "whsec_old"}, ts, body, sigs) || signatureMatches([]string{secret}, ts, body, sigs) {
		t.Error("the previous secret is not accepted exactly while it is among the merchant's secrets")
	}
}
