package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// Replicas sharing one database add their spend to the same rows: two
// handles write overlapping batches at once (rows in opposite order in
// each batch) and the sums are exact.
func TestSpendSharedByReplicas(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	var dbs [2]*postgres.DB
	for i := range dbs {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	now := time.Now().UTC()
	const batches = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*batches)
	for r, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				models := []string{"m-a", "m-b", "m-c"}
				if r == 1 {
					models = []string{"m-c", "m-b", "m-a"}
				}
				var recs []*store.AuditRecord
				for _, m := range models {
					recs = append(recs, &store.AuditRecord{RequestID: fmt.Sprint(r, b, m), Time: now, Route: "/v1/chat/completions",
						Model: m, Tenant: "acme", KeyID: "k", Status: 200, PromptTokens: 10, CostNanos: 7, Priced: true})
				}
				if err := db.WriteAudit(context.Background(), recs); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows, err := dbs[0].QuerySpend(context.Background(), store.SpendFilter{GroupBy: []string{store.GroupModel}})
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v %v", rows, err)
	}
	for _, r := range rows {
		if r.Requests != 2*batches || r.CostNanos != 2*batches*7 || r.PromptTokens != 2*batches*10 {
			t.Fatalf("%+v", r)
		}
	}
}
