package storetest

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-ai/rampart/store"
)

// MCPToolStore is a backend's MCP tool pinning store, closable by the suite.
type MCPToolStore interface {
	store.MCPToolStore
	Close() error
}

// RunMCPTools runs the MCP tool pinning contract; open returns a fresh,
// empty store (closed by the suite).
func RunMCPTools(t *testing.T, open func(t *testing.T) MCPToolStore) {
	t.Run("Lifecycle", func(t *testing.T) { testMCPLifecycle(t, open(t)) })
	t.Run("FirstPinWins", func(t *testing.T) { testMCPFirstPin(t, open(t)) })
	t.Run("Bounds", func(t *testing.T) { testMCPBounds(t, open(t)) })
}

func testMCPLifecycle(t *testing.T, s MCPToolStore) {
	defer s.Close()
	if _, ok, err := s.GetMCPTool(ctx, "demo", "search"); ok || err != nil {
		t.Fatalf("empty store: ok %v err %v", ok, err)
	}
	got, err := s.PinMCPTool(ctx, store.MCPTool{Server: "demo", Tool: "search", Status: store.MCPToolApproved,
		ApprovedHash: "h1", ApprovedDefinition: `{"name":"search"}`})
	if err != nil || got.Status != store.MCPToolApproved || got.ApprovedHash != "h1" || got.FirstSeen.IsZero() {
		t.Fatalf("pin: %+v %v", got, err)
	}
	// A rug pull: the served definition changes.
	p, err := s.SetMCPToolPending(ctx, "demo", "search", "h2", `{"name":"search","description":"x"}`, "changed definition")
	if err != nil || p.Status != store.MCPToolPending || p.PendingHash != "h2" || p.ApprovedHash != "h1" {
		t.Fatalf("pending: %+v %v", p, err)
	}
	// Seen again: nothing changes (no second review).
	again, err := s.SetMCPToolPending(ctx, "demo", "search", "h2", `{}`, "other")
	if err != nil || again.Reason != "changed definition" || !again.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("pending again: %+v %v", again, err)
	}
	// The approved hash served again is not a new pending definition.
	if back, err := s.SetMCPToolPending(ctx, "demo", "search", "h1", `{}`, "x"); err != nil || back.PendingHash != "h2" {
		t.Fatalf("approved hash as pending: %+v %v", back, err)
	}
	// An administrator decides on what was listed, not on what came after.
	if _, err := s.DecideMCPTool(ctx, "demo", "search", "h9", true, "key_admin"); !errors.Is(err, store.ErrMCPToolStale) {
		t.Fatalf("stale decision: %v", err)
	}
	rej, err := s.DecideMCPTool(ctx, "demo", "search", "h2", false, "key_admin")
	if err != nil || rej.Status != store.MCPToolRejected || rej.ApprovedHash != "h1" || rej.DecidedBy != "key_admin" {
		t.Fatalf("reject: %+v %v", rej, err)
	}
	if _, err := s.SetMCPToolPending(ctx, "demo", "search", "h3", `{"v":3}`, "changed definition"); err != nil {
		t.Fatal(err)
	}
	ok, err := s.DecideMCPTool(ctx, "demo", "search", "h3", true, "cli")
	if err != nil || ok.Status != store.MCPToolApproved || ok.ApprovedHash != "h3" || ok.ApprovedDefinition != `{"v":3}` ||
		ok.PendingHash != "" {
		t.Fatalf("approve: %+v %v", ok, err)
	}
	if _, err := s.DecideMCPTool(ctx, "demo", "search", "h3", true, "cli"); !errors.Is(err, store.ErrMCPToolNotFound) {
		t.Fatalf("nothing pending: %v", err)
	}
	if _, err := s.DecideMCPTool(ctx, "demo", "nope", "h3", true, "cli"); !errors.Is(err, store.ErrMCPToolNotFound) {
		t.Fatalf("unknown tool: %v", err)
	}
	if _, err := s.SetMCPToolPending(ctx, "demo", "nope", "h", "{}", "x"); !errors.Is(err, store.ErrMCPToolNotFound) {
		t.Fatalf("pending on unknown tool: %v", err)
	}
	if _, err := s.PinMCPTool(ctx, store.MCPTool{Server: "other", Tool: "t", Status: store.MCPToolPending,
		PendingHash: "p", PendingDefinition: "{}", Reason: "poisoned"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListMCPTools(ctx, "", "")
	if err != nil || len(all) != 2 || all[0].Server != "demo" || all[1].Server != "other" {
		t.Fatalf("list all: %+v %v", all, err)
	}
	pend, err := s.ListMCPTools(ctx, "", store.MCPToolPending)
	if err != nil || len(pend) != 1 || pend[0].Tool != "t" {
		t.Fatalf("list pending: %+v %v", pend, err)
	}
	if one, err := s.ListMCPTools(ctx, "demo", ""); err != nil || len(one) != 1 {
		t.Fatalf("list server: %+v %v", one, err)
	}
}

// Replicas that see a new tool at once: the first pin wins, the others get it.
func testMCPFirstPin(t *testing.T, s MCPToolStore) {
	defer s.Close()
	var wg sync.WaitGroup
	got := make([]store.MCPTool, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.PinMCPTool(ctx, store.MCPTool{Server: "demo", Tool: "race", Status: store.MCPToolApproved,
				ApprovedHash: string(rune('a' + i)), ApprovedDefinition: "{}"})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].ApprovedHash != got[0].ApprovedHash {
			t.Fatalf("replica %d: %+v %v (first %+v)", i, got[i], errs[i], got[0])
		}
	}
}

func testMCPBounds(t *testing.T, s MCPToolStore) {
	defer s.Close()
	big := strings.Repeat("x", store.MaxMCPToolDefinition+1)
	for _, tc := range []store.MCPTool{
		{Server: "", Tool: "t"},
		{Server: "s", Tool: strings.Repeat("t", 300)},
		{Server: "s", Tool: "t", ApprovedDefinition: big},
	} {
		if _, err := s.PinMCPTool(ctx, tc); err == nil {
			t.Errorf("pin accepted server %q tool of %d bytes, definition of %d bytes", tc.Server, len(tc.Tool), len(tc.ApprovedDefinition))
		}
	}
}
