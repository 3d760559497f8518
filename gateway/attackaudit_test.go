package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// postgresGateway is a gateway over a fresh PostgreSQL schema of its own
// (and its own data directory), configured further by mod.
func postgresGateway(t *testing.T, mod func(*config.Config)) (*Gateway, *postgres.DB) {
	t.Helper()
	db, err := postgres.Open(context.Background(), storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	mod(cfg)
	return newGateway(t, cfg, WithStore(db)), db
}

// TestAuditNotPoisonedByClientStrings: an ordinary client key chose a
// model name PostgreSQL cannot store (a NUL byte, or a name too long for
// the spend table's index). Before the fix the store refused the whole
// batch: the attacker's record and the records batched with it went to
// the local spool, whose replay stopped at that batch for ever (so no
// spooled record of a later outage was replayed either). Now each string
// is stored readable and every request of the test is in the store.
func TestAuditNotPoisonedByClientStrings(t *testing.T) {
	g, db := postgresGateway(t, func(c *config.Config) { c.Audit.SpoolReplay = 50 * time.Millisecond })
	m := acmeEnv(t, g)
	keyID, key := m.newKey("acme", identity.RoleUser)
	var b [3000]byte
	_, _ = rand.Read(b[:])
	long := hex.EncodeToString(b[:]) // 6000 bytes that do not compress
	models := []string{"rampart-demo", `x\u0000y`, long, `bad\ud800`, "rampart-demo"}
	for _, model := range models {
		w := m.do(http.MethodPost, "/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hello"}]}`)
		if w.Code >= 500 {
			t.Errorf("model %.20q: %d %s", model, w.Code, w.Body.String())
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, err := db.QueryAudit(context.Background(), store.AuditFilter{KeyID: keyID, Limit: 100})
		if err == nil && len(recs) == len(models) && g.alog.Spooled() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests in the audit store (err %v), %d spooled, %d dropped", len(recs), len(models), err, g.alog.Spooled(), g.alog.Dropped())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
