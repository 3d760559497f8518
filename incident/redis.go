package incident

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed score.lua
var scoreLua string

var scoreScript = redis.NewScript(scoreLua)

// Scores is what the Responder needs from a scorer: Scorer (memory, the
// default) and RedisScorer (shared by every replica) implement it. It is
// used by one goroutine at a time.
type Scores interface {
	// Add records violations of the given kinds for id and returns the
	// thresholds of id's scope that its score now reaches and that are
	// not in their cooldown for id (see Scorer.Add).
	Add(id Subject, kinds []string, now time.Time) []Firing
	// Len is the number of identities kept in this process's memory.
	Len() int
}

var (
	_ Scores = (*Scorer)(nil)
	_ Scores = (*RedisScorer)(nil)
)

// DefaultRedisPrefix starts the Redis keys of incident scores.
const DefaultRedisPrefix = "rampart:incident:"

// redisRetry is how long a RedisScorer scores in memory after a Redis
// failure before it tries Redis again.
const redisRetry = time.Second

// redisWarnEvery bounds the warnings logged about Redis failures.
const redisWarnEvery = time.Minute

// RedisScorer keeps the scores in Redis, so every replica pointing at the
// same Redis (and prefix) adds to one score per identity and a threshold
// fires once per cooldown across all of them. Each Add is one round trip:
// a Lua script applies the decay on the Redis server's clock, adds the
// points and counts, checks the scope's thresholds against their
// cooldowns (kept in Redis too) and sets the key's expiry, so Redis
// forgets an identity once its score has decayed below forgetBelow and its
// cooldowns are over.
//
// When Redis fails (unreachable, timeout, error reply), the violation is
// scored by an in-memory Scorer instead, the failure is reported to the
// error callback, and Redis is tried again after a second. It is not safe
// for concurrent use (the responder's single worker owns it).
type RedisScorer struct {
	c        redis.UniversalClient
	cfg      Config
	prefix   string
	timeout  time.Duration
	fallback *Scorer // scores while Redis fails; also the thresholds per scope
	onErr    func(error)
	retryAt  time.Time
	halfLife string // half-life in µs, as the script's argument
	wall     func() time.Time
}

// NewRedisScorer returns a scorer for cfg (after Fill and Validate) on c,
// with keys starting with cfg.RedisPrefix. onErr (may be nil) is called
// with each Redis failure; the caller counts or logs it. The caller closes
// c.
func NewRedisScorer(c redis.UniversalClient, cfg Config, onErr func(error)) *RedisScorer {
	s := &RedisScorer{c: c, cfg: cfg, prefix: cfg.RedisPrefix, timeout: cfg.RedisTimeout,
		fallback: NewScorer(cfg), onErr: onErr, wall: time.Now,
		halfLife: strconv.FormatFloat(float64(cfg.HalfLife)/float64(time.Microsecond), 'f', -1, 64)}
	if s.prefix == "" {
		s.prefix = DefaultRedisPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRedisTimeout
	}
	return s
}

// Len is the number of identities scored in memory while Redis failed
// (the identities in Redis are not counted).
func (s *RedisScorer) Len() int { return s.fallback.Len() }

// Add implements Scores: in Redis, or in memory while Redis fails.
func (s *RedisScorer) Add(id Subject, kinds []string, now time.Time) []Firing {
	if wall := s.wall(); wall.Before(s.retryAt) {
		return s.fallback.Add(id, kinds, now)
	}
	// Dial, write and read each have the timeout; the call as a whole is
	// bounded by three of them.
	ctx, cancel := context.WithTimeout(context.Background(), 3*s.timeout)
	out, err := s.AddRedis(ctx, id, kinds)
	cancel()
	if err != nil {
		s.retryAt = s.wall().Add(redisRetry)
		if s.onErr != nil {
			s.onErr(err)
		}
		return s.fallback.Add(id, kinds, now)
	}
	return out
}

// Key is the Redis key of id's score: the prefix, the scope, and a
// SHA-256 of the tenant and value (so no caller-controlled byte shapes the
// key, and keys are of fixed length).
func (s *RedisScorer) Key(id Subject) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(id.Tenant)))
	h.Write(n[:])
	h.Write([]byte(id.Tenant))
	h.Write([]byte(id.Value))
	sum := h.Sum(nil)
	return s.prefix + id.Scope + ":" + hex.EncodeToString(sum[:16])
}

// AddRedis scores id's violations in Redis in one round trip, on the
// Redis server's clock, and returns the thresholds it reaches. It never
// falls back to memory.
func (s *RedisScorer) AddRedis(ctx context.Context, id Subject, kinds []string) ([]Firing, error) {
	points := 0.0
	args := make([]any, 4, 4+len(kinds)+3*len(s.fallback.byScope[id.Scope]))
	for _, k := range kinds {
		if p := s.cfg.Severities[k]; p > 0 {
			points += p
			args = append(args, k)
		}
	}
	if points <= 0 {
		return nil, nil
	}
	args[0], args[1], args[2], args[3] = s.halfLife, strconv.FormatFloat(forgetBelow, 'g', -1, 64),
		strconv.FormatFloat(points, 'g', -1, 64), len(args)-4
	for _, i := range s.fallback.byScope[id.Scope] {
		t := &s.cfg.Thresholds[i]
		args = append(args, t.Name, strconv.FormatFloat(t.Score, 'g', -1, 64), t.Cooldown.Microseconds())
	}
	res, err := scoreScript.Run(ctx, s.c, []string{s.Key(id)}, args...).Slice()
	if err != nil {
		return nil, redisErr(err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("incident: redis: unexpected reply of %d values", len(res))
	}
	str, _ := res[0].(string)
	score, err := strconv.ParseFloat(str, 64)
	flat, ok1 := res[1].([]any)
	fired, ok2 := res[2].([]any)
	if err != nil || !ok1 || !ok2 || len(flat)%2 != 0 {
		return nil, errors.New("incident: redis: malformed reply")
	}
	if len(fired) == 0 {
		return nil, nil
	}
	counts := make(map[string]int, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(int64)
		counts[k] = int(v)
	}
	var out []Firing
	for _, i := range s.fallback.byScope[id.Scope] {
		t := s.cfg.Thresholds[i]
		for _, f := range fired {
			if name, _ := f.(string); name == t.Name {
				c := make(map[string]int, len(counts))
				for k, v := range counts {
					c[k] = v
				}
				out = append(out, Firing{Threshold: t, Subject: id, Score: score, Counts: c})
				break
			}
		}
	}
	return out, nil
}

// redisErr describes a Redis failure without the URL (which may carry a
// password): go-redis errors name at most the host and port.
func redisErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("incident: redis: timeout")
	}
	return fmt.Errorf("incident: redis: %v", err)
}

// redisWarner logs Redis failures at most once per redisWarnEvery (the
// worker's goroutine only).
type redisWarner struct {
	log  *slog.Logger
	last time.Time
}

func (w *redisWarner) warn(err error) {
	if now := time.Now(); now.Sub(w.last) >= redisWarnEvery {
		w.last = now
		w.log.Warn("incident: redis failed; scoring in this replica's memory until it answers again",
			"error", err.Error())
	}
}
