package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// auditDB creates a data directory with n records, one minute apart and
// ending now, tenants alternating a/b. The writer stays open (as a running
// gateway's would).
func auditDB(t *testing.T, n int) (string, *sqlite.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	var recs []*store.AuditRecord
	for i := range n {
		tenant := "a"
		if i%2 == 1 {
			tenant = "b"
		}
		recs = append(recs, &store.AuditRecord{RequestID: "req-" + itoa(i), Tenant: tenant, Status: 200,
			Time: now.Add(-time.Duration(n-1-i) * time.Minute)})
	}
	if err := db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return dir, db
}

func itoa(i int) string { return strconv.Itoa(i) }

func decodeLines(t *testing.T, out string) []store.AuditRecord {
	t.Helper()
	var recs []store.AuditRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r store.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestAuditTail(t *testing.T) {
	dir, _ := auditDB(t, 30)
	code, out, errs := runCLI(t, "audit", "tail", "--data", dir, "--n", "5")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	recs := decodeLines(t, out)
	if len(recs) != 5 || recs[0].RequestID != "req-25" || recs[4].RequestID != "req-29" {
		t.Fatalf("tail: %+v", recs)
	}
	code, out, _ = runCLI(t, "audit", "tail", "--data", dir, "--n", "3", "--tenant", "a")
	if recs = decodeLines(t, out); code != 0 || len(recs) != 3 || recs[2].RequestID != "req-28" || recs[0].Tenant != "a" {
		t.Fatalf("tenant tail: %+v", recs)
	}
	if code, _, errs := runCLI(t, "audit", "tail", "--data", t.TempDir()); code != 1 || !strings.Contains(errs, "no rampart database") {
		t.Fatalf("empty dir: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "audit", "tail", "--data", dir, "--n", "-1"); code != 2 {
		t.Fatalf("--n -1: exit %d", code)
	}
	t.Setenv("RAMPART_DATA_DIR", dir)
	if code, out, _ := runCLI(t, "audit", "tail", "--n", "1"); code != 0 || len(decodeLines(t, out)) != 1 {
		t.Fatalf("data dir from environment: %d %q", code, out)
	}
}

// syncBuffer is a goroutine-safe writer for the follow test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAuditTailFollow(t *testing.T) {
	dir, writer := auditDB(t, 3)
	old := auditFollowPoll
	auditFollowPoll = 5 * time.Millisecond
	defer func() { auditFollowPoll = old }()
	rd, err := sqlite.OpenReader(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var buf syncBuffer
	done := make(chan error, 1)
	go func() { done <- tailAudit(ctx, rd, &buf, "", 2, true) }()
	waitLines := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for len(decodeLines(t, buf.String())) < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitLines(2) // the initial tail
	// New records written by the "gateway" appear in order.
	for i := range 3 {
		writer.WriteAudit(context.Background(), []*store.AuditRecord{{RequestID: "new-" + itoa(i), Time: time.Now()}})
	}
	waitLines(5)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("follow ended with %v", err)
	}
	recs := decodeLines(t, buf.String())
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.RequestID)
	}
	if strings.Join(ids, ",") != "req-1,req-2,new-0,new-1,new-2" {
		t.Fatalf("follow printed %v\n%s", ids, buf.String())
	}
}

func TestAuditExport(t *testing.T) {
	dir, _ := auditDB(t, 1200) // more than two export pages
	code, out, errs := runCLI(t, "audit", "export", "--data", dir, "--since", "1d")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	recs := decodeLines(t, out)
	if len(recs) != 1200 {
		t.Fatalf("exported %d, want 1200", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].ID != recs[i-1].ID+1 {
			t.Fatalf("gap or duplicate at %d: %d after %d", i, recs[i].ID, recs[i-1].ID)
		}
	}
	// Records are one minute apart, the last one now: the last 10 minutes
	// hold records 1190..1199 (the window's start is inclusive).
	code, out, _ = runCLI(t, "audit", "export", "--data", dir, "--since", "10m30s", "--until", "30s")
	recs = decodeLines(t, out)
	if code != 0 || len(recs) != 10 || recs[0].RequestID != "req-1189" || recs[9].RequestID != "req-1198" {
		t.Fatalf("range export: %d records %v..", len(recs), recs)
	}
	from := time.Now().Add(-5 * time.Minute).UTC().Format(time.RFC3339Nano)
	code, out, _ = runCLI(t, "audit", "export", "--data", dir, "--since", from, "--tenant", "b")
	if recs = decodeLines(t, out); code != 0 || len(recs) == 0 || len(recs) > 3 {
		t.Fatalf("tenant export: %d", len(recs))
	}
	for _, r := range recs {
		if r.Tenant != "b" {
			t.Fatalf("tenant filter leaked %q", r.Tenant)
		}
	}
	for _, bad := range [][]string{
		{"--data", dir},
		{"--data", dir, "--since", "yesterday"},
		{"--data", dir, "--since", "1h", "--until", "2h"},
		{"--data", dir, "--since", "1h", "extra"},
	} {
		if code, _, _ := runCLI(t, append([]string{"audit", "export"}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code, _, _ := runCLI(t, "audit", "export", "--data", filepath.Join(dir, "nope"), "--since", "1h"); code != 1 {
		t.Errorf("missing db: exit %d", code)
	}
}
