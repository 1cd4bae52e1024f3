package handlers

import (
	"regexp"
	"strings"
	"testing"
)

// sessionPathRE is what sessionPath does by hand.
var sessionPathRE = regexp.MustCompile(`^/pay/(cs_(?:test|live)_[0-9A-Za-z]{1,64})(/[a-z]+)?/?$`)

func TestSessionPathIsTheRegexp(t *testing.T) {
	t.Parallel()
	id := "cs_test_" + strings.Repeat("aZ9", 21) // 63 characters after the prefix
	paths := []string{"", "/", "/pay", "/pay/", "/pay/cs_", "/pay/cs_test_", "/pay/cs_live_x", "/pay/cs_prod_x",
		"/pay/" + id + "x", "/pay/" + id + "xy", "/PAY/" + id, "/pay/cs_test_é", "/pay/cs_test_a.b", "/pay/cs_test_a-b/success"}
	for _, tail := range []string{"", "/", "//", "/success", "/success/", "/success//", "/Success", "/success/x",
		"/events", "/a", "/a1", ".", "/.", "?", "/success?x", "/cancel", "/pending", "/embed/"} {
		paths = append(paths, "/pay/"+id+tail, "/pay/cs_live_Q"+tail, "/pay/"+id+"xy"+tail)
	}
	for _, p := range paths {
		var wantID, wantSub string
		m := sessionPathRE.FindStringSubmatch(p)
		if m != nil {
			wantID, wantSub = m[1], m[2]
		}
		id, sub, ok := sessionPath(p)
		if ok != (m != nil) || id != wantID || sub != wantSub {
			t.Errorf("sessionPath(%q) = %q, %q, %v; the regexp %q", p, id, sub, ok, m)
		}
	}
}

func FuzzSessionPathIsTheRegexp(f *testing.F) {
	f.Add("/pay/cs_test_abc/success/")
	f.Fuzz(func(t *testing.T, p string) {
		m := sessionPathRE.FindStringSubmatch(p)
		id, sub, ok := sessionPath(p)
		if ok != (m != nil) || (ok && (id != m[1] || sub != m[2])) {
			t.Errorf("sessionPath(%q) = %q, %q, %v; the regexp %q", p, id, sub, ok, m)
		}
	})
}
