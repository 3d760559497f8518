package extraction

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// clock is a fake clock tests move by hand (no sleeps).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newLayer provisions a layer for cfg with a fake clock and its own registry.
func newLayer(t testing.TB, cfg Config) (*Layer, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(cfg, WithClock(clk.Now))
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, clk
}

// chatTx is a chat request from API key key (ip when key is "") whose last
// user message is text.
func chatTx(key, ip, text string) *engine.Tx {
	tx := &engine.Tx{ClientIP: ip, Route: "/v1/chat/completions",
		Request: &conv.Conversation{Kind: conv.KindChat, Model: "m", Messages: []conv.Message{{Role: conv.RoleUser,
			Segments: []conv.Segment{conv.NewSegment(text, conv.SourceUser, "messages.0.content")}}}}}
	if key != "" {
		tx.Identity = &engine.Identity{Tenant: "acme", KeyID: key}
	}
	return tx
}
