package extraction

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
)

// TestStateSurvivesReload: a layer provisioned over the same host services
// (the next configuration after a hot reload) keeps refusing a key the
// previous one blocked; a layer on fresh services does not know it.
func TestStateSurvivesReload(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	services := map[string]any{}
	provision := func(services map[string]any) *Layer {
		l := New(Defaults(), WithClock(clk.Now))
		if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry(), Services: services}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	first := provision(services)
	ds := campaign(t, first, clk, "k1", 200, 2*time.Second)
	if ds[len(ds)-1].Code != CodeSuspected {
		t.Fatalf("campaign not blocked: %+v", ds[len(ds)-1])
	}
	first.Close()
	clk.add(time.Second)
	tx := chatTx("k1", "192.0.2.1", "What is the capital of France?")
	if d, _ := provision(services).OnRequest(tx); d.Code != CodeSuspected {
		t.Fatalf("after reload the block was lifted: %+v", d)
	}
	if d, _ := provision(map[string]any{}).OnRequest(chatTx("k1", "192.0.2.1", "What is the capital of France?")); d.Code == CodeSuspected {
		t.Fatalf("fresh services know the block: %+v", d)
	}
	if c, ok := services[ServiceState].(*sharedState); !ok || c.Close() != nil {
		t.Fatal("state not published for the host to close")
	}
}
