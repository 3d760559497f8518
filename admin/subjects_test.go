package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// setupEraser is setup with DELETE /admin/subjects/{id} enabled; logs
// collects the handler's and the eraser's log output.
func setupEraser(t *testing.T, logs *bytes.Buffer) *env {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := identity.NewService(identity.Config{Lockout: identity.LockoutConfig{MaxFailures: -1}, GenerationPoll: 20 * time.Millisecond}, db, bytes.Repeat([]byte("q"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	var out bytes.Buffer
	if err := identity.Bootstrap(context.Background(), svc, &out); err != nil {
		t.Fatal(err)
	}
	var global string
	for _, f := range strings.Fields(out.String()) {
		if identity.LooksLikeKey(f) {
			global = f
		}
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	er, err := audit.NewEraser(db, db, bytes.Repeat([]byte("m"), 32), log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.NewHandler(db, svc, log, admin.WithEraser(er)))
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, db: db, global: global}
}

func TestEraseSubject(t *testing.T) {
	var logs bytes.Buffer
	e := setupEraser(t, &logs)
	const victim = "user-7f2c@example.org"
	now := time.Now()
	if err := e.db.WriteAudit(context.Background(), []*store.AuditRecord{
		{RequestID: "r1", Time: now, Tenant: "acme", Subject: victim, Model: "gpt-4o"},
		{RequestID: "r2", Time: now, Tenant: "acme", Subject: "someone"},
		{RequestID: "r3", Time: now, Tenant: "acme", Subject: victim, Model: "gpt-4o"},
	}); err != nil {
		t.Fatal(err)
	}
	if st, m := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": "acme"}); st != 201 {
		t.Fatalf("create tenant: %d %v", st, m)
	}
	_, m := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "acme-admin", "tenant": "acme", "role": "admin"})
	acmeAdmin, _ := m["key"].(string)
	_, m = e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "dev", "tenant": "acme", "role": "developer"})
	dev, _ := m["key"].(string)
	devID, _ := m["id"].(string)

	for _, c := range []struct {
		name, key, path string
		status          int
		code            string
	}{
		{"no credentials", "", "/admin/subjects/x", 401, "invalid_api_key"},
		{"developer", dev, "/admin/subjects/x", 403, ""},
		{"tenant admin", acmeAdmin, "/admin/subjects/x", 403, "permission_denied"},
		{"control character", e.global, "/admin/subjects/a%01b", 400, "invalid_request"},
		{"too long", e.global, "/admin/subjects/" + strings.Repeat("x", audit.MaxSubjectIDBytes+1), 400, "invalid_request"},
	} {
		st, m := e.call(t, c.key, "DELETE", c.path, nil)
		if st != c.status || (c.code != "" && code(m) != c.code) {
			t.Errorf("%s: %d %v, want %d %s", c.name, st, m, c.status, c.code)
		}
	}
	if st, m := e.call(t, e.global, "GET", "/admin/subjects/x", nil); st != 405 || code(m) != "method_not_allowed" {
		t.Fatalf("GET: %d %v", st, m)
	}

	// Earlier log lines (e.g. the key's creation) are outside the store;
	// what erasure itself logs must not name the subject.
	mark := logs.Len()
	st, m := e.call(t, e.global, "DELETE", "/admin/subjects/"+victim, nil)
	erased, _ := m["erased"].(map[string]any)
	// Total: the two audit records and the one daily spend row they made.
	if st != 200 || erased["audit_records"] != float64(2) || erased["spend_rows"] != float64(1) || m["total"] != float64(3) {
		t.Fatalf("erase: %d %v", st, m)
	}
	// Erasing a key id deletes the key: on this replica it no longer
	// authenticates at once (others follow the identity generation).
	st, m = e.call(t, e.global, "DELETE", "/admin/subjects/"+devID, nil)
	if erased, _ := m["erased"].(map[string]any); st != 200 || erased["keys"] != float64(1) {
		t.Fatalf("erase key: %d %v", st, m)
	}
	if st, _ := e.call(t, dev, "GET", "/admin/roles", nil); st != 401 {
		t.Fatalf("erased key still authenticates: %d", st)
	}
	recs, err := e.db.QueryAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(recs)
	for _, id := range []string{victim, devID} {
		if bytes.Contains(all, []byte(id)) || bytes.Contains(logs.Bytes()[mark:], []byte(id)) {
			t.Fatalf("%s remains in the audit log or the logs", id)
		}
	}
	erasures := 0
	for _, r := range recs {
		if r.Route == "DELETE /admin/subjects/{id}" {
			erasures++
			if r.ContentMAC == "" || r.KeyID == "" || r.Tenant != identity.GlobalTenant {
				t.Fatalf("erasure record = %+v", r)
			}
		}
	}
	if erasures != 2 || len(recs) != 3 {
		t.Fatalf("%d erasure records in %d records; want 2 in 3", erasures, len(recs))
	}

	// Without an eraser the endpoint is unavailable.
	plain := setup(t)
	if st, m := plain.call(t, plain.global, "DELETE", "/admin/subjects/x", nil); st != 503 || code(m) != "erasure_unavailable" {
		t.Fatalf("no eraser: %d %v", st, m)
	}
}
