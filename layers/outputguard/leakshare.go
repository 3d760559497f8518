package outputguard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// The per-key leak history (leakHistory) lives in each replica's memory.
// With leak.redis_url (or redis_url_env) set, replicas share it through
// Redis: a request loads the bits its key and prompt have in Redis into
// the local entry, and at the end of the transaction writes the n-grams
// its answer sent (SETBIT, and the key expires leak.window after the last
// answer). A prompt leaked in parts through different replicas then counts
// as one leak. When Redis does not answer, the replica's own memory is
// used for that request (the history is a second line behind the check of
// each answer) and the failure is logged.

// leakRedisPrefix starts every Redis key of the leak history; the rest is
// a SHA-256 of the tenant, key, subject and prompt (no identifier in clear).
const leakRedisPrefix = "rampart:leak:"

type leakShare struct {
	c       redis.UniversalClient
	window  time.Duration
	timeout time.Duration
	log     *slog.Logger
}

func newLeakShare(cfg LeakConfig, getenv func(string) string, log *slog.Logger) (*leakShare, error) {
	if cfg.RedisURL == "" && cfg.RedisURLEnv == "" {
		return nil, nil
	}
	url, err := limits.RedisURLFrom(cfg.RedisURL, cfg.RedisURLEnv, getenv)
	if err != nil {
		return nil, errors.New("outputguard: leak: " + err.Error())
	}
	o, err := limits.RedisOptions(url, 0)
	if err != nil {
		return nil, errors.New("outputguard: leak: " + err.Error())
	}
	if log == nil {
		log = slog.Default()
	}
	return &leakShare{c: redis.NewClient(o), window: cfg.Window, timeout: limits.DefaultRedisTimeout, log: log}, nil
}

func (s *leakShare) key(local string) string {
	h := sha256.Sum256([]byte(local))
	return leakRedisPrefix + hex.EncodeToString(h[:])
}

// load ORs the bits Redis holds for key into e; false when Redis failed.
func (s *leakShare) load(ctx context.Context, key string, e *leakEntry) bool {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	b, err := s.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return true
	}
	if err != nil {
		s.log.WarnContext(ctx, "outputguard: leak history: redis failed, using this replica's memory", "error", err.Error())
		return false
	}
	e.merge(b)
	return true
}

// save sets the bits of the n-grams marks (indexes) in Redis and renews the
// key's expiry.
func (s *leakShare) save(ctx context.Context, key string, marks []int) {
	if len(marks) == 0 {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range marks {
			p.SetBit(ctx, key, int64(i), 1)
		}
		p.PExpire(ctx, key, s.window)
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "outputguard: leak history: redis failed, the answer's share stays in this replica's memory", "error", err.Error())
	}
}

// merge ORs a Redis bitmap (bit i is bit 7-i%8 of byte i/8) into e.
func (e *leakEntry) merge(b []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for bi, x := range b {
		for k := 0; k < 8 && x != 0; k++ {
			if x&(0x80>>k) == 0 {
				continue
			}
			i := bi*8 + k
			if w := i / 64; w < len(e.bits) && e.bits[w]&(1<<(i%64)) == 0 {
				e.bits[w] |= 1 << (i % 64)
				e.n++
			}
		}
	}
}

// OnFinish writes the n-grams the transaction's answer sent to the shared
// leak history (when there is one).
func (l *Layer) OnFinish(tx *engine.Tx) {
	lk, _ := tx.State(stateLeak).(*leakIndex)
	if l.leakShare == nil || lk == nil || lk.redisKey == "" {
		return
	}
	l.leakShare.save(tx.Ctx, lk.redisKey, lk.marked)
}
