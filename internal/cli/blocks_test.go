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

func blockIDIn(s string) string {
	for _, f := range strings.Fields(strings.TrimSuffix(strings.ReplaceAll(s, ":", " "), "\n")) {
		if store.ValidBlockID(f) {
			return f
		}
	}
	return ""
}

func TestBlocksLocal(t *testing.T) {
	t.Setenv(identity.PepperEnv, "")
	dir := t.TempDir()
	if rc, _, e := runCLI(t, "tenants", "create", "acme", "--data", dir); rc != 0 {
		t.Fatalf("tenants create: %s", e)
	}
	_, out, _ := runCLI(t, "keys", "create", "--tenant", "acme", "--role", "user", "--name", "bot", "--data", dir)
	if keyIn(out) == "" {
		t.Fatalf("keys create: %s", out)
	}
	_, list, _ := runCLI(t, "keys", "list", "--data", dir)
	keyID := strings.Fields(strings.Split(list, "\n")[1])[0]

	for _, c := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"no target", []string{"--reason", "x"}, false},
		{"two targets", []string{"--ip", "192.0.2.1", "--key", keyID, "--reason", "x"}, false},
		{"no reason", []string{"--ip", "192.0.2.1"}, false},
		{"bad ip", []string{"--ip", "192.0.2.300", "--reason", "x"}, false},
		{"bad ttl", []string{"--ip", "192.0.2.1", "--ttl", "forever", "--reason", "x"}, false},
		{"user without tenant", []string{"--user", "bob", "--reason", "x"}, false},
		{"unknown key", []string{"--key", "key_nope", "--reason", "x"}, false},
		{"ip", []string{"--ip", "192.0.2.1", "--ttl", "2h", "--reason", "port scan"}, true},
		{"key throttle", []string{"--key", keyID, "--throttle", "10", "--reason", "noisy"}, true},
		{"user", []string{"--user", "bob", "--tenant", "acme", "--reason", "abuse"}, true},
	} {
		rc, out, e := runCLI(t, append([]string{"blocks", "add", "--data", dir}, c.args...)...)
		if (rc == 0) != c.ok {
			t.Errorf("%s: rc %d, out %q, err %q", c.name, rc, out, e)
		}
	}
	rc, list, e := runCLI(t, "blocks", "list", "--data", dir)
	if rc != 0 || !strings.Contains(list, "192.0.2.1") || !strings.Contains(list, "throttle 10/min") ||
		!strings.Contains(list, "acme") || !strings.Contains(list, "port scan") || !strings.Contains(list, "cli") {
		t.Fatalf("blocks list: %d %s %s", rc, list, e)
	}
	id := blockIDIn(strings.Split(list, "\n")[1])
	if rc, _, e := runCLI(t, "blocks", "remove", id, "--data", dir); rc != 0 {
		t.Fatalf("remove: %s", e)
	}
	if rc, _, _ := runCLI(t, "blocks", "remove", id, "--data", dir); rc == 0 {
		t.Fatal("removing twice succeeded")
	}
	if _, list, _ := runCLI(t, "blocks", "list", "--data", dir); strings.Contains(list, id) {
		t.Fatalf("still listed: %s", list)
	}
	// Local changes are audited too (3 adds, 1 removal).
	_, tail, _ := runCLI(t, "audit", "export", "--since", "1h", "--data", dir)
	if n := strings.Count(tail, `"route":"/admin/blocks"`); n != 4 || !strings.Contains(tail, "port scan") {
		t.Fatalf("%d audit records of block changes, want 4: %s", n, tail)
	}
}

func TestBlocksRemote(t *testing.T) {
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
	srv := httptest.NewServer(admin.NewHandler(db, svc, nil, admin.WithBlocks(db, db)))
	defer srv.Close()
	t.Setenv(adminKeyEnv, keyIn(boot.String()))
	rc, out, e := runCLI(t, "blocks", "add", "--url", srv.URL, "--cidr", "203.0.113.7/24", "--ttl", "30m", "--reason", "scanner")
	id := blockIDIn(out)
	if rc != 0 || id == "" {
		t.Fatalf("remote add: %d %s %s", rc, out, e)
	}
	_, list, _ := runCLI(t, "blocks", "list", "--url", srv.URL)
	if !strings.Contains(list, "203.0.113.0/24") || !strings.Contains(list, "key_") {
		t.Fatalf("remote list (created by the admin key id): %s", list)
	}
	if rc, _, e := runCLI(t, "blocks", "add", "--url", srv.URL, "--ip", "nope", "--reason", "x"); rc == 0 || !strings.Contains(e, "invalid_request") {
		t.Fatalf("remote add of a bad address: %d %s", rc, e)
	}
	if rc, _, e := runCLI(t, "blocks", "remove", id, "--url", srv.URL); rc != 0 {
		t.Fatalf("remote remove: %s", e)
	}
	// The change is in the audit log with the admin's key id.
	recs, err := db.QueryAudit(context.Background(), store.AuditFilter{})
	// (The refused add in between is audited too.)
	if err != nil || len(recs) != 3 || recs[0].Route != "/admin/blocks" || recs[0].KeyID == "" ||
		recs[0].Decisions[0].Code != "block_added" || recs[1].Decisions[0].Code != "denied" ||
		recs[2].Decisions[0].Code != "block_removed" {
		t.Fatalf("audit: %+v %v", recs, err)
	}
}
