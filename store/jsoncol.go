package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Structured values that are read and written whole are kept as JSON text in
// one column: the same on both engines, and no join for data nobody filters on.

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot scan %T as JSON", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, dst)
}

func valueJSON(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Metadata is a string map (metadata, attribution).
type Metadata map[string]string

func (m *Metadata) Scan(src any) error { return scanJSON(src, m) }
func (m Metadata) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	return valueJSON(map[string]string(m))
}

// StringList is a list of strings (payment method types, origins, hosts).
type StringList []string

func (l *StringList) Scan(src any) error { return scanJSON(src, l) }
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	return valueJSON([]string(l))
}

// RawJSON is an opaque JSON document the merchant attached (contract and
// estimate data), returned as given when expanded. Nil is SQL NULL.
type RawJSON json.RawMessage

func (r *RawJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*r = nil
	case string:
		*r = RawJSON(v)
	case []byte:
		*r = append(RawJSON(nil), v...)
	default:
		return fmt.Errorf("store: cannot scan %T as JSON", src)
	}
	return nil
}
func (r RawJSON) Value() (driver.Value, error) {
	if r == nil {
		return nil, nil
	}
	return string(r), nil
}
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil // as MarshalJSON writes nil: a session's snapshot reads back as it was
		return nil
	}
	*r = append(RawJSON(nil), b...)
	return nil
}

func (c *Customer) Scan(src any) error                 { return scanJSON(src, c) }
func (c Customer) Value() (driver.Value, error)        { return valueJSON(c) }
func (a *AfterCompletion) Scan(src any) error          { return scanJSON(src, a) }
func (a AfterCompletion) Value() (driver.Value, error) { return valueJSON(a) }
func (a *Appearance) Scan(src any) error               { return scanJSON(src, a) }
func (a Appearance) Value() (driver.Value, error)      { return valueJSON(a) }
func (c *CustomText) Scan(src any) error               { return scanJSON(src, c) }
func (c CustomText) Value() (driver.Value, error)      { return valueJSON(c) }
func (n *NextAction) Scan(src any) error               { return scanJSON(src, n) }
func (n NextAction) Value() (driver.Value, error)      { return valueJSON(n) }
func (w *WalletOptions) Scan(src any) error            { return scanJSON(src, w) }
func (w WalletOptions) Value() (driver.Value, error) {
	if w == nil {
		return "{}", nil
	}
	return valueJSON(map[string]WalletOption(w))
}
