package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
)

// TestStoreDeadlineSIGSTOP: with a hung PostgreSQL (SIGSTOP), every store
// user of the gateway gets its answer within store.timeout (+ a margin for
// the loaded test machine): admin requests 503 store_unavailable, an
// unverified key 503 identity_unavailable, direct calls of every store
// interface context.DeadlineExceeded; recently verified keys keep being
// served from the identity cache. PostgreSQL gets the server-side
// statement_timeout (unless the DSN sets its own).
func TestStoreDeadlineSIGSTOP(t *testing.T) {
	pg := startPrivatePG(t)
	db, err := postgres.OpenWith(context.Background(), pg.dsn, postgres.Options{StatementTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var st string
	if err := db.Pool().QueryRow(context.Background(), "SHOW statement_timeout").Scan(&st); err != nil || st != "30s" {
		t.Fatalf("statement_timeout %q %v", st, err)
	}
	sep := "?"
	if strings.Contains(pg.dsn, "?") {
		sep = "&"
	}
	own, err := postgres.OpenWith(context.Background(), pg.dsn+sep+"statement_timeout=5000", postgres.Options{StatementTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := own.Pool().QueryRow(context.Background(), "SHOW statement_timeout").Scan(&st); err != nil || st != "5s" {
		t.Fatalf("DSN's own statement_timeout: %q %v", st, err)
	}
	own.Close()

	const timeout = config.DefaultStoreTimeout
	const margin = 1500 * time.Millisecond
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Audit.SpoolReplay = 100 * time.Millisecond
	g := newGateway(t, cfg, WithStore(db))
	m := acmeEnv(t, g)
	global := m.global
	_, key := m.newKey("acme", identity.RoleUser)
	_, unused := m.newKey("acme", identity.RoleUser)
	chat := `{"model":"rampart-demo","messages":[{"role":"user","content":"hello"}]}`
	for _, k := range []string{key, global} {
		if w := m.do(http.MethodPost, "/v1/chat/completions", k, chat); w.Code != http.StatusOK {
			t.Fatalf("before the fault: %d", w.Code)
		}
		if w := m.do(http.MethodGet, "/admin/keys", global, ""); w.Code != http.StatusOK {
			t.Fatalf("before the fault: %d", w.Code)
		}
	}

	pg.stopProcesses()
	defer pg.cont()
	timed := func(name string, fn func() (int, string)) {
		t.Helper()
		start := time.Now()
		status, body := fn()
		d := time.Since(start)
		t.Logf("hung store: %-28s %d after %s", name, status, d.Round(time.Millisecond))
		if d > timeout+margin {
			t.Errorf("%s: answered after %s, want within %s + %s", name, d, timeout, margin)
		}
		if status != 0 && status != http.StatusOK && status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %s", name, status, trim(body))
		}
	}
	req := func(method, path, k, body, wantCode string) func() (int, string) {
		return func() (int, string) {
			w := m.do(method, path, k, body)
			if wantCode != "" && (w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"`+wantCode+`"`)) {
				t.Errorf("%s %s: want 503 %s, got %d %s", method, path, wantCode, w.Code, trim(w.Body.String()))
			}
			if wantCode == "" && w.Code != http.StatusOK {
				t.Errorf("%s %s: want 200 from the identity cache, got %d %s", method, path, w.Code, trim(w.Body.String()))
			}
			return w.Code, w.Body.String()
		}
	}
	timed("cached key, chat", req(http.MethodPost, "/v1/chat/completions", key, chat, ""))
	timed("cached key, scan", req(http.MethodPost, "/v1/scan", key, `{"text":"hello"}`, ""))
	timed("unverified key, chat", req(http.MethodPost, "/v1/chat/completions", unused, chat, "identity_unavailable"))
	timed("GET /admin/keys", req(http.MethodGet, "/admin/keys", global, "", "store_unavailable"))
	timed("GET /admin/spend", req(http.MethodGet, "/admin/spend", global, "", "store_unavailable"))
	timed("POST /admin/blocks", req(http.MethodPost, "/admin/blocks", global, `{"kind":"ip","value":"203.0.113.9","ttl":"1h","reason":"t"}`, "store_unavailable"))

	// Every store interface, called as its users do (no deadline of their
	// own, or a longer one: secrets 10s, blocklist refresh and incident
	// blocks 5s).
	s := g.store.(fullStore)
	long := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	for name, call := range map[string]func(ctx context.Context) error{
		"AddBlock (incident responder)": func(ctx context.Context) error {
			_, err := s.AddBlock(ctx, store.Block{Action: "block", Kind: "ip", Value: "203.0.113.7", Reason: "t", ExpiresAt: time.Now().Add(time.Hour)})
			return err
		},
		"BlocksVersion (refresh)": func(ctx context.Context) error { _, err := s.BlocksVersion(ctx); return err },
		"ListBlocks (refresh)":    func(ctx context.Context) error { _, err := s.ListBlocks(ctx, time.Now()); return err },
		"GetSecret":               func(ctx context.Context) error { _, _, err := s.GetSecret(ctx, "x"); return err },
		"QuerySpend":              func(ctx context.Context) error { _, err := s.QuerySpend(ctx, store.SpendFilter{}); return err },
		"ListMCPTools":            func(ctx context.Context) error { _, err := s.ListMCPTools(ctx, "", ""); return err },
		"WriteAudit": func(ctx context.Context) error {
			return s.WriteAudit(ctx, []*store.AuditRecord{{Time: time.Now(), Route: "/t"}})
		},
		"KeyByHash": func(ctx context.Context) error { _, err := s.KeyByHash(ctx, []byte("x")); return err },
		"TouchKeys": func(ctx context.Context) error { return s.TouchKeys(ctx, map[string]time.Time{"k": time.Now()}) },
	} {
		timed(name, func() (int, string) {
			ctx, cancel := long()
			defer cancel()
			err := call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) && (err == nil || !strings.Contains(err.Error(), "timeout")) {
				t.Errorf("%s: %v, want the deadline", name, err)
			}
			return 0, ""
		})
	}
	pg.cont()
	waitFor(t, "store back", func() bool { return m.do(http.MethodGet, "/admin/keys", global, "").Code == http.StatusOK })
	fmt.Fprintf(os.Stderr, "TestStoreDeadlineSIGSTOP: store.timeout %s held by every store user\n", timeout)
}
