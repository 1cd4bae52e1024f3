// Package catalog reads and writes the translation files in their one
// canonical layout (keys sorted, plural forms in CLDR order, two-space
// indent, no HTML escaping), so that tools and people produce identical diffs.
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// PluralForms lists the CLDR plural categories in CLDR's order.
var PluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// Message is one entry: Text for a simple message, Forms for a plural one.
type Message struct {
	Text  string
	Forms map[string]string
}

// IsPlural reports whether m has plural forms.
func (m Message) IsPlural() bool { return m.Forms != nil }

// File is one locale's catalog, by message id.
type File map[string]Message

// Parse reads a catalog: a flat JSON object whose values are strings or
// objects of plural forms.
func Parse(buf []byte) (File, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf, &raw); err != nil {
		return nil, err
	}
	f := make(File, len(raw))
	for id, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			f[id] = Message{Text: s}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			return nil, fmt.Errorf("%s: want a string or an object of plural forms", id)
		}
		for form := range forms {
			if !slices.Contains(PluralForms, form) {
				return nil, fmt.Errorf("%s: %q is not a CLDR plural category", id, form)
			}
		}
		f[id] = Message{Forms: forms}
	}
	return f, nil
}

// Marshal writes f in the canonical layout.
func (f File) Marshal() []byte {
	ids := make([]string, 0, len(f))
	for id := range f {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, id := range ids {
		m := f[id]
		fmt.Fprintf(&b, "  %s: ", quote(id))
		if !m.IsPlural() {
			b.WriteString(quote(m.Text))
		} else {
			b.WriteString("{\n")
			first := true
			for _, form := range PluralForms {
				text, ok := m.Forms[form]
				if !ok {
					continue
				}
				if !first {
					b.WriteString(",\n")
				}
				first = false
				fmt.Fprintf(&b, "    %s: %s", quote(form), quote(text))
			}
			b.WriteString("\n  }")
		}
		if i < len(ids)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a Go string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}
