package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

const (
	storedCredential = "sk-stored-UPSTREAM-credential-9f8e7d6c5b4a"
	capturedEmail    = "jane.capture@example.org"
)

var testMaster = bytes.Repeat([]byte{0x5a}, secrets.KeySize)

// storeSecret puts one secret into the data directory's database.
func storeSecret(t *testing.T, dir, name, value string) {
	t.Helper()
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mk, err := secrets.ParseMasterKey(base64.StdEncoding.EncodeToString(testMaster))
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := secrets.NewKeyring(mk, nil)
	if err := secrets.NewManager(db, kr).Set(context.Background(), name, []byte(value)); err != nil {
		t.Fatal(err)
	}
}

func TestUpstreamCredentialFromSecretNoPlaintext(t *testing.T) {
	var c captured
	up := fakeUpstream(t, "oa", &c, chatAnswer)
	dir := t.TempDir()
	storeSecret(t, dir, "openai-prod", storedCredential)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Audit.CaptureContent = true
	cfg.Upstreams = []config.Upstream{{Name: "oa", Provider: "openai", BaseURL: up.URL + "/v1", APIKeySecret: "openai-prod"}}
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	masterB64 := base64.StdEncoding.EncodeToString(testMaster)
	g := newGateway(t, cfg, WithLogger(logger), WithGetenv(env(map[string]string{config.DefaultMasterKeyEnv: masterB64})))

	w := post(t, g, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"mail me at `+capturedEmail+`"}]}`, nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	c.mu.Lock()
	auth := c.header.Get("Authorization")
	c.mu.Unlock()
	if auth != "Bearer "+storedCredential {
		t.Fatalf("upstream got Authorization %q, want the stored secret", auth)
	}
	// Erasure is wired into the admin API.
	r := httptest.NewRequest(http.MethodDelete, "/admin/subjects/nobody-in-particular", nil)
	authorize(g, r)
	rw := httptest.NewRecorder()
	g.ServeHTTP(rw, r)
	if rw.Code != 200 || !strings.Contains(rw.Body.String(), `"object":"erasure"`) {
		t.Fatalf("DELETE /admin/subjects: %d %s", rw.Code, rw.Body.String())
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}

	var disk []byte
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		disk = append(disk, b...)
	}
	db, err := sqlite.OpenReader(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs, _ := db.QueryAudit(context.Background(), store.AuditFilter{})
	sealed := 0
	for _, r := range recs {
		if r.Content != nil && r.Content.Sealed != nil {
			sealed++
		}
	}
	if sealed != 1 {
		t.Fatalf("%d records with sealed content, want 1 (capture is wired)", sealed)
	}
	for what, b := range map[string][]byte{"store files": disk, "logs": logs.Bytes()} {
		for _, needle := range []string{storedCredential, masterB64, string(testMaster), capturedEmail} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s hold %.12q... in clear", what, needle)
			}
		}
	}
	if !bytes.Contains(logs.Bytes(), []byte("master_key_id")) {
		t.Fatal("sanity: the captured logs do not include the gateway's start-up lines")
	}
}

func TestDataProtectionNeedsMasterKey(t *testing.T) {
	up := fakeUpstream(t, "oa", &captured{}, chatAnswer)
	for name, mod := range map[string]func(*config.Config){
		"api_key_secret":  func(c *config.Config) { c.Upstreams[0].APIKeySecret, c.Upstreams[0].APIKeyEnv = "openai-prod", "" },
		"capture_content": func(c *config.Config) { c.Audit.CaptureContent = true },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			cfg.Upstreams = []config.Upstream{{Name: "oa", Provider: "openai", BaseURL: up.URL + "/v1", APIKeyEnv: "OA_KEY"}}
			mod(cfg)
			g, err := New(cfg, WithLogger(quiet), WithBootstrapOutput(&bytes.Buffer{}), WithGetenv(env(nil)))
			if err == nil {
				g.Close()
				t.Fatal("started without a master key")
			}
			if !strings.Contains(err.Error(), "master key") {
				t.Fatalf("error does not say what is missing: %v", err)
			}
		})
	}
	// A configured master key but a secret that does not exist.
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Upstreams = []config.Upstream{{Name: "oa", Provider: "openai", BaseURL: up.URL + "/v1", APIKeySecret: "missing"}}
	g, err := New(cfg, WithLogger(quiet), WithBootstrapOutput(&bytes.Buffer{}),
		WithGetenv(env(map[string]string{config.DefaultMasterKeyEnv: base64.StdEncoding.EncodeToString(testMaster)})))
	if err == nil {
		g.Close()
		t.Fatal("started with a missing secret")
	}
	if !strings.Contains(err.Error(), `"missing"`) {
		t.Fatalf("error does not name the secret: %v", err)
	}
	// Without a master key and without secrets the gateway runs.
	cfg = config.Default()
	cfg.DataDir = t.TempDir()
	g, err = New(cfg, WithLogger(quiet), WithBootstrapOutput(&bytes.Buffer{}), WithGetenv(env(nil)))
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
}
