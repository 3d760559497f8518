package ratelimit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
)

// The memory backend is shared through engine.Host.Services, so the layer
// of a reloaded configuration keeps the counts of the one it replaces; the
// pool closes it once no configuration holds it; a host without services
// gets a backend the layer owns.
func TestMemoryBackendShared(t *testing.T) {
	pool := engine.NewPool()
	provision := func(maxEntries int, svc *engine.Services) *Layer {
		t.Helper()
		cfg := Defaults()
		cfg.MaxEntries = maxEntries
		l := New(cfg)
		if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry(), Services: svc}); err != nil {
			t.Fatal(err)
		}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		return l
	}
	firstSvc := pool.Holder()
	first := provision(1000, firstSvc)
	if refs := pool.Refs(); refs[memoryKey.String()] != 1 || first.own {
		t.Fatalf("backend not shared through the pool (own=%v, refs=%v)", first.own, refs)
	}
	tests := []struct {
		name       string
		maxEntries int
		svc        *engine.Services
		shared     bool
	}{
		{"same settings", 1000, pool.Holder(), true},
		{"changed max_entries keeps the running backend", 5000, pool.Holder(), true},
		{"no services: own backend", 1000, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := provision(tc.maxEntries, tc.svc)
			if got := l.Backend() == first.Backend(); got != tc.shared {
				t.Fatalf("shared = %v, want %v", got, tc.shared)
			}
			if l.own == tc.shared {
				t.Fatalf("own = %v for shared = %v", l.own, tc.shared)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tc.svc.Release(); err != nil {
				t.Fatal(err)
			}
			if refs := pool.Refs(); refs[memoryKey.String()] != 1 {
				t.Fatalf("after release the first configuration should hold the backend alone: %v", refs)
			}
		})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := firstSvc.Release(); err != nil {
		t.Fatal(err)
	}
	if refs := pool.Refs(); len(refs) != 0 {
		t.Fatalf("references left: %v", refs)
	}
}
