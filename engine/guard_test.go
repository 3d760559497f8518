package engine

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A guarded non-model route gets the headers phase: a refused caller gets
// the refusal and one audit record; an admitted one records the caller's
// own decisions (enforced and monitored) and the finish phase runs once.
func TestGuard(t *testing.T) {
	finished := 0
	fin := &testLayer{name: "fin", fin: func(*Tx) { finished++ }}
	h := newHarness(t, enforce(headersLayer{want: "yes"}), enforce(fin))

	r := httptest.NewRequest(http.MethodPost, "/mcp/demo", nil)
	g, ref := h.e.Guard(r, "/mcp/demo")
	if g != nil || ref == nil || ref.Status != http.StatusUnauthorized || ref.Code != "invalid_api_key" {
		t.Fatalf("refusal %+v guarded %v", ref, g)
	}
	tx := h.rec.one(t)
	if tx.Route != "/mcp/demo" || !tx.Blocked || tx.Status != http.StatusUnauthorized || finished != 1 {
		t.Fatalf("recorded %+v finished %d", tx, finished)
	}

	h.rec.txs = nil
	r.Header.Set("X-Pass", "yes")
	g, ref = h.e.Guard(r, "/mcp/demo")
	if ref != nil {
		t.Fatalf("refused: %+v", ref)
	}
	block := Decision{Action: Block, Status: http.StatusForbidden, Code: "tool_poisoned", Rule: "r1",
		Findings: []Finding{{Layer: "mcp", Rule: "r1"}}}
	if g.Decide("mcp", PhaseResponse, true, block, time.Millisecond) {
		t.Fatal("a monitored block must not stop the transaction")
	}
	if g.Tx.Blocked {
		t.Fatal("monitor block marked the transaction blocked")
	}
	if !g.Decide("mcp", PhaseResponse, false, block, time.Millisecond) || !g.Tx.Blocked {
		t.Fatal("an enforced block must stop the transaction")
	}
	g.Tx.Status = http.StatusForbidden
	g.End()
	g.End() // once only
	tx = h.rec.one(t)
	var mcp []Outcome
	for _, o := range tx.Outcomes {
		if o.Layer == "mcp" {
			mcp = append(mcp, o)
		}
	}
	if finished != 2 || len(mcp) != 2 || !mcp[0].Monitor || mcp[1].Monitor ||
		mcp[1].Findings[0].Rule != "r1" || tx.Status != http.StatusForbidden {
		t.Fatalf("finished %d, outcomes %+v", finished, tx.Outcomes)
	}
}
