package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// TestAuditPostgres reads the audit log of a shared PostgreSQL store, as
// operators of several replicas do: by --postgres DSN, and through a
// configuration whose store.driver is postgres (DSN from store.dsn_env).
func TestAuditPostgres(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	var recs []*store.AuditRecord
	for i := range 700 { // more than one export page
		tenant := "a"
		if i%2 == 1 {
			tenant = "b"
		}
		recs = append(recs, &store.AuditRecord{RequestID: "pg-" + itoa(i), Tenant: tenant, Status: 200,
			Time: now.Add(-time.Duration(699-i) * time.Second)})
	}
	if err := db.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runCLI(t, "audit", "tail", "--postgres", dsn, "--n", "3", "--tenant", "b")
	got := decodeLines(t, out)
	if code != 0 || len(got) != 3 || got[2].RequestID != "pg-699" || got[0].Tenant != "b" {
		t.Fatalf("tail --postgres: %d %q %+v", code, errs, got)
	}

	cfg := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  driver: postgres\n  dsn_env: RAMPART_TEST_AUDIT_DSN\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "audit", "export", "--config", cfg, "--since", "1h"); code != 1 || !strings.Contains(errs, "RAMPART_TEST_AUDIT_DSN is empty") {
		t.Fatalf("driver postgres without a DSN: %d %q", code, errs)
	}
	t.Setenv("RAMPART_TEST_AUDIT_DSN", dsn)
	code, out, errs = runCLI(t, "audit", "export", "--config", cfg, "--since", "1h")
	got = decodeLines(t, out)
	if code != 0 || len(got) != 700 {
		t.Fatalf("export through store.driver: %d %q, %d records", code, errs, len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("export out of order at %d", i)
		}
	}
	if strings.Contains(errs, dsn) {
		t.Fatal("the DSN (with its password) was printed")
	}
}
