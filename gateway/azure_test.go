package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

// azureFake is an Azure OpenAI deployment endpoint: it records what it got.
type azureFake struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (f *azureFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r.Clone(r.Context()))
	f.mu.Unlock()
	if r.Header.Get("Api-Key") == "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi from azure"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}`)
}

func (f *azureFake) last(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached the Azure endpoint")
	}
	return f.reqs[len(f.reqs)-1]
}

const azureChatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`

func TestAzureAPIKeyDeploymentURL(t *testing.T) {
	fake := &azureFake{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "azure", Provider: "openai", Auth: "api-key", APIKeyEnv: "AZURE_OPENAI_API_KEY",
		BaseURL: srv.URL + "/openai/deployments/gpt-4o-prod?api-version=2024-10-21"}}
	g := newGateway(t, cfg, WithGetenv(func(k string) string {
		if k == "AZURE_OPENAI_API_KEY" {
			return "azure-key-1"
		}
		return ""
	}))
	w := post(t, g, "/v1/chat/completions?foo=bar&api-version=client-choice", azureChatBody, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "hi from azure") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	r := fake.last(t)
	if r.URL.Path != "/openai/deployments/gpt-4o-prod/chat/completions" {
		t.Fatalf("path %q", r.URL.Path)
	}
	if q := r.URL.Query(); q.Get("api-version") != "2024-10-21" || q.Get("foo") != "bar" || len(q["api-version"]) != 1 {
		t.Fatalf("query %q", r.URL.RawQuery)
	}
	if r.Header.Get("Api-Key") != "azure-key-1" || r.Header.Get("Authorization") != "" {
		t.Fatalf("headers %v", r.Header)
	}
}

func TestAzureEntraToken(t *testing.T) {
	fake := &azureFake{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var fetched atomic.Int32
	var fail atomic.Bool
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.URL.Path != "/tenant/oauth2/v2.0/token" || r.Form.Get("grant_type") != "client_credentials" ||
			r.Form.Get("client_id") != "11111111-2222-3333-4444-555555555555" || r.Form.Get("client_secret") != "s3cret" ||
			r.Form.Get("scope") != "https://cognitiveservices.azure.com/.default" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		if fail.Load() {
			http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		n := fetched.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	defer idp.Close()
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "azure", Provider: "openai", Auth: "entra",
		BaseURL: srv.URL + "/openai/v1",
		Entra: &config.EntraAuth{TenantID: "contoso.onmicrosoft.com", ClientID: "11111111-2222-3333-4444-555555555555",
			TokenURL: idp.URL + "/tenant/oauth2/v2.0/token"}}}
	g := newGateway(t, cfg, WithGetenv(func(k string) string {
		if k == "AZURE_CLIENT_SECRET" {
			return "s3cret"
		}
		return ""
	}))
	for i := 0; i < 3; i++ {
		w := post(t, g, "/v1/chat/completions", azureChatBody, nil)
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	r := fake.last(t)
	if r.URL.Path != "/openai/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("Api-Key") != "" {
		t.Fatalf("%s %v", r.URL.Path, r.Header)
	}
	if fetched.Load() != 1 {
		t.Fatalf("token fetched %d times for 3 requests; want 1 (cached until near expiry)", fetched.Load())
	}
}

func TestAzureEntraTokenFailure(t *testing.T) {
	fake := &azureFake{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret s3cr..."}`, http.StatusUnauthorized)
	}))
	defer idp.Close()
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "azure", Provider: "openai", Auth: "entra", BaseURL: srv.URL + "/openai/v1",
		Entra: &config.EntraAuth{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "11111111-2222-3333-4444-555555555555",
			TokenURL: idp.URL + "/t/oauth2/v2.0/token", ClientSecretEnv: "MY_SECRET"}}}
	g := newGateway(t, cfg, WithGetenv(func(k string) string {
		if k == "MY_SECRET" {
			return "s3cret"
		}
		return ""
	}))
	w := post(t, g, "/v1/chat/completions", azureChatBody, nil)
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "upstream_auth_error") ||
		strings.Contains(w.Body.String(), "AADSTS") || strings.Contains(w.Body.String(), "s3cr") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(fake.reqs) != 0 {
		t.Fatal("a request went upstream without a token")
	}
}

func TestAzureEntraNeedsSecret(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Upstreams = []config.Upstream{{Name: "azure", Provider: "openai", Auth: "entra", BaseURL: "https://x.openai.azure.com/openai/v1",
		Entra: &config.EntraAuth{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "11111111-2222-3333-4444-555555555555"}}}
	if _, err := New(cfg, WithLogger(quiet), WithGetenv(func(string) string { return "" })); err == nil || !strings.Contains(err.Error(), "AZURE_CLIENT_SECRET") {
		t.Fatalf("want an error naming the empty secret variable, got %v", err)
	}
}

// TestGeminiOpenAICompatible: Gemini through Google's OpenAI-compatible
// endpoint is an openai upstream with that base URL; the URL and bearer
// key reach the right place.
func TestGeminiOpenAICompatible(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got = r.Clone(r.Context())
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":"hi from gemini"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "gemini", Provider: "openai", APIKeyEnv: "GEMINI_API_KEY",
		BaseURL: srv.URL + "/v1beta/openai", Models: []string{"gemini-*"}}}
	g := newGateway(t, cfg, WithGetenv(func(k string) string {
		if k == "GEMINI_API_KEY" {
			return "gk"
		}
		return ""
	}))
	w := post(t, g, "/v1/chat/completions", `{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hello"}]}`, nil)
	if w.Code != 200 || got == nil || got.URL.Path != "/v1beta/openai/chat/completions" || got.Header.Get("Authorization") != "Bearer gk" {
		t.Fatalf("%d %s %v", w.Code, w.Body, got)
	}
	// The Anthropic route has no anthropic upstream here: a clear 404,
	// not a translation.
	w = post(t, g, "/v1/messages", `{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":"hello"}]}`, nil)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "does not translate between provider APIs") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestClientCredentialQueryNotForwarded: the client's query string goes
// upstream (Azure's and OpenAI-compatible servers' parameters), but never
// a parameter that carries a credential (key, api-key, api_key, apikey,
// access_token, any case): a client that also puts its rampart key in the
// URL (as Gemini's REST examples teach) must not hand it to the provider.
func TestClientCredentialQueryNotForwarded(t *testing.T) {
	for _, base := range []string{"/openai/deployments/gpt-4o-prod?api-version=2024-10-21", "/v1"} {
		fake := &azureFake{}
		srv := httptest.NewServer(fake)
		cfg := config.Default()
		cfg.Upstreams = []config.Upstream{{Name: "up", Provider: "openai", Auth: "api-key", BaseURL: srv.URL + base}}
		g := newGateway(t, cfg, WithGetenv(env(map[string]string{"OPENAI_API_KEY": "up-key"})))
		key := adminKey(g)
		w := post(t, g, "/v1/chat/completions?foo=bar&key="+key+"&API-KEY="+key+"&api_key="+key+"&apikey="+key+"&access_token="+key, azureChatBody, nil)
		if w.Code != 200 {
			srv.Close()
			t.Fatalf("%s: %d %s", base, w.Code, w.Body)
		}
		r := fake.last(t)
		srv.Close()
		if strings.Contains(r.URL.RawQuery, key) || r.URL.Query().Get("foo") != "bar" {
			t.Errorf("%s: upstream query %q", base, r.URL.RawQuery)
		}
	}
}
