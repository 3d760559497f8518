package incident

import (
	"context"
	"fmt"
	"testing"

	"github.com/rampart-ai/rampart/engine"

	"github.com/rampart-ai/rampart/internal/redistest"
)

// BenchmarkRecord is the request-path cost of the incident feed: a clean
// transaction (classification only) and one with a violation (copied into
// the queue, which a worker drains).
func BenchmarkRecord(b *testing.B) {
	cfg := Defaults()
	cfg.Enabled = true
	cfg.Thresholds = []Threshold{}
	r := New(cfg, Options{})
	if err := r.Start(); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	outs := []engine.Outcome{{Layer: "identity", Action: "allow"}, {Layer: "ratelimit", Action: "allow"},
		{Layer: "injection", Action: "allow"}, {Layer: "outputguard", Action: "modify"}}
	clean := &engine.Tx{ID: "req", ClientIP: "192.0.2.1", Identity: &engine.Identity{KeyID: "key_a", Tenant: "acme"}, Outcomes: outs}
	bad := &engine.Tx{ID: "req", ClientIP: "192.0.2.1", Identity: &engine.Identity{KeyID: "key_a", Tenant: "acme"},
		Outcomes: append(append([]engine.Outcome(nil), outs...), engine.Outcome{Layer: "injection", Action: "block"})}
	b.Run("clean", func(b *testing.B) {
		for b.Loop() {
			r.Record(clean)
		}
	})
	b.Run("violation", func(b *testing.B) {
		for b.Loop() {
			r.Record(bad)
		}
	})
}

// BenchmarkRedisAdd is the worker's cost of scoring one violation with
// backend redis: one round trip (EVALSHA of score.lua) to the test Redis.
// It spreads the adds over 1000 identities.
func BenchmarkRedisAdd(b *testing.B) {
	c := redisClient(b, redistest.URL(b))
	cfg := Defaults()
	cfg.Enabled = true
	cfg.Fill()
	cfg.RedisPrefix = uniquePrefix(b, c)
	s := NewRedisScorer(c, cfg, nil)
	ctx := context.Background()
	kinds := []string{KindInjectionFlag}
	ids := make([]Subject, 1000)
	for i := range ids {
		ids[i] = Subject{Scope: ScopeKey, Value: fmt.Sprintf("key_%d", i), Tenant: "acme"}
	}
	i := 0
	for b.Loop() {
		if _, err := s.AddRedis(ctx, ids[i%len(ids)], kinds); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
