package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

type env struct {
	srv    *httptest.Server
	svc    *identity.Service
	db     *sqlite.DB
	global string
}

func setup(t *testing.T) *env {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := identity.NewService(identity.Config{Lockout: identity.LockoutConfig{MaxFailures: -1}}, db, bytes.Repeat([]byte("q"), 32), nil)
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
	srv := httptest.NewServer(admin.NewHandler(db, svc, nil))
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, db: db, global: global}
}

func (e *env) call(t *testing.T, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func code(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAdminFlow(t *testing.T) {
	e := setup(t)
	// Unauthenticated and unknown.
	if st, m := e.call(t, "", "GET", "/admin/keys", nil); st != 401 || code(m) != "invalid_api_key" {
		t.Fatalf("no key: %d %v", st, m)
	}
	if st, m := e.call(t, e.global, "GET", "/admin/nothing", nil); st != 404 || code(m) != "not_found" {
		t.Fatalf("unknown route: %d %v", st, m)
	}
	// Global admin creates tenants and a tenant admin.
	for _, tn := range []string{"acme", "beta"} {
		if st, m := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": tn}); st != 201 {
			t.Fatalf("create tenant: %d %v", st, m)
		}
	}
	if st, _ := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": "acme"}); st != 409 {
		t.Fatalf("duplicate tenant: %d", st)
	}
	if st, _ := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": "x", "bogus": 1}); st != 400 {
		t.Fatalf("unknown field: %d", st)
	}
	st, m := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "acme-admin", "tenant": "acme", "role": "admin", "expires_in": "30d"})
	if st != 201 || !identity.LooksLikeKey(m["key"].(string)) || m["tenant"] != "acme" || m["expires_at"] == nil {
		t.Fatalf("create key: %d %v", st, m)
	}
	if _, leaked := m["hash"]; leaked {
		t.Fatal("hash in answer")
	}
	acmeAdmin := m["key"].(string)

	// The tenant admin: own tenant only.
	if st, m := e.call(t, acmeAdmin, "POST", "/admin/keys", map[string]any{"name": "b", "tenant": "beta", "role": "user"}); st != 403 || code(m) != "permission_denied" {
		t.Fatalf("cross-tenant create: %d %v", st, m)
	}
	if st, _ := e.call(t, acmeAdmin, "POST", "/admin/keys", map[string]any{"name": "g", "tenant": "*", "role": "user"}); st != 403 {
		t.Fatalf("global key by tenant admin: %d", st)
	}
	if st, _ := e.call(t, acmeAdmin, "POST", "/admin/tenants", map[string]any{"id": "gamma"}); st != 403 {
		t.Fatalf("tenant admin creates tenant: %d", st)
	}
	st, m = e.call(t, acmeAdmin, "POST", "/admin/keys", map[string]any{"name": "app", "role": "user"})
	if st != 201 || m["tenant"] != "acme" {
		t.Fatalf("create own key: %d %v", st, m)
	}
	appKey, appID := m["key"].(string), m["id"].(string)
	_, m = e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "beta-app", "tenant": "beta", "role": "user"})
	betaID := m["id"].(string)
	if st, _ := e.call(t, acmeAdmin, "DELETE", "/admin/keys/"+betaID, nil); st != 404 {
		t.Fatalf("revoke other tenant's key: %d", st)
	}
	if st, _ := e.call(t, acmeAdmin, "GET", "/admin/keys?tenant=beta", nil); st != 403 {
		t.Fatalf("list other tenant: %d", st)
	}
	_, m = e.call(t, acmeAdmin, "GET", "/admin/keys", nil)
	if data := m["data"].([]any); len(data) != 2 {
		t.Fatalf("tenant admin sees %d keys", len(data))
	}
	_, m = e.call(t, e.global, "GET", "/admin/keys", nil)
	if data := m["data"].([]any); len(data) != 4 {
		t.Fatalf("global admin sees %d keys", len(data))
	}
	_, m = e.call(t, acmeAdmin, "GET", "/admin/tenants", nil)
	if data := m["data"].([]any); len(data) != 1 {
		t.Fatalf("tenant admin sees %d tenants", len(data))
	}

	// A user key may not manage keys (permission table).
	if st, m := e.call(t, appKey, "GET", "/admin/keys", nil); st != 403 || code(m) != "permission_denied" {
		t.Fatalf("user lists keys: %d %v", st, m)
	}
	if st, _ := e.call(t, appKey, "GET", "/admin/roles", nil); st != 200 {
		t.Fatalf("user reads roles: %d", st)
	}

	// Rotate with grace, then revoke.
	st, m = e.call(t, acmeAdmin, "POST", "/admin/keys/"+appID+"/rotate", map[string]any{"grace": "1h"})
	if st != 201 || m["id"] == appID {
		t.Fatalf("rotate: %d %v", st, m)
	}
	newApp := m["key"].(string)
	if st, _ := e.call(t, appKey, "GET", "/admin/roles", nil); st != 200 {
		t.Fatal("old key invalid within grace")
	}
	if st, _ := e.call(t, acmeAdmin, "DELETE", "/admin/keys/"+m["id"].(string), nil); st != 200 {
		t.Fatal("revoke")
	}
	if st, _ := e.call(t, newApp, "GET", "/admin/roles", nil); st != 401 {
		t.Fatalf("revoked key still works: %d", st)
	}
	if st, _ := e.call(t, acmeAdmin, "DELETE", "/admin/keys/key_nope", nil); st != 404 {
		t.Fatal("revoke missing")
	}
}

func TestAuditTenantScoped(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	_, _ = e.svc.CreateTenant(ctx, identity.Tenant{ID: "acme"})
	_, _ = e.svc.CreateTenant(ctx, identity.Tenant{ID: "beta"})
	viewer, vk, _ := e.svc.CreateKey(ctx, identity.KeySpec{Name: "v", Tenant: "acme", Role: identity.RoleViewer})
	dev, _, _ := e.svc.CreateKey(ctx, identity.KeySpec{Name: "d", Tenant: "acme", Role: identity.RoleDeveloper})
	gviewer, gvk, _ := e.svc.CreateKey(ctx, identity.KeySpec{Name: "gv", Tenant: "*", Role: identity.RoleViewer})
	now := time.Now()
	if err := e.db.WriteAudit(ctx, []*store.AuditRecord{
		{RequestID: "a1", Time: now, Tenant: "acme", KeyID: vk.ID, Status: 200},
		{RequestID: "b1", Time: now, Tenant: "beta", Status: 200},
		{RequestID: "a2", Time: now, Tenant: "acme", KeyID: "key_someoneelse", Status: 403},
		{RequestID: "g1", Time: now, Tenant: "*", KeyID: gvk.ID, Status: 200},
	}); err != nil {
		t.Fatal(err)
	}
	// A viewer reads its own trail only (docs/PERMISSIONS.md), a global
	// viewer too: never every tenant's.
	for _, c := range []struct {
		key  string
		want string
	}{{viewer, "a1"}, {gviewer, "g1"}} {
		st, m := e.call(t, c.key, "GET", "/admin/audit", nil)
		data, _ := m["data"].([]any)
		if st != 200 || len(data) != 1 || data[0].(map[string]any)["request_id"] != c.want {
			t.Fatalf("viewer audit: %d %v", st, m)
		}
	}
	st, m := e.call(t, dev, "GET", "/admin/audit", nil)
	if st != 200 {
		t.Fatalf("developer audit: %d %v", st, m)
	}
	data := m["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("developer sees %d records", len(data))
	}
	for _, r := range data {
		if r.(map[string]any)["tenant"] != "acme" {
			t.Fatal("other tenant's record leaked")
		}
	}
	if st, _ := e.call(t, viewer, "GET", "/admin/audit?tenant=beta", nil); st != 403 {
		t.Fatalf("viewer reads beta: %d", st)
	}
	_, m = e.call(t, e.global, "GET", "/admin/audit", nil)
	if len(m["data"].([]any)) != 4 {
		t.Fatal("global admin does not see all")
	}
	_, m = e.call(t, e.global, "GET", "/admin/audit?tenant=beta&limit=5", nil)
	if len(m["data"].([]any)) != 1 {
		t.Fatal("global tenant filter")
	}
	if st, _ := e.call(t, e.global, "GET", "/admin/audit?since=yesterday", nil); st != 400 {
		t.Fatal("bad since accepted")
	}
}

// TestRoutesInPermissionTable: every admin route has a table row.
func TestRoutesInPermissionTable(t *testing.T) {
	rows := map[string]bool{}
	for _, r := range identity.RoutePermissions() {
		rows[r.Method+" "+r.Pattern] = true
	}
	for _, r := range admin.Routes() {
		if !rows[r.Method+" "+r.Pattern] {
			t.Errorf("admin route %s %s has no permission row", r.Method, r.Pattern)
		}
	}
}
