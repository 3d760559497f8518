package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// TestLocalActionsAudited: key, tenant and secret changes made on the store
// directly are audited like the admin API's, never with a secret value.
func TestLocalActionsAudited(t *testing.T) {
	dir := newDataDir(t)
	t.Setenv(config.DefaultMasterKeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	t.Setenv(config.DefaultPreviousMasterKeyEnv, "")
	const value = "sk-audited-secret-value-0123456789"
	steps := [][]string{
		{"tenants", "create", "acme", "--data", dir},
		{"keys", "create", "--tenant", "acme", "--role", "user", "--name", "bot", "--data", dir},
		{"secrets", "set", "openai", "--data", dir},
		{"secrets", "delete", "openai", "--data", dir},
	}
	for _, args := range steps {
		if rc, _, e := runCLIIn(t, value, args...); rc != 0 {
			t.Fatalf("%v: %s", args, e)
		}
	}
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, err := db.QueryAudit(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range recs {
		codes = append(codes, r.Decisions[0].Code)
		for _, f := range r.Decisions[0].Findings {
			if strings.Contains(f.Text, value) {
				t.Fatal("a secret value reached the audit log")
			}
		}
	}
	if got := strings.Join(codes, ","); got != "tenant_created,key_created,secret_set,secret_deleted" {
		t.Fatalf("audited actions: %s", got)
	}
}
