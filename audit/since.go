package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxDays bounds "<n>d" so that the duration cannot overflow.
const maxDays = 100 * 366

// ParseTime reads a point in time for --since / --until: an RFC 3339 time
// ("2025-01-02T15:04:05Z"), a date ("2025-01-02", midnight UTC), or an age
// before now: a Go duration ("24h", "90m") optionally preceded by days
// ("7d", "1d12h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time (want e.g. 24h, 7d, 2025-01-02 or an RFC 3339 time)")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	age, err := parseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a duration (24h, 7d), a date (2025-01-02) or an RFC 3339 time", s)
	}
	return now.Add(-age), nil
}

func parseAge(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > maxDays {
			return 0, fmt.Errorf("bad day count")
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration")
	}
	if d > time.Duration(1<<62)-days {
		return 0, fmt.Errorf("duration too large")
	}
	return days + d, nil
}
