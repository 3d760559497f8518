package limits

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed admit.lua
var admitLua string

//go:embed settle.lua
var settleLua string

var (
	admitScript  = redis.NewScript(admitLua)
	settleScript = redis.NewScript(settleLua)
)

// ErrUnavailable wraps every error of a shared backend that could not be
// reached or did not answer in time.
var ErrUnavailable = errors.New("limits: backend unavailable")

// DefaultRedisTimeout bounds one Redis call (dial, read, write).
const DefaultRedisTimeout = 250 * time.Millisecond

// Redis is the shared backend: every replica pointing at the same Redis
// shares the same limits. Each Admit and each Settle is one round trip (one
// Lua script for all of the call's keys; EVALSHA, falling back to EVAL once
// after a Redis restart). Time comes from the Redis server.
//
// Keys are plain (no cluster hash tags): use a single Redis primary (with
// replicas or Sentinel for failover), not Redis Cluster.
type Redis struct {
	c redis.UniversalClient
}

// NewRedis wraps a go-redis client; Close closes it.
func NewRedis(c redis.UniversalClient) *Redis { return &Redis{c: c} }

// NewRedisURL builds a client for url (redis:// or rediss://) with the
// options of RedisOptions. It does not connect: go-redis dials on first
// use and reconnects by itself after Redis comes back.
func NewRedisURL(url string, timeout time.Duration) (*Redis, error) {
	o, err := RedisOptions(url, timeout)
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	return &Redis{c: redis.NewClient(o)}, nil
}

// RedisURLFrom resolves the Redis URL of a configuration with redis_url
// and redis_url_env: the variable named by env when set and non-empty
// (getenv reads it), else url. Both empty is an error naming the variable.
func RedisURLFrom(url, env string, getenv func(string) string) (string, error) {
	if env != "" {
		if v := getenv(env); v != "" {
			return v, nil
		}
	}
	if url == "" {
		return "", fmt.Errorf("environment variable %s (redis_url_env) is empty and redis_url is unset", env)
	}
	return url, nil
}

// RedisOptions parses a Redis URL into go-redis client options with dial,
// read and write timeouts of timeout (DefaultRedisTimeout if 0) and one
// retry, as every Redis client of rampart uses. Its error never repeats
// the URL (url.Parse errors quote it, password included).
func RedisOptions(url string, timeout time.Duration) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("redis url is malformed (expected redis://[user:password@]host:port/db or rediss://...)")
	}
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = timeout, timeout, timeout
	o.MaxRetries = 1
	o.ContextTimeoutEnabled = true
	return o, nil
}

// wrapErr marks transport failures as ErrUnavailable; a reply error from
// Redis itself (e.g. a key of the wrong type) is reported as is.
func wrapErr(err error) error {
	var re redis.Error
	if errors.As(err, &re) && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("limits: redis replied: %v", err)
	}
	return fmt.Errorf("%w: redis: %v", ErrUnavailable, err)
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return wrapErr(err)
	}
	return nil
}

// Close implements Backend.
func (r *Redis) Close() error { return r.c.Close() }

func usString(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', -1, 64)
}

// Admit implements Backend in one round trip.
func (r *Redis) Admit(ctx context.Context, checks []Check, out []Status) (bool, error) {
	if len(out) < len(checks) {
		return false, ErrBadCheck
	}
	if len(checks) == 0 {
		return true, nil
	}
	keys := make([]string, len(checks))
	args := make([]any, 0, 4*len(checks))
	for i := range checks {
		c := &checks[i]
		if err := c.validate(false); err != nil {
			return false, err
		}
		keys[i] = c.Key
		switch c.Kind {
		case Rate:
			args = append(args, "r", usString(c.Interval), c.Capacity, c.Cost)
		case Concurrency:
			lease := c.Lease
			if lease <= 0 {
				lease = DefaultLease
			}
			args = append(args, "c", c.Limit, lease.Milliseconds(), c.Member)
		case Counter:
			args = append(args, "n", c.Limit, c.Cost, c.Expires.UnixMilli())
		}
	}
	res, err := admitScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return false, wrapErr(err)
	}
	if len(res) != 1+4*len(checks) {
		return false, fmt.Errorf("limits: redis: unexpected reply of %d values", len(res))
	}
	for i := range checks {
		v := res[1+4*i:]
		out[i] = Status{OK: v[0] == 1, RetryAfter: time.Duration(v[1]) * time.Microsecond,
			Reset: time.Duration(v[2]) * time.Microsecond, Remaining: v[3]}
	}
	return res[0] == 1, nil
}

// Settle implements Backend in one round trip.
func (r *Redis) Settle(ctx context.Context, checks []Check) error {
	if len(checks) == 0 {
		return nil
	}
	keys := make([]string, len(checks))
	args := make([]any, 0, 3*len(checks))
	for i := range checks {
		c := &checks[i]
		if err := c.validate(true); err != nil {
			return err
		}
		keys[i] = c.Key
		switch c.Kind {
		case Rate:
			args = append(args, "r", usString(c.Interval), c.Cost)
		case Concurrency:
			args = append(args, "c", c.Member, 0)
		case Counter:
			args = append(args, "n", c.Cost, c.Expires.UnixMilli())
		}
	}
	if err := settleScript.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return wrapErr(err)
	}
	return nil
}
