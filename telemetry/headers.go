package telemetry

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Bounds on ParseHeaders' input.
const (
	maxHeaders     = 32
	maxHeaderBytes = 8 << 10
)

// ParseHeaders parses OTLP export headers in the format of
// OTEL_EXPORTER_OTLP_HEADERS: "key1=value1,key2=value2", values
// URL-encoded, blanks around entries ignored. An empty string gives no
// headers. Errors never quote a value (it may be a credential).
func ParseHeaders(s string) (map[string]string, error) {
	if len(s) > maxHeaderBytes {
		return nil, fmt.Errorf("longer than %d bytes", maxHeaderBytes)
	}
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for i, entry := range strings.Split(s, ",") {
		if i >= maxHeaders {
			return nil, fmt.Errorf("more than %d headers", maxHeaders)
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		if !validHeaderName(k) {
			return nil, fmt.Errorf("entry %d: %q is not a header name", i+1, k)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): value is not URL-encoded correctly", i+1, k)
		}
		if strings.ContainsAny(val, "\r\n\x00") {
			return nil, fmt.Errorf("entry %d (%s): value contains a control character", i+1, k)
		}
		k = http.CanonicalHeaderKey(k)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("entry %d: header %s given twice", i+1, k)
		}
		out[k] = val
	}
	return out, nil
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return k != ""
}
