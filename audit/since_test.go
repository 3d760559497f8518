package audit

import (
	"strings"
	"testing"
	"time"
)

var sinceNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"24h", sinceNow.Add(-24 * time.Hour), true},
		{"90m", sinceNow.Add(-90 * time.Minute), true},
		{"7d", sinceNow.AddDate(0, 0, -7), true},
		{"1d12h", sinceNow.Add(-36 * time.Hour), true},
		{" 0s ", sinceNow, true},
		{"2025-01-02", time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), true},
		{"2025-01-02T03:04:05Z", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), true},
		{"2025-01-02T03:04:05.5+02:00", time.Date(2025, 1, 2, 1, 4, 5, 5e8, time.UTC), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"-5h", time.Time{}, false},
		{"1d-1h", time.Time{}, false},
		{"d", time.Time{}, false},
		{"-1d", time.Time{}, false},
		{"99999999d", time.Time{}, false},
		{"24", time.Time{}, false},
		{"2025-13-01", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, sinceNow)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !got.Equal(tt.want) {
			t.Errorf("%q = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"24h", "7d", "1d12h", "2025-01-02", "2025-01-02T03:04:05Z", "-5h", "99999999d", "36500d2562047h", "1d+5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, sinceNow)
		if err != nil {
			return
		}
		if _, perr := parseAge(strings.TrimSpace(s)); perr == nil && got.After(sinceNow) {
			t.Fatalf("%q: an age gave a time after now: %v", s, got)
		}
	})
}
