package ratelimit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
)

// The memory backend is shared through engine.Host.Services, so the layer
// of a reloaded configuration keeps the counts of the one it replaces; a
// host without services gets a backend the layer owns.
func TestMemoryBackendShared(t *testing.T) {
	services := map[string]any{}
	provision := func(maxEntries int, h *engine.Host) *Layer {
		t.Helper()
		cfg := Defaults()
		cfg.MaxEntries = maxEntries
		l := New(cfg)
		if err := l.Provision(h); err != nil {
			t.Fatal(err)
		}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := provision(1000, &engine.Host{Registerer: prometheus.NewRegistry(), Services: services})
	if _, ok := services[ServiceMemoryBackend].(*sharedMemory); !ok || first.own {
		t.Fatalf("backend not published to the host (own=%v, services=%v)", first.own, services)
	}
	tests := []struct {
		name       string
		maxEntries int
		services   map[string]any
		shared     bool
	}{
		{"same settings", 1000, services, true},
		{"changed max_entries keeps the running backend", 5000, services, true},
		{"no services: own backend", 1000, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := provision(tc.maxEntries, &engine.Host{Registerer: prometheus.NewRegistry(), Services: tc.services})
			if got := l.Backend() == first.Backend(); got != tc.shared {
				t.Fatalf("shared = %v, want %v", got, tc.shared)
			}
			if l.own == tc.shared {
				t.Fatalf("own = %v for shared = %v", l.own, tc.shared)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
