package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// TestAuditTraceIDRoundTrip checks that migration 0005's trace_id column is
// written and read back, and that a record without one reads back empty.
func TestAuditTraceIDRoundTrip(t *testing.T) {
	db := openFresh(t)
	defer db.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	recs := []*store.AuditRecord{
		{RequestID: "req-traced", Time: now, Route: "/v1/chat/completions", Status: 200,
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{RequestID: "req-untraced", Time: now.Add(time.Second), Route: "/v1/chat/completions", Status: 200},
	}
	if err := db.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := db.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("QueryAudit = %d records, %v", len(got), err)
	}
	if got[0].TraceID != recs[0].TraceID || got[1].TraceID != "" {
		t.Fatalf("trace ids = %q, %q; want %q, \"\"", got[0].TraceID, got[1].TraceID, recs[0].TraceID)
	}
}
