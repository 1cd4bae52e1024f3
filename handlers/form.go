package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/paypage/paypage/store"
)

// Parameters reach the API in two encodings: Stripe's clients send forms in
// bracket notation (line_items[0][price_data][currency]=eur, metadata[k]=v,
// expand[]=x), others send JSON. Both are first read into one generic tree
// (map[string]any, []any, and leaves), which is then checked against the Go
// type it is meant for: every key must be a field of that type, and every
// leaf must fit the field. Errors name the parameter by its full bracket path,
// as Stripe does. The checked tree is re-encoded as JSON and decoded strictly,
// so both encodings reach the store as the same value.

// Bounds on what one request may carry, well above any real checkout session
// (100 line items of a dozen fields each) and far below what could hurt. A
// JSON body may hold more values, and deeper, than a form: contract and
// estimate are documents of their own (64 KiB at most, checked by the store).
const (
	maxParams     = 5000
	maxParamDepth = 12
	maxJSONValues = 50_000
	maxJSONDepth  = 64
)

// Text that reaches the store must be text: valid UTF-8 without NUL.
// PostgreSQL refuses both (a 500 where the caller deserves a 400), SQLite
// stores them, and encoding/json would silently turn invalid bytes into
// U+FFFD. Every parameter name and value, in a form, a query string or a
// JSON body, is checked while it is parsed, and refused naming it.

// errNotText refuses the parameter at path.
func errNotText(path string) error {
	return store.Invalid(path, "Invalid text in %s: it must be valid UTF-8 without NUL characters.", path)
}

// shownKey is a parameter name fit to be named in an error: bytes that are
// not text are shown as U+FFFD.
func shownKey(k string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", "\uFFFD"), "\uFFFD")
}

// sessionIDParam returns the path's :id when it is a checkout session id.
// Bytes that are not text are refused, naming id (400); any other id that
// is not a session id's shape is unknown (404), without asking the store.
func sessionIDParam(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if !store.IsText(id) {
		return "", errNotText("id")
	}
	if !store.IsSessionID(id) {
		return "", &store.Error{Code: store.ENOTFOUND, Param: "id", Message: "not found"}
	}
	return id, nil
}

// bindBody reads a POST body, form-encoded or JSON, into dst (a pointer).
// The query string of a POST carries no parameters.
func bindBody(c *fiber.Ctx, dst any) error {
	if q := c.Request().URI().QueryString(); len(q) > 0 {
		tree, err := parseForm(string(q))
		if err != nil {
			return err
		}
		if names := sortedKeys(tree); len(names) > 0 {
			return unknownParam(names[0])
		}
	}
	body := c.Body()
	mediaType, _, _ := strings.Cut(string(c.Request().Header.ContentType()), ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType == "" && len(bytes.TrimSpace(body)) > 0 {
		mediaType = fiber.MIMEApplicationForm
		if bytes.TrimSpace(body)[0] == '{' {
			mediaType = fiber.MIMEApplicationJSON
		}
	}
	var (
		tree map[string]any
		err  error
	)
	switch mediaType {
	case fiber.MIMEApplicationJSON:
		tree, err = parseJSON(body)
	case fiber.MIMEApplicationForm, "":
		tree, err = parseForm(string(body))
	default:
		return store.Invalid("", "Unsupported Content-Type %q: send application/x-www-form-urlencoded or application/json.", mediaType)
	}
	if err != nil {
		return err
	}
	return bindTree(tree, mediaType == fiber.MIMEApplicationJSON, dst)
}

// bindQuery reads the query string of a GET into dst (a pointer).
func bindQuery(c *fiber.Ctx, dst any) error {
	tree, err := parseForm(string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	return bindTree(tree, false, dst)
}

// bindTree checks tree against dst's type and decodes it into dst.
func bindTree(tree map[string]any, fromJSON bool, dst any) error {
	checked, err := conformer{fromJSON: fromJSON}.value(tree, reflect.TypeOf(dst).Elem(), "")
	if err != nil {
		return err
	}
	b, err := json.Marshal(checked)
	if err != nil {
		return fmt.Errorf("handlers: re-encode parameters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		// conform let through something the type refuses: still the caller's.
		return store.Invalid("", "Invalid parameters: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// parseJSON reads a JSON object, keeping numbers exact. It refuses what
// encoding/json would let through silently: a key given twice (the last
// would win), text that is not valid UTF-8 (it would become U+FFFD), a lone
// surrogate escape (likewise), and NUL.
func parseJSON(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &jsonParser{dec: dec, body: body}
	tok, raw, err := p.token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, store.Invalid("", "The request body must be a JSON object.")
	}
	v, err := p.value(tok, raw, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, store.Invalid("", "The request body has data after the JSON object.")
	}
	return v.(map[string]any), nil
}

// jsonParser builds the parameter tree from encoding/json's tokens, which
// keep the syntax checks of the standard decoder.
type jsonParser struct {
	dec    *json.Decoder
	body   []byte
	values int
}

// token returns the next token and the bytes it was read from (with any
// separator before it).
func (p *jsonParser) token() (json.Token, []byte, error) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, nil, store.Invalid("", "The request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if p.values++; p.values > maxJSONValues {
		return nil, nil, store.Invalid("", "The request body holds too many values (at most %d).", maxJSONValues)
	}
	return tok, p.body[start:p.dec.InputOffset()], nil
}

// value reads the value that begins with tok, at path.
func (p *jsonParser) value(tok json.Token, raw []byte, path string, depth int) (any, error) {
	switch t := tok.(type) {
	case string:
		if !jsonTextOK(t, raw) {
			return nil, errNotText(path)
		}
		return t, nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, store.Invalid(path, "The request body is nested too deeply (at most %d levels).", maxJSONDepth)
		}
		if t == '[' {
			list := []any{}
			for p.dec.More() {
				tok, raw, err := p.token()
				if err != nil {
					return nil, err
				}
				v, err := p.value(tok, raw, fmt.Sprintf("%s[%d]", path, len(list)), depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, _, err := p.token() // ]
			return list, err
		}
		obj := map[string]any{}
		for p.dec.More() {
			tok, raw, err := p.token()
			if err != nil {
				return nil, err
			}
			key := tok.(string) // the decoder allows nothing else here
			if !jsonTextOK(key, raw) {
				return nil, errNotText(subPath(path, shownKey(key)))
			}
			kpath := subPath(path, key)
			if _, dup := obj[key]; dup {
				return nil, store.Invalid(kpath, "Received the parameter %s twice in one JSON object.", kpath)
			}
			if tok, raw, err = p.token(); err != nil {
				return nil, err
			}
			if obj[key], err = p.value(tok, raw, kpath, depth+1); err != nil {
				return nil, err
			}
		}
		_, _, err := p.token() // }
		return obj, err
	}
	return tok, nil // json.Number, bool or nil
}

// jsonTextOK reports whether s, decoded from raw, is text as sent: without
// NUL, and without a U+FFFD that the decoder put in place of invalid UTF-8
// or of a lone surrogate escape (a U+FFFD sent as such, or as \ufffd, is
// fine).
func jsonTextOK(s string, raw []byte) bool {
	if strings.IndexByte(s, 0) >= 0 {
		return false
	}
	if !strings.ContainsRune(s, utf8.RuneError) {
		return true
	}
	replaced := strings.Count(s, "\uFFFD")
	sent := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	return utf8.Valid(raw) && sent >= replaced
}

// parseForm reads an application/x-www-form-urlencoded string in Stripe's
// bracket notation into a tree: a[b]=v nests maps, a[0]=v is an indexed list
// (resolved against the target type later), a[]=v appends to a list.
func parseForm(raw string) (map[string]any, error) {
	root := map[string]any{}
	n := 0
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		if n++; n > maxParams {
			return nil, store.Invalid("", "Too many parameters (at most %d).", maxParams)
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, store.Invalid("", "Invalid URL encoding in parameter name %q.", shownKey(rawKey))
		}
		if !store.IsText(key) {
			return nil, errNotText(shownKey(key))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, store.Invalid(key, "Invalid URL encoding in the value of %s.", key)
		}
		if !store.IsText(value) {
			return nil, errNotText(key)
		}
		segs, ok := splitKey(key)
		if !ok {
			return nil, store.Invalid(key, "Invalid parameter name: %s", key)
		}
		node, err := setParam(root[segs[0]], segs[1:], value, key)
		if err != nil {
			return nil, err
		}
		root[segs[0]] = node
	}
	return root, nil
}

// splitKey splits "a[b][]" into ["a", "b", ""].
func splitKey(key string) ([]string, bool) {
	name, rest, nested := strings.Cut(key, "[")
	if name == "" || strings.Contains(name, "]") {
		return nil, false
	}
	segs := []string{name}
	if !nested {
		return segs, true
	}
	rest = "[" + rest
	for rest != "" {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 || strings.Contains(rest[1:end], "[") {
			return nil, false
		}
		segs = append(segs, rest[1:end])
		rest = rest[end+1:]
	}
	return segs, len(segs) <= maxParamDepth
}

// setParam stores value at segs below node (nil, a map, a list or a leaf) and
// returns the node, created or grown. A parameter given twice, or given both
// as a value and as a container, is refused rather than silently merged.
func setParam(node any, segs []string, value, key string) (any, error) {
	conflict := func() (any, error) {
		return nil, store.Invalid(key, "Received conflicting or repeated parameter: %s", key)
	}
	if len(segs) == 0 {
		if node != nil {
			return conflict()
		}
		return value, nil
	}
	if segs[0] == "" {
		list, ok := node.([]any)
		if node != nil && !ok {
			return conflict()
		}
		if len(segs) == 1 {
			return append(list, value), nil
		}
		// Rack's rule for a[][x]=1&a[][y]=2&a[][x]=3: fill in the last
		// element until it already has the key, then start a new one.
		if last := len(list) - 1; last >= 0 && !hasParam(list[last], segs[1:]) {
			child, err := setParam(list[last], segs[1:], value, key)
			if err != nil {
				return nil, err
			}
			list[last] = child
			return list, nil
		}
		child, err := setParam(nil, segs[1:], value, key)
		if err != nil {
			return nil, err
		}
		return append(list, child), nil
	}
	m, ok := node.(map[string]any)
	if node != nil && !ok {
		return conflict()
	}
	if m == nil {
		m = map[string]any{}
	}
	child, err := setParam(m[segs[0]], segs[1:], value, key)
	if err != nil {
		return nil, err
	}
	m[segs[0]] = child
	return m, nil
}

func hasParam(node any, segs []string) bool {
	for _, seg := range segs {
		m, ok := node.(map[string]any)
		if !ok || seg == "" {
			return ok || node != nil
		}
		if node, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// conformer checks a parameter tree against a Go type and returns the tree as
// that type's JSON encoding expects it. Form leaves are strings, converted
// here by the target's kind; JSON values must already have the right kind.
type conformer struct{ fromJSON bool }

var (
	rawJSONType     = reflect.TypeFor[store.RawJSON]()
	rangeFilterType = reflect.TypeFor[rangeFilter]()
)

func (cf conformer) value(v any, t reflect.Type, path string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil, nil
	}
	// Stripe's convention: an empty form value means "not set".
	if s, ok := v.(string); ok && s == "" && !cf.fromJSON && t.Kind() != reflect.String {
		return nil, nil
	}
	if t == rawJSONType {
		return v, nil // opaque merchant data, kept as given
	}
	if t == rangeFilterType {
		if _, isObject := v.(map[string]any); !isObject {
			return cf.value(v, reflect.TypeFor[int64](), path)
		}
	}
	switch t.Kind() {
	case reflect.String:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, store.Invalid(path, "Invalid string: %s must be a string.", path)
	case reflect.Int, reflect.Int64:
		var (
			n   int64
			err error
		)
		switch x := v.(type) {
		case string:
			if cf.fromJSON {
				return nil, invalidInteger(path, x)
			}
			n, err = strconv.ParseInt(x, 10, 64)
		case json.Number:
			n, err = x.Int64()
		default:
			err = errors.New("not a number")
		}
		if err != nil {
			return nil, invalidInteger(path, fmt.Sprint(v))
		}
		return n, nil
	case reflect.Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if !cf.fromJSON && (x == "true" || x == "false") {
				return x == "true", nil
			}
		}
		return nil, store.Invalid(path, "Invalid boolean: %v (%s must be true or false).", v, path)
	case reflect.Slice:
		items, err := listItems(v, path)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(items))
		for i, item := range items {
			cv, err := cf.value(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, store.Invalid(path, "Invalid hash: %s must be an object.", path)
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			cv, err := cf.value(m[k], t.Elem(), subPath(path, k))
			if err != nil {
				return nil, err
			}
			if cv == nil && t.Elem().Kind() == reflect.String {
				cv = "" // metadata[k]= keeps the key, as an empty value
			}
			out[k] = cv
		}
		return out, nil
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, store.Invalid(path, "Invalid hash: %s must be an object.", path)
		}
		fields := jsonFields(t)
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			ft, known := fields[k]
			if !known {
				return nil, unknownParam(subPath(path, k))
			}
			cv, err := cf.value(m[k], ft, subPath(path, k))
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[k] = cv
			}
		}
		return out, nil
	case reflect.Interface:
		return v, nil
	}
	return nil, fmt.Errorf("handlers: parameter %s has unsupported type %s", path, t)
}

// listItems returns the elements of a list parameter: a JSON array, a[]=…
// appends, or a[0]=…&a[1]=… with indexes 0..n-1.
func listItems(v any, path string) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case map[string]any:
		items := make([]any, len(x))
		for k, item := range x {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || strconv.Itoa(i) != k {
				return nil, store.Invalid(subPath(path, k), "Invalid array: %s must be indexed by integers.", path)
			}
			if i >= len(x) {
				return nil, store.Invalid(subPath(path, k), "Invalid array: the indexes of %s must run from 0 without gaps.", path)
			}
			items[i] = item
		}
		return items, nil
	}
	return nil, store.Invalid(path, "Invalid array: %s must be a list.", path)
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of t's fields to their types, as
// encoding/json sees them: fields of embedded structs are promoted unless a
// shallower field has the same name.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			embedded = append(embedded, f.Type)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, et := range embedded {
		for name, ft := range jsonFields(et) {
			if _, shadowed := out[name]; !shadowed {
				out[name] = ft
			}
		}
	}
	fieldCache.Store(t, out)
	return out
}

func subPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "[" + key + "]"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Parameter errors with Stripe's precise codes.

func unknownParam(path string) error {
	return &paramError{Code: "parameter_unknown", Err: store.Invalid(path, "Received unknown parameter: %s", path)}
}

func invalidInteger(path, v string) error {
	return &paramError{Code: "parameter_invalid_integer", Err: store.Invalid(path, "Invalid integer: %s (%s must be a whole number).", v, path)}
}
