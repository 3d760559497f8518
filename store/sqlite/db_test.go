package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

func open(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "dir", sqlite.FileName)
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func rec(id string, ts time.Time, tenant string) *store.AuditRecord {
	return &store.AuditRecord{
		RequestID: id, Time: ts, Route: "/v1/chat/completions", Model: "gpt-x",
		Upstream: "openai", Tenant: tenant, KeyID: "k1", Subject: "alice",
		ClientIP: "127.0.0.1", Status: 200, Latency: 1500 * time.Microsecond,
		PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, RequestBytes: 100,
		ResponseBytes: 200, ContentMAC: "abcd",
		Decisions: []engine.Outcome{{
			Layer: "pii", Phase: engine.PhaseRequest, Action: "flag", Monitor: true,
			Rule: "email", Findings: []engine.Finding{{Layer: "pii", Rule: "email", Entity: "EMAIL_ADDRESS", Start: 1, End: 5}},
			Duration: 42 * time.Microsecond,
		}},
	}
}

func TestOpenPermissionsAndPragmas(t *testing.T) {
	db, path := open(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(path))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dst.Mode().Perm())
	}
	if db.Path() != path {
		t.Errorf("Path = %q", db.Path())
	}
	// Reopening an existing database works (migrations are idempotent) and
	// tightens loose permissions.
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	st, _ = os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("reopened file mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file after open: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := sqlite.Open(""); err == nil {
		t.Error("empty path: no error")
	}
	dir := t.TempDir()
	if _, err := sqlite.Open(dir); err == nil {
		t.Error("directory as path: no error")
	}
	if _, err := sqlite.OpenReader(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenReader on missing file: no error")
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, nil, 0o600)
	if _, err := sqlite.OpenReader(junk); err == nil || !strings.Contains(err.Error(), "no rampart schema") {
		t.Errorf("OpenReader on empty file: %v", err)
	}
}

func TestPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "we?ird#dir%20x", "a.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
}

func TestAuditRoundTripAndFilters(t *testing.T) {
	db, path := open(t)
	ctx := context.Background()
	base := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	var recs []*store.AuditRecord
	for i := range 10 {
		tenant := "a"
		if i%2 == 1 {
			tenant = "b"
		}
		recs = append(recs, rec(string(rune('0'+i)), base.Add(time.Duration(i)*time.Minute), tenant))
	}
	recs[3].Content = &store.AuditContent{Request: []store.ContentSegment{{Message: 0, Role: "user", Source: "user", Text: "hi"}}}
	recs[4].Blocked, recs[4].Error = true, "upstream timeout"
	if err := db.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.ID != int64(i+1) {
			t.Fatalf("rec %d id = %d", i, r.ID)
		}
	}
	all, err := db.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(all) != 10 {
		t.Fatalf("all: %d %v", len(all), err)
	}
	got := all[3]
	if !got.Time.Equal(recs[3].Time) || got.Latency != recs[3].Latency || got.Decisions[0].Findings[0].Entity != "EMAIL_ADDRESS" ||
		got.Decisions[0].Duration != 42*time.Microsecond || !got.Decisions[0].Monitor || got.Content == nil || got.Content.Request[0].Text != "hi" {
		t.Fatalf("round trip mismatch: %+v", got)
	}
	if all[0].Content != nil {
		t.Fatal("content appeared on a record without it")
	}
	if !all[4].Blocked || all[4].Error != "upstream timeout" {
		t.Fatalf("blocked/error lost: %+v", all[4])
	}

	cases := []struct {
		name string
		f    store.AuditFilter
		ids  []int64
	}{
		{"since-until", store.AuditFilter{Since: base.Add(2 * time.Minute), Until: base.Add(5 * time.Minute)}, []int64{3, 4, 5}},
		{"tenant", store.AuditFilter{Tenant: "b", Limit: 3}, []int64{2, 4, 6}},
		{"after", store.AuditFilter{AfterID: 7}, []int64{8, 9, 10}},
		{"latest", store.AuditFilter{Latest: true, Limit: 3}, []int64{8, 9, 10}},
		{"latest tenant", store.AuditFilter{Latest: true, Limit: 2, Tenant: "a"}, []int64{7, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := db.QueryAudit(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(c.ids) {
				t.Fatalf("ids %v, want %v", ids, c.ids)
			}
			for i := range ids {
				if ids[i] != c.ids[i] {
					t.Fatalf("ids %v, want %v", ids, c.ids)
				}
			}
		})
	}

	// A reader sees the writer's committed rows while the writer is open,
	// and cannot write.
	rd, err := sqlite.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rs, err := rd.QueryAudit(ctx, store.AuditFilter{Latest: true, Limit: 1})
	if err != nil || len(rs) != 1 || rs[0].ID != 10 {
		t.Fatalf("reader: %v %v", rs, err)
	}
	if err := rd.WriteAudit(ctx, []*store.AuditRecord{rec("x", base, "")}); err == nil {
		t.Fatal("reader wrote")
	}
	if _, err := rd.PurgeAudit(ctx, base.Add(time.Hour)); err == nil {
		t.Fatal("reader purged")
	}

	n, err := db.PurgeAudit(ctx, base.Add(5*time.Minute))
	if err != nil || n != 5 {
		t.Fatalf("purge = %d, %v", n, err)
	}
	rest, _ := db.QueryAudit(ctx, store.AuditFilter{})
	if len(rest) != 5 || rest[0].ID != 6 {
		t.Fatalf("after purge: %d records, first %d", len(rest), rest[0].ID)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := db.WriteAudit(ctx, []*store.AuditRecord{rec("r", time.Now(), string(rune('a'+g))), rec("s", time.Now(), "")}); err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := db.QueryAudit(ctx, store.AuditFilter{Latest: true, Limit: 5}); err != nil {
					t.Errorf("read: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all, err := db.QueryAudit(ctx, store.AuditFilter{Limit: store.MaxAuditLimit})
	if err != nil || len(all) != 8*20*2 {
		t.Fatalf("got %d records, %v", len(all), err)
	}
}

func TestPurgeInChunks(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	old := time.Unix(1000, 0)
	batch := make([]*store.AuditRecord, 0, 6000)
	for range 6000 {
		batch = append(batch, &store.AuditRecord{RequestID: "r", Time: old})
	}
	if err := db.WriteAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeAudit(ctx, old.Add(time.Second))
	if err != nil || n != 6000 {
		t.Fatalf("purge = %d, %v", n, err)
	}
}

func BenchmarkWriteAudit256(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch := make([]*store.AuditRecord, 256)
	for i := range batch {
		batch[i] = rec("r", time.Now(), "t")
	}
	b.ResetTimer()
	for b.Loop() {
		if err := db.WriteAudit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "records/s")
}
