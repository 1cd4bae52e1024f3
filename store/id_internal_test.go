package store

import (
	"regexp"
	"strings"
	"testing"
)

// sessionIDRE is the definition IsSessionID matches by hand.
var sessionIDRE = regexp.MustCompile(`^cs_(test|live)_[0-9A-Za-z]{1,64}$`)

func TestIsSessionIDIsTheRegexp(t *testing.T) {
	t.Parallel()
	ids := []string{"", "cs_", "cs_test_", "cs_live_", "cs_prod_a", "CS_test_a", "cs_test_a", "cs_live_Z9",
		"cs_test_" + strings.Repeat("a", 64), "cs_test_" + strings.Repeat("a", 65), "cs_test_a/b", "cs_test_a ",
		" cs_test_a", "cs_test_a\n", "cs_test_é", "cs_test_a_b", "cs_test_a-b", "xcs_test_a", "cs_testa", newID("cs_test_")}
	for _, id := range ids {
		if got, want := IsSessionID(id), sessionIDRE.MatchString(id); got != want {
			t.Errorf("IsSessionID(%q) = %v, the regexp %v", id, got, want)
		}
	}
}
