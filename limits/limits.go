package limits

import (
	"context"
	"errors"
	"math"
	"time"
)

// Kind is the kind of a check.
type Kind uint8

const (
	// Rate is a GCRA check: Cost units against Interval per unit and
	// Capacity units of burst.
	Rate Kind = iota + 1
	// Concurrency admits while fewer than Limit holders are in flight.
	Concurrency
	// Counter admits while the window's sum plus Cost stays within Limit.
	Counter
)

func (k Kind) String() string {
	switch k {
	case Rate:
		return "rate"
	case Concurrency:
		return "concurrency"
	case Counter:
		return "counter"
	}
	return "unknown"
}

// MaxKeyLen bounds a check's key; longer keys are rejected.
const MaxKeyLen = 512

// Check is one limit applied to one key. Which fields matter depends on Kind.
type Check struct {
	Kind Kind
	// Key identifies the limited thing (built by the caller, e.g. with Key).
	Key string
	// Interval (Rate) is the time one unit of cost earns back: period/limit,
	// rounded up (see IntervalFor).
	Interval time.Duration
	// Capacity (Rate) is the most units admitted at once after an idle
	// period (the burst).
	Capacity int64
	// Limit (Concurrency, Counter) is the most holders / the window's sum.
	Limit int64
	// Cost is the units this request takes (Rate, Counter). In Settle it is
	// a signed adjustment: positive charges without denying, negative refunds.
	Cost int64
	// Member (Concurrency) identifies the holder, e.g. the request id, so
	// that Settle releases exactly its slot.
	Member string
	// Lease (Concurrency) bounds how long a slot is held if it is never
	// released (a replica that crashed mid-request); used by shared backends.
	Lease time.Duration
	// Expires (Counter) is the end of the window; the count resets there.
	Expires time.Time
}

// Status is the outcome of one check.
type Status struct {
	// OK is true when the check would admit the request.
	OK bool
	// RetryAfter, when !OK, is how long until the check could pass (0 if it
	// never can, e.g. a cost above Capacity).
	RetryAfter time.Duration
	// Reset is how long until the limit is fully replenished (Rate) or the
	// window ends (Counter); 0 for Concurrency.
	Reset time.Duration
	// Remaining is how many more units (requests, tokens, slots) the key
	// could take right now after this request.
	Remaining int64
}

// Backend keeps limiter state. Implementations are safe for concurrent use.
type Backend interface {
	// Admit evaluates every check and, only if all pass, charges them all.
	// out must have len(checks) entries; it receives each check's status
	// (also when another check failed). It returns whether all passed.
	Admit(ctx context.Context, checks []Check, out []Status) (bool, error)
	// Settle applies later adjustments without denying: Rate and Counter
	// add Cost (may be negative), Concurrency releases Member's slot.
	Settle(ctx context.Context, checks []Check) error
	// Close releases the backend's resources.
	Close() error
}

// Errors for malformed checks.
var (
	ErrBadCheck = errors.New("limits: invalid check")
)

// IntervalFor is the GCRA emission interval for limit units per period,
// rounded up so that the limit is never exceeded by rounding.
func IntervalFor(limit int64, period time.Duration) time.Duration {
	if limit <= 0 || period <= 0 {
		return 0
	}
	iv := (int64(period) + limit - 1) / limit
	if iv < 1 {
		iv = 1
	}
	return time.Duration(iv)
}

// validate checks one check's fields for Admit (settle=false) or Settle.
func (c *Check) validate(settle bool) error {
	if c.Key == "" || len(c.Key) > MaxKeyLen {
		return ErrBadCheck
	}
	switch c.Kind {
	case Rate:
		if c.Interval <= 0 || (!settle && (c.Capacity <= 0 || c.Cost < 0)) {
			return ErrBadCheck
		}
	case Concurrency:
		if c.Member == "" || (!settle && c.Limit <= 0) {
			return ErrBadCheck
		}
	case Counter:
		if c.Expires.IsZero() || (!settle && (c.Limit <= 0 || c.Cost < 0)) {
			return ErrBadCheck
		}
	default:
		return ErrBadCheck
	}
	return nil
}

// mulSat multiplies non-negative a and b, saturating at MaxInt64.
func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// addSat adds a and b, saturating at the int64 range.
func addSat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// gcra evaluates one GCRA admission at now for cost units (all in ns).
// It returns the new theoretical arrival time (to store if admitted) and the
// check's status.
func gcra(tat, now, interval, capacity, cost int64) (int64, Status) {
	if tat < now {
		tat = now
	}
	ntat := addSat(tat, mulSat(cost, interval))
	horizon := addSat(now, mulSat(capacity, interval))
	if ntat > horizon {
		st := Status{Reset: time.Duration(tat - now)}
		if cost <= capacity {
			st.RetryAfter = time.Duration(ntat - horizon)
		}
		return tat, st
	}
	return ntat, Status{OK: true, Reset: time.Duration(ntat - now), Remaining: (horizon - ntat) / interval}
}

// counter evaluates a fixed-window counter holding used units.
func counter(used, limit, cost int64, untilEnd time.Duration) Status {
	if used >= limit || cost > limit-used {
		return Status{RetryAfter: untilEnd, Reset: untilEnd, Remaining: max(limit-used, 0)}
	}
	return Status{OK: true, Reset: untilEnd, Remaining: limit - used - cost}
}

// DefaultLease is how long a shared backend keeps a concurrency slot that
// is never released (its replica crashed), when Check.Lease is 0.
const DefaultLease = 15 * time.Minute
