// Package static holds the pages' CSS, JavaScript and images, embedded in the
// binary and served under content-fingerprinted names, so that browsers may
// cache them forever and a new release never meets a stale copy.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed *.css *.js *.svg *.ico
var files embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

// Asset is one embedded file.
type Asset struct {
	Name        string // logical name, e.g. "app.css"
	File        string // fingerprinted name, e.g. "app.3f2a9c1b.css"
	Integrity   string // Subresource Integrity value, "sha384-…"
	ContentType string
	Body        []byte

	once     sync.Once
	brotli   []byte
	gzipped  []byte
	compress bool // a type that shrinks (text, scripts, SVG; not images)
}

// Compressed returns Body in brotli and in gzip, each at the format's best
// level, compressed on the first call and kept; nil, nil for types that do
// not shrink. Not at start: brotli's best level takes a third of a second
// for the assets, which every CLI command paid before doing its work.
// `paypage serve` calls Prepare before it listens.
func (a *Asset) Compressed() (br, gz []byte) {
	if !a.compress {
		return nil, nil
	}
	a.once.Do(func() { a.brotli, a.gzipped = compress(a.Body) })
	return a.brotli, a.gzipped
}

// Prepare compresses every asset now, so that no request waits for it.
func Prepare() {
	for _, a := range byName {
		a.Compressed()
	}
}

var (
	byName = map[string]*Asset{}
	byFile = map[string]*Asset{}
)

func init() {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		sri := sha512.Sum384(body)
		a := &Asset{
			Name:        e.Name(),
			File:        strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:4]) + ext,
			Integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
			ContentType: mime.TypeByExtension(ext),
			Body:        body,
		}
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		a.compress = Compressible(a.ContentType)
		byName[a.Name] = a
		byFile[a.File] = a
	}
}

// Get returns the asset with the logical name. An unknown name is a
// programming error (names are constants in the views), so it panics.
func Get(name string) *Asset {
	a, ok := byName[name]
	if !ok {
		panic(fmt.Sprintf("static: no asset %q", name))
	}
	return a
}

// Path returns the URL path of the named asset, e.g. "/static/app.3f2a9c1b.css".
func Path(name string) string { return Prefix + Get(name).File }

// Integrity returns the SRI value of the named asset.
func Integrity(name string) string { return Get(name).Integrity }

// Lookup finds an asset by its fingerprinted file name, as requested.
func Lookup(file string) (*Asset, bool) {
	a, ok := byFile[file]
	return a, ok
}

// All returns every asset, sorted by name, for tests and the scripts
// inventory.
func All() []*Asset {
	out := make([]*Asset, 0, len(byName))
	for _, a := range byName {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Compressible reports whether a response of the content type is worth
// compressing: text (HTML, CSS), JavaScript, JSON and SVG.
func Compressible(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return strings.HasPrefix(ct, "text/") || ct == "application/javascript" || ct == "application/json" ||
		ct == "image/svg+xml" || strings.HasSuffix(ct, "+json")
}

// compress returns body in brotli and in gzip, each at its best level: paid
// once per asset, not per request.
func compress(body []byte) (br, gz []byte) {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := w.Write(body); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	br = bytes.Clone(b.Bytes())
	b.Reset()
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		panic(err)
	}
	if _, err := zw.Write(body); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return br, b.Bytes()
}
