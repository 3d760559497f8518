package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/storetest"
)

// TestPostgresStoreFromConfig runs two replicas configured with
// store.driver postgres, each with its own data directory: a key created
// through one replica's admin API authenticates on the other, and both
// write to one audit log.
func TestPostgresStoreFromConfig(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	up := fakeUpstream(t, "up", &captured{}, chatAnswer)
	t.Setenv(identity.PepperEnv, strings.Repeat("ab", 32))
	t.Setenv("RAMPART_TEST_AUDIT_HMAC", strings.Repeat("cd", 32))
	vars := map[string]string{"PG_DSN": dsn, "OPENAI_API_KEY": "sk-up"}
	replica := func() *Gateway {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Store = config.Store{Driver: "postgres", DSNEnv: "PG_DSN"}
		cfg.Audit.HMACKeyEnv = "RAMPART_TEST_AUDIT_HMAC"
		cfg.Upstreams = []config.Upstream{{Name: "openai", Provider: "openai", BaseURL: up.URL + "/v1", APIKeyEnv: "OPENAI_API_KEY"}}
		cfg.Audit.Sync = true
		return newGateway(t, cfg, WithGetenv(env(vars)))
	}
	a, b := replica(), replica()
	admin := adminKey(a)
	if admin == "" || adminKey(b) != "" {
		t.Fatalf("want exactly one bootstrap admin key across replicas (a %q, b %q)", admin, adminKey(b))
	}
	w := post(t, a, "/admin/tenants", `{"id":"acme"}`, map[string]string{"Authorization": "Bearer " + admin})
	if w.Code >= 300 {
		t.Fatalf("create tenant on replica a: %d %s", w.Code, w.Body.String())
	}
	w = post(t, a, "/admin/keys", `{"name":"app","tenant":"acme","role":"user"}`, map[string]string{"Authorization": "Bearer " + admin})
	if w.Code != http.StatusCreated && w.Code != http.StatusOK {
		t.Fatalf("create key on replica a: %d %s", w.Code, w.Body.String())
	}
	var created struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.Key == "" {
		t.Fatalf("no key in %s", w.Body.String())
	}
	w = post(t, b, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}`,
		map[string]string{"Authorization": "Bearer " + created.Key})
	if w.Code != http.StatusOK {
		t.Fatalf("key from replica a on replica b: %d %s", w.Code, w.Body.String())
	}
	r := httptest.NewRequest(http.MethodGet, "/admin/audit?limit=100", nil)
	r.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"route":"/v1/chat/completions"`) {
		t.Fatalf("replica a does not see replica b's audit record: %d %s", rec.Code, rec.Body.String())
	}
}

// TestPostgresStoreNeedsDSNAndPepper: a shared store is refused without its
// DSN or without a pepper common to all replicas, and a bad DSN's password
// never reaches the error.
func TestPostgresStoreNeedsDSNAndPepper(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"no dsn":    {map[string]string{"pepper": "x"}, "needs the connection string in $PG_DSN"},
		"no pepper": {map[string]string{"PG_DSN": "postgres://u:hunter2pw@127.0.0.1:1/db"}, "RAMPART_KEY_PEPPER"},
		"no hmac":   {map[string]string{"PG_DSN": "postgres://u:hunter2pw@127.0.0.1:1/db", "pepper": "x", "nohmac": "1"}, "audit.hmac_key_env"},
		"bad dsn":   {map[string]string{"PG_DSN": "postgres://u:hunter2pw@127.0.0.1:1/db?connect_timeout=1", "pepper": "x"}, "cannot open PostgreSQL from $PG_DSN"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(identity.PepperEnv, tc.vars["pepper"])
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Store = config.Store{Driver: "postgres", DSNEnv: "PG_DSN"}
			if tc.vars["nohmac"] == "" {
				cfg.Audit.HMACKeyEnv = "RAMPART_TEST_AUDIT_HMAC"
			}
			_, err := New(cfg, WithLogger(quiet), WithGetenv(env(tc.vars)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2pw") {
				t.Fatalf("error leaks the DSN password: %v", err)
			}
		})
	}
}
