// Command addkey adds a message to every translation file, with its English
// text, so that the catalogs keep the same key set; translators then replace
// the English in each locale (TestNoUntranslatedSentences points at them).
// With -fmt it only rewrites the files in their canonical layout.
//
//	go run ./locales/cmd/addkey checkout.gift_note "Add a gift note"
//	go run ./locales/cmd/addkey -one "{{.Count}} seat" checkout.seats "{{.Count}} seats"
//	go run ./locales/cmd/addkey -fmt
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/paypage/paypage/locales"
	"github.com/paypage/paypage/locales/internal/catalog"
)

var validKey = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

func main() {
	dir := flag.String("dir", "", "translations directory (default: locales/translations or translations, whichever exists)")
	one := flag.String("one", "", "English singular form; makes KEY a plural message whose TEXT is the other form")
	onlyFmt := flag.Bool("fmt", false, "only rewrite every file in the canonical layout")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: addkey [-dir DIR] [-one SINGULAR] KEY TEXT\n       addkey [-dir DIR] -fmt")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*dir, *one, *onlyFmt, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "addkey:", err)
		os.Exit(1)
	}
}

func run(dir, one string, onlyFmt bool, args []string) error {
	if dir == "" {
		for _, d := range []string{"locales/translations", "translations"} {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				dir = d
				break
			}
		}
		if dir == "" {
			return errors.New("no translations directory here; pass -dir")
		}
	}
	var key, text string
	if !onlyFmt {
		if len(args) != 2 {
			return errors.New("want KEY and TEXT")
		}
		key, text = args[0], args[1]
		if !validKey.MatchString(key) {
			return fmt.Errorf("key %q: use dotted lower-case ids such as checkout.pay_button", key)
		}
		if strings.TrimSpace(text) == "" {
			return errors.New("TEXT is empty")
		}
	}

	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	slices.Sort(paths)
	files := map[string]catalog.File{}
	for _, path := range paths {
		buf, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := catalog.Parse(buf)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, exists := f[key]; !onlyFmt && exists {
			return fmt.Errorf("%s already has %s", path, key)
		}
		files[path] = f
	}
	// Check everything before writing anything, so a failure leaves no file half-updated.
	for _, path := range paths {
		f := files[path]
		if !onlyFmt {
			code := strings.TrimSuffix(filepath.Base(path), ".json")
			f[key] = newMessage(code, one, text)
		}
	}
	for _, path := range paths {
		if err := os.WriteFile(path, files[path].Marshal(), 0o644); err != nil {
			return err
		}
	}
	if !onlyFmt {
		fmt.Printf("added %s to %d files in %s\n", key, len(paths), dir)
	}
	return nil
}

// newMessage builds the entry for one locale: plain text, or every plural
// category that locale needs, starting out in English.
func newMessage(code, one, other string) catalog.Message {
	if one == "" {
		return catalog.Message{Text: other}
	}
	forms := map[string]string{}
	cats := []string{"one", "other"}
	if code != locales.Default {
		cats = locales.PluralCategories(code)
	}
	for _, c := range cats {
		if c == "one" {
			forms[c] = one
		} else {
			forms[c] = other
		}
	}
	return catalog.Message{Forms: forms}
}
