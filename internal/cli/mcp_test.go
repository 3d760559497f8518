package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// seedPending stores an approved tool with a pending (changed) definition.
func seedPending(t *testing.T, db *sqlite.DB, tool string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.PinMCPTool(ctx, store.MCPTool{Server: "demo", Tool: tool, Status: store.MCPToolApproved,
		ApprovedHash: "aaa", ApprovedDefinition: `{"name":"` + tool + `"}`}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetMCPToolPending(ctx, "demo", tool, "bbb", `{"name":"`+tool+`","description":"changed"}`, "changed definition"); err != nil {
		t.Fatal(err)
	}
}

func TestMCPToolsLocal(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	seedPending(t, db, "add")
	seedPending(t, db, "send")
	db.Close()

	rc, out, e := runCLI(t, "mcp", "tools", "list", "--status", "pending", "--data", dir)
	if rc != 0 || !strings.Contains(out, "add") || !strings.Contains(out, "bbb") || !strings.Contains(out, "changed definition") {
		t.Fatalf("list: %d %s %s", rc, out, e)
	}
	if rc, _, _ := runCLI(t, "mcp", "tools", "approve", "demo", "add", "--data", dir); rc == 0 {
		t.Fatal("approve without --hash succeeded")
	}
	if rc, _, e := runCLI(t, "mcp", "tools", "approve", "demo", "add", "--hash", "zzz", "--data", dir); rc == 0 || !strings.Contains(e, "changed since") {
		t.Fatalf("stale hash: %d %s", rc, e)
	}
	if rc, out, e := runCLI(t, "mcp", "tools", "approve", "demo", "add", "--hash", "bbb", "--data", dir); rc != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: %d %s %s", rc, out, e)
	}
	if rc, out, e := runCLI(t, "mcp", "tools", "reject", "demo", "send", "--hash", "bbb", "--data", dir); rc != 0 || !strings.Contains(out, "rejected") {
		t.Fatalf("reject: %d %s %s", rc, out, e)
	}
	rc, out, _ = runCLI(t, "mcp", "tools", "list", "--json", "--data", dir)
	if rc != 0 || !strings.Contains(out, `"status": "approved"`) || !strings.Contains(out, `"status": "rejected"`) ||
		!strings.Contains(out, `"decided_by": "cli"`) {
		t.Fatalf("list --json: %s", out)
	}
	db, _ = sqlite.Open(sqlite.PathIn(dir))
	defer db.Close()
	recs, err := db.QueryAudit(context.Background(), store.AuditFilter{})
	if err != nil || len(recs) != 2 || recs[0].Route != "/admin/mcp/tools/decide" {
		t.Fatalf("audit of the decisions: %+v %v", recs, err)
	}
}

func TestMCPToolsRemote(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seedPending(t, db, "add")
	svc, err := identity.NewService(identity.Config{}, db, bytes.Repeat([]byte("c"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	var boot bytes.Buffer
	if err := identity.Bootstrap(context.Background(), svc, &boot); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.NewHandler(db, svc, nil, admin.WithMCPTools(db), admin.WithAudit(db)))
	defer srv.Close()
	t.Setenv(adminKeyEnv, keyIn(boot.String()))
	rc, out, e := runCLI(t, "mcp", "tools", "list", "--url", srv.URL)
	if rc != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("remote list: %d %s %s", rc, out, e)
	}
	if rc, out, e := runCLI(t, "mcp", "tools", "approve", "demo", "add", "--hash", "bbb", "--url", srv.URL); rc != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("remote approve: %d %s %s", rc, out, e)
	}
	if rc, _, e := runCLI(t, "mcp", "tools", "approve", "demo", "add", "--hash", "bbb", "--url", srv.URL); rc == 0 || !strings.Contains(e, "pending") {
		t.Fatalf("second approve: %d %s", rc, e)
	}
}
