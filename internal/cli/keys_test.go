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
	"github.com/rampart-ai/rampart/store/sqlite"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := Main(args, strings.NewReader(""), &out, &errb)
	return rc, out.String(), errb.String()
}

func keyIn(s string) string {
	for _, f := range strings.Fields(s) {
		if identity.LooksLikeKey(f) {
			return f
		}
	}
	return ""
}

func TestKeysLocal(t *testing.T) {
	t.Setenv(identity.PepperEnv, "")
	dir := t.TempDir()
	if rc, _, e := runCLI(t, "tenants", "create", "acme", "--data", dir); rc != 0 {
		t.Fatalf("tenants create: %s", e)
	}
	rc, out, e := runCLI(t, "keys", "create", "--tenant", "acme", "--role", "user", "--name", "bot", "--expires", "30d", "--data", dir)
	key := keyIn(out)
	if rc != 0 || key == "" {
		t.Fatalf("keys create: %d %s %s", rc, out, e)
	}
	_, list, _ := runCLI(t, "keys", "list", "--data", dir)
	if strings.Contains(list, key) || !strings.Contains(list, identity.DisplayPrefix(key)) || !strings.Contains(list, "active") {
		t.Fatalf("keys list: %s", list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	rc, out, e = runCLI(t, "keys", "rotate", id, "--grace", "1h", "--data", dir)
	if rc != 0 || keyIn(out) == "" || keyIn(out) == key {
		t.Fatalf("rotate: %d %s %s", rc, out, e)
	}
	if rc, _, e := runCLI(t, "keys", "revoke", "--data", dir, id); rc != 0 {
		t.Fatalf("revoke: %s", e)
	}
	_, list, _ = runCLI(t, "keys", "list", "--tenant", "acme", "--data", dir)
	if !strings.Contains(list, "revoked") {
		t.Fatalf("after revoke: %s", list)
	}
	if rc, _, _ := runCLI(t, "keys", "create", "--tenant", "nope", "--name", "x", "--data", dir); rc == 0 {
		t.Fatal("key for missing tenant")
	}
	if rc, _, _ := runCLI(t, "keys", "revoke", "--data", dir); rc != 2 {
		t.Fatal("revoke without id")
	}
}

func TestKeysRemote(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := identity.NewService(identity.Config{}, db, bytes.Repeat([]byte("c"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	var boot bytes.Buffer
	if err := identity.Bootstrap(context.Background(), svc, &boot); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.NewHandler(db, svc, nil))
	defer srv.Close()
	t.Setenv(adminKeyEnv, keyIn(boot.String()))
	if rc, _, e := runCLI(t, "tenants", "create", "acme", "--url", srv.URL); rc != 0 {
		t.Fatalf("remote tenants create: %s", e)
	}
	rc, out, e := runCLI(t, "keys", "create", "--url", srv.URL, "--tenant", "acme", "--role", "developer", "--name", "ci")
	if rc != 0 || keyIn(out) == "" {
		t.Fatalf("remote keys create: %s %s", out, e)
	}
	_, list, _ := runCLI(t, "keys", "list", "--url", srv.URL, "--tenant", "acme")
	if !strings.Contains(list, "ci") || strings.Contains(list, keyIn(out)) {
		t.Fatalf("remote list: %s", list)
	}
	_, tl, _ := runCLI(t, "tenants", "list", "--url", srv.URL)
	if !strings.Contains(tl, "acme") {
		t.Fatalf("remote tenants list: %s", tl)
	}
	if rc, _, e := runCLI(t, "keys", "list", "--url", srv.URL, "--admin-key", "rk_wrong"); rc != 1 || !strings.Contains(e, "401") {
		t.Fatalf("bad admin key: %d %s", rc, e)
	}
}
