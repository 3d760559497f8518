package identity

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go duration ("36h", "90m") or a number of days
// ("30d"). It rejects negative values and anything above 100 years.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > 36500 {
			return 0, fmt.Errorf("%w: invalid duration %q (e.g. 30d, 24h)", ErrInvalid, s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil || d < 0 || d > 36500*24*time.Hour {
			return 0, fmt.Errorf("%w: invalid duration %q (e.g. 30d, 24h)", ErrInvalid, s)
		}
	}
	return d, nil
}
