package static

import (
	"crypto/sha512"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var fingerprinted = regexp.MustCompile(`^/static/[a-z0-9_-]+\.[0-9a-f]{8}\.[a-z]+$`)

func TestAssetsAreFingerprintedWithSRI(t *testing.T) {
	if len(All()) == 0 {
		t.Fatal("no assets embedded")
	}
	for _, a := range All() {
		if p := Path(a.Name); !fingerprinted.MatchString(p) {
			t.Errorf("%s: path %q is not fingerprinted", a.Name, p)
		}
		sum := sha512.Sum384(a.Body)
		if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); Integrity(a.Name) != want {
			t.Errorf("%s: integrity %q, want %q", a.Name, Integrity(a.Name), want)
		}
		if got, ok := Lookup(a.File); !ok || got != a {
			t.Errorf("%s: Lookup(%q) does not find it", a.Name, a.File)
		}
		if a.ContentType == "application/octet-stream" {
			t.Errorf("%s: no content type", a.Name)
		}
	}
	if _, ok := Lookup("app.css"); ok {
		t.Error("an asset is served under its unfingerprinted name")
	}
}

func TestUnknownAssetNameIsAProgrammingError(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Path of an unknown asset did not panic")
		}
	}()
	Path("nope.js")
}

// PCI DSS 4.0 6.4.3: every script that payment pages may load is listed,
// with its purpose, in docs/scripts-inventory.md.
func TestEveryScriptIsInTheInventory(t *testing.T) {
	inv, err := os.ReadFile("../docs/scripts-inventory.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range All() {
		if strings.HasSuffix(a.Name, ".js") && !strings.Contains(string(inv), "`static/"+a.Name+"`") {
			t.Errorf("static/%s is not in docs/scripts-inventory.md", a.Name)
		}
	}
}

// TestCompressedOnceOnDemand: text assets come compressed, the same bytes
// to every caller however many ask at once; the icon does not.
func TestCompressedOnceOnDemand(t *testing.T) {
	css := Get("app.css")
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() { got[i], _ = css.Compressed() })
	}
	wg.Wait()
	br, gz := css.Compressed()
	if len(br) == 0 || len(gz) == 0 || len(br) >= len(css.Body) {
		t.Fatalf("app.css: brotli %d bytes, gzip %d, of %d", len(br), len(gz), len(css.Body))
	}
	for _, b := range got {
		if &b[0] != &br[0] {
			t.Fatal("app.css was compressed more than once")
		}
	}
	if br, gz := Get("favicon.ico").Compressed(); br != nil || gz != nil {
		t.Error("favicon.ico comes compressed")
	}
	Prepare()
}
