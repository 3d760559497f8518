package identity_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/sqlite"
)

var ctx = context.Background()

var pepper = bytes.Repeat([]byte("k"), 32)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newSvc(t testing.TB, db identity.Store, cfg identity.Config, c *clock) *identity.Service {
	t.Helper()
	s, err := identity.NewService(cfg, db, pepper, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		s.SetClock(c.now)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func bearer(tok string) identity.Credentials {
	return identity.Credentials{Header: http.Header{"Authorization": {"Bearer " + tok}}, ClientIP: "192.0.2.1"}
}

func mustTenant(t testing.TB, s *identity.Service, id string, models ...string) {
	t.Helper()
	if _, err := s.CreateTenant(ctx, identity.Tenant{ID: id, Models: models, Policy: "pol-" + id}); err != nil {
		t.Fatal(err)
	}
}

func mustKey(t testing.TB, s *identity.Service, spec identity.KeySpec) (string, identity.Key) {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "test"
	}
	plain, k, err := s.CreateKey(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return plain, k
}
