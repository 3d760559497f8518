package sqlcodec

import (
	"reflect"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 22, 5, 0, 0, 123, time.UTC)
	if got := FromNanos(Nanos(now)); !got.Equal(now) {
		t.Fatalf("time %v -> %v", now, got)
	}
	if Nanos(time.Time{}) != 0 || !FromNanos(0).IsZero() {
		t.Fatal("zero time not kept as 0")
	}
	for _, c := range []struct {
		models []string
		limits map[string]int64
	}{{nil, nil}, {[]string{"gpt-*"}, map[string]int64{"rpm": 60}}} {
		m, l, err := EncodeJSON(c.models, c.limits)
		if err != nil || m == "null" || l == "null" {
			t.Fatalf("encode %v %v: %q %q %v", c.models, c.limits, m, l, err)
		}
		var models []string
		var limits map[string]int64
		if err := DecodeJSON(m, l, &models, &limits); err != nil || !reflect.DeepEqual(models, c.models) || !reflect.DeepEqual(limits, c.limits) {
			t.Fatalf("round trip %v %v -> %v %v %v", c.models, c.limits, models, limits, err)
		}
	}
	var models []string
	var limits map[string]int64
	if DecodeJSON("{", "{}", &models, &limits) == nil {
		t.Fatal("bad JSON accepted")
	}
}
