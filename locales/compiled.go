package locales

import (
	"regexp"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Messages with placeholders ({{.Merchant}}) or plural forms would go
// through go-i18n and text/template on every call: a template execution,
// a map and a few buffers each, a tenth of a checkout page's CPU. Most of
// them are nothing but text around {{.Name}} placeholders in every
// catalog, so each is compiled once per printer (and per count, for plural
// messages) into its pieces, from what go-i18n itself renders with a
// marker for every placeholder: the choice of catalog (the locale's, else
// English), of plural form and of fallbacks stays go-i18n's, and the result
// is the same string by construction. Anything else (a value that is not a
// string, a placeholder the caller gave no value for, a count outside
// maxCompiledCount) takes the go-i18n path as before.

// maxCompiledCount bounds the counts compiled per plural message and
// printer; larger ones are rare (and go through go-i18n).
const maxCompiledCount = 128

// simplePlaceholderRE is the one template action compiled messages may hold.
var simplePlaceholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// simpleMessages maps each templated message id whose every form, in every
// catalog, is text and {{.Name}} placeholders only, to the names it uses
// anywhere. Built by load.
var simpleMessages map[string][]string

// noteSimple records, while the catalogs load, whether msg (of any
// locale) keeps its id compilable, and the placeholder names it uses.
// notSimple collects the ids that are not.
func noteSimple(msg *i18n.Message, names map[string]map[string]bool, notSimple map[string]bool) {
	if msg.LeftDelim != "" || msg.RightDelim != "" {
		notSimple[msg.ID] = true
		return
	}
	for _, src := range []string{msg.Zero, msg.One, msg.Two, msg.Few, msg.Many, msg.Other} {
		rest := simplePlaceholderRE.ReplaceAllString(src, "")
		if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") || strings.Contains(src, marker) {
			notSimple[msg.ID] = true
			return
		}
		for _, m := range simplePlaceholderRE.FindAllStringSubmatch(src, -1) {
			if names[msg.ID] == nil {
				names[msg.ID] = map[string]bool{}
			}
			names[msg.ID][m[1]] = true
		}
	}
}

// marker brackets a placeholder's name in the probe rendering. No catalog
// holds it (noteSimple refuses one that does).
const marker = "\x00"

// compiled is a message of one printer (and one count) cut at its
// placeholders: text[0], value of names[0], text[1], … text[len(names)].
type compiled struct {
	text  []string
	names []string
	size  int // the bytes of text
}

// compiledKey names a compiled message: count is -1 for T's (no count).
type compiledKey struct {
	id    string
	count int
}

// compiledMessage returns id compiled for p and count (-1: none), or nil
// when it cannot be. Compiled on first use and kept.
func (p *Printer) compiledMessage(id string, count int) *compiled {
	names, ok := simpleMessages[id]
	if !ok || count < -1 || count > maxCompiledCount {
		return nil
	}
	key := compiledKey{id, count}
	if v, ok := p.compiled.Load(key); ok {
		return v.(*compiled)
	}
	probe := make(map[string]any, len(names))
	for _, name := range names {
		probe[name] = marker + name + marker
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: probe}
	if count >= 0 {
		cfg.PluralCount = count
	}
	s, err := p.localizer.Localize(cfg)
	var c *compiled
	if s != "" || err == nil {
		c = cut(s)
	}
	v, _ := p.compiled.LoadOrStore(key, c)
	return v.(*compiled)
}

// cut splits a probe rendering at its markers (nil if it is not one).
func cut(s string) *compiled {
	parts := strings.Split(s, marker)
	if len(parts)%2 == 0 {
		return nil
	}
	c := &compiled{}
	for i, part := range parts {
		if i%2 == 1 {
			c.names = append(c.names, part)
			continue
		}
		c.text = append(c.text, part)
		c.size += len(part)
	}
	return c
}

// render fills c's placeholders from data; ok is false when a value is
// missing or not a string (go-i18n's text/template then decides).
func (c *compiled) render(data map[string]any, count string) (string, bool) {
	if len(c.names) == 0 {
		return c.text[0], true
	}
	var vals [4]string
	values := vals[:0]
	size := c.size
	for _, name := range c.names {
		var v string
		if name == "Count" && count != "" {
			v = count
		} else {
			s, ok := data[name].(string)
			if !ok {
				return "", false
			}
			v = s
		}
		values = append(values, v)
		size += len(v)
	}
	var b strings.Builder
	b.Grow(size)
	for i, v := range values {
		b.WriteString(c.text[i])
		b.WriteString(v)
	}
	b.WriteString(c.text[len(values)])
	return b.String(), true
}
