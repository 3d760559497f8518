package store

import (
	"encoding/json"
	"math"
	"strconv"
	"unsafe"

	"github.com/rampart-ai/rampart/engine"
)

// EncodeDecisions is the decisions column: the JSON encoding/json gives
// outcomes (a non-nil empty list is "[]"), byte for byte, written without
// reflection (every audit record carries one outcome per layer and phase,
// so this runs for every request). Strings that need escaping, and scores
// JSON cannot hold (NaN, ±Inf: the same error as json.Marshal), go through
// encoding/json itself.
func EncodeDecisions(outcomes []engine.Outcome) (string, error) {
	if outcomes == nil {
		return "null", nil
	}
	size := 2
	for i := range outcomes {
		o := &outcomes[i]
		size += 96 + len(o.Layer) + len(o.Phase) + len(o.Action) + len(o.Rule) + len(o.Code) + len(o.Error)
		for j := range o.Findings {
			f := &o.Findings[j]
			size += 128 + len(f.Layer) + len(f.Rule) + len(f.Severity) + len(f.Entity) + len(f.Text)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i := range outcomes {
		o := &outcomes[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"layer":`...)
		b = appendString(b, o.Layer)
		b = append(b, `,"phase":`...)
		b = appendString(b, string(o.Phase))
		b = append(b, `,"action":`...)
		b = appendString(b, o.Action)
		if o.Monitor {
			b = append(b, `,"monitor":true`...)
		}
		if o.Rule != "" {
			b = append(b, `,"rule":`...)
			b = appendString(b, o.Rule)
		}
		if o.Code != "" {
			b = append(b, `,"code":`...)
			b = appendString(b, o.Code)
		}
		if o.Error != "" {
			b = append(b, `,"error":`...)
			b = appendString(b, o.Error)
		}
		if len(o.Findings) > 0 {
			b = append(b, `,"findings":[`...)
			for j := range o.Findings {
				if j > 0 {
					b = append(b, ',')
				}
				var ok bool
				if b, ok = appendFinding(b, &o.Findings[j]); !ok {
					return marshalString(outcomes)
				}
			}
			b = append(b, ']')
		}
		b = append(b, `,"duration_ns":`...)
		b = strconv.AppendInt(b, int64(o.Duration), 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	// b is this function's own and never written again: the string can
	// share its bytes (as strings.Builder's does) instead of copying them.
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// appendFinding appends f's JSON; false when its score is not finite.
func appendFinding(b []byte, f *engine.Finding) ([]byte, bool) {
	b = append(b, `{"layer":`...)
	b = appendString(b, f.Layer)
	b = append(b, `,"rule":`...)
	b = appendString(b, f.Rule)
	if f.Severity != "" {
		b = append(b, `,"severity":`...)
		b = appendString(b, string(f.Severity))
	}
	if f.Score != 0 {
		if math.IsNaN(f.Score) || math.IsInf(f.Score, 0) {
			return b, false
		}
		b = append(b, `,"score":`...)
		b = appendFloat(b, f.Score)
	}
	b = append(b, `,"message_index":`...)
	b = strconv.AppendInt(b, int64(f.Message), 10)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(f.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(f.End), 10)
	if f.Entity != "" {
		b = append(b, `,"entity":`...)
		b = appendString(b, f.Entity)
	}
	if f.Text != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, f.Text)
	}
	return append(b, '}'), true
}

// appendFloat formats a finite float64 as encoding/json does: shortest
// representation, exponent form below 1e-6 and from 1e21 on, with a
// one-digit negative exponent written without its leading zero.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string. Printable ASCII other than the
// quote, the backslash and the HTML characters encoding/json escapes (<, >,
// &) is copied as it is; anything else is encoded by encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// marshalString is json.Marshal(v) as a string.
func marshalString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
