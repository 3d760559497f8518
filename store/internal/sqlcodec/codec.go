// Package sqlcodec holds the column encodings that the SQLite and
// PostgreSQL stores share, so both write identity rows the same way.
package sqlcodec

import (
	"encoding/json"
	"time"
)

// Nanos stores a time as Unix nanoseconds, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos is the inverse of Nanos (UTC; the zero time for 0).
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// EncodeJSON encodes a model allow-list and a limits map as JSON columns
// (empty list and object, never null).
func EncodeJSON(models []string, limits map[string]int64) (string, string, error) {
	if models == nil {
		models = []string{}
	}
	if limits == nil {
		limits = map[string]int64{}
	}
	m, err := json.Marshal(models)
	if err != nil {
		return "", "", err
	}
	l, err := json.Marshal(limits)
	if err != nil {
		return "", "", err
	}
	return string(m), string(l), nil
}

// DecodeJSON is the inverse of EncodeJSON; empty values decode to nil.
func DecodeJSON(m, l string, models *[]string, limits *map[string]int64) error {
	if err := json.Unmarshal([]byte(m), models); err != nil {
		return err
	}
	if len(*models) == 0 {
		*models = nil
	}
	if err := json.Unmarshal([]byte(l), limits); err != nil {
		return err
	}
	if len(*limits) == 0 {
		*limits = nil
	}
	return nil
}
