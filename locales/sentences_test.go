package locales

import (
	"strings"
	"testing"
)

func TestSentencesJoinAsTheScriptWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		in   []string
		want string
	}{
		{"en", []string{"This is a test.", "Choose what happens."}, "This is a test. Choose what happens."},
		{"ja", []string{"これはテストです。", "結果を選んでください。"}, "これはテストです。結果を選んでください。"},
		{"zh", []string{"这是测试！", "请选择。"}, "这是测试！请选择。"},
		{"ar", []string{"هذا اختبار.", "اختر."}, "هذا اختبار. اختر."},
		{"en", []string{"", "Only.", ""}, "Only."},
	} {
		if got := For(tc.code).Sentences(tc.in...); got != tc.want {
			t.Errorf("%s: Sentences(%q) = %q, want %q", tc.code, tc.in, got, tc.want)
		}
	}
	// Every locale's test-mode explainer and hint, as the pages join them.
	for _, li := range table {
		p := For(li.code)
		got := p.Sentences(p.T("testmode.explainer"), p.T("testmode.hint"))
		if li.lang == "ja" || li.lang[:2] == "zh" {
			for _, bad := range []string{"。 ", "！ ", "？ "} {
				if strings.Contains(got, bad) {
					t.Errorf("%s: %q has a space after a full-width stop", li.code, got)
				}
			}
		}
	}
}
