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
	pool := engine.NewPool()
	provision := func(svc *engine.Services) *Layer {
		l := New(Defaults(), WithClock(clk.Now))
		if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry(), Services: svc}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	firstSvc := pool.Holder()
	first := provision(firstSvc)
	ds := campaign(t, first, clk, "k1", 200, 2*time.Second)
	if ds[len(ds)-1].Code != CodeSuspected {
		t.Fatalf("campaign not blocked: %+v", ds[len(ds)-1])
	}
	// A reload: the next configuration is provisioned, then the first
	// one is closed and its references released.
	nextSvc := pool.Holder()
	next := provision(nextSvc)
	first.Close()
	if err := firstSvc.Release(); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Second)
	tx := chatTx("k1", "192.0.2.1", "What is the capital of France?")
	if d, _ := next.OnRequest(tx); d.Code != CodeSuspected {
		t.Fatalf("after reload the block was lifted: %+v", d)
	}
	if d, _ := provision(engine.NewPool().Holder()).OnRequest(chatTx("k1", "192.0.2.1", "What is the capital of France?")); d.Code == CodeSuspected {
		t.Fatalf("fresh services know the block: %+v", d)
	}
	if refs := pool.Refs(); refs[stateKey.String()] != 1 {
		t.Fatalf("state should be held by the next configuration alone: %v", refs)
	}
	next.Close()
	if err := nextSvc.Release(); err != nil {
		t.Fatal(err)
	}
	if refs := pool.Refs(); len(refs) != 0 {
		t.Fatalf("state not released: %v", refs)
	}
}
