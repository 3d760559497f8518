package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// TestAuditTraceIDRoundTrip checks that migration 0005's trace_id column is
// written and read back, and that a record without one reads back empty.
func TestAuditTraceIDRoundTrip(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	with := rec("req-traced", now, "acme")
	with.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	without := rec("req-untraced", now.Add(time.Second), "acme")
	if err := db.WriteAudit(ctx, []*store.AuditRecord{with, without}); err != nil {
		t.Fatal(err)
	}
	got, err := db.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("QueryAudit = %d records, %v", len(got), err)
	}
	if got[0].TraceID != with.TraceID || got[1].TraceID != "" {
		t.Fatalf("trace ids = %q, %q; want %q, \"\"", got[0].TraceID, got[1].TraceID, with.TraceID)
	}
}
