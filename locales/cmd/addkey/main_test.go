package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAddKeyWritesEveryFileCanonically(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"en.json": "{\"b.key\": \"B\", \"a.key\": \"A\"}",
		"ru.json": "{\"a.key\": \"А\", \"b.key\": \"Б\"}",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(dir, "", false, []string{"c.new", "New <text> & more"}); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "{{.Count}} seat", false, []string{"d.seats", "{{.Count}} seats"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"en.json": "{\n  \"a.key\": \"A\",\n  \"b.key\": \"B\",\n  \"c.new\": \"New <text> & more\",\n  \"d.seats\": {\n    \"one\": \"{{.Count}} seat\",\n    \"other\": \"{{.Count}} seats\"\n  }\n}\n",
		// Russian needs one, few, many and other: each starts out in English.
		"ru.json": "{\n  \"a.key\": \"А\",\n  \"b.key\": \"Б\",\n  \"c.new\": \"New <text> & more\",\n  \"d.seats\": {\n    \"one\": \"{{.Count}} seat\",\n    \"few\": \"{{.Count}} seats\",\n    \"many\": \"{{.Count}} seats\",\n    \"other\": \"{{.Count}} seats\"\n  }\n}\n",
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, w)
		}
	}
}

func TestAddKeyRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "en.json"), []byte(`{"a.key": "A"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"existing key":   {"a.key", "Again"},
		"undotted key":   {"key", "Text"},
		"upper-case key": {"A.Key", "Text"},
		"empty text":     {"b.key", " "},
		"missing text":   {"b.key"},
	} {
		if err := run(dir, "", false, args); err == nil {
			t.Errorf("%s: accepted %q", name, args)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "en.json"))
	if string(got) != `{"a.key": "A"}` {
		t.Errorf("a refused key still rewrote the file: %s", got)
	}
}
