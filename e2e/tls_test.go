package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/internal/testcerts"
)

// tlsRig is the real gateway served over HTTPS on 127.0.0.1:0 (as
// `rampart serve --tls-cert --tls-key [--client-ca]` does) in front of a
// fakeLLM.
type tlsRig struct {
	url, admin string
	llm        *fakeLLM
	ca         *testcerts.CA
	cert, key  string
}

func newTLSRig(t *testing.T, clientCA *testcerts.CA, layers string) *tlsRig {
	t.Helper()
	llm := &fakeLLM{}
	up := &http.Server{Handler: llm, ErrorLog: panicLog(t, "upstream")}
	uln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Serve(uln) }()
	t.Cleanup(func() { _ = up.Close() })

	dir := t.TempDir()
	r := &tlsRig{llm: llm, ca: testcerts.NewCA(t, "e2e server CA")}
	c, k := r.ca.Server(t, "gen-1")
	r.cert, r.key = testcerts.WriteFile(t, dir, "tls.crt", c), testcerts.WriteFile(t, dir, "tls.key", k)
	caLine := ""
	if clientCA != nil {
		caLine = fmt.Sprintf(", client_ca_file: %q", testcerts.WriteFile(t, dir, "clients.pem", clientCA.PEM))
	}
	if layers == "" {
		layers = "layers: {}"
	}
	yml := fmt.Sprintf(`data_dir: %q
server:
  tls: {cert_file: %q, key_file: %q, reload_interval: 50ms%s}
upstreams:
  - {name: oai, provider: openai, base_url: %q}
audit: {sync: true}
%s
`, t.TempDir(), r.cert, r.key, caLine, "http://"+uln.Addr().String()+"/v1", layers)
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	var boot bytes.Buffer
	g, err := gateway.New(cfg, gateway.WithLogger(slog.New(slog.DiscardHandler)), gateway.WithBootstrapOutput(&boot),
		gateway.WithGetenv(func(k string) string { return map[string]string{"OPENAI_API_KEY": "sk-upstream"}[k] }))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	r.url = "https://" + ln.Addr().String()
	r.admin = bootstrapKeyRE.FindString(boot.String())
	if r.admin == "" {
		t.Fatal("no bootstrap key")
	}
	return r
}

// sdk is an official OpenAI Go SDK client that trusts roots (and presents
// certs), on a fresh connection pool, speaking HTTP/2.
func (r *tlsRig) sdk(key string, roots *testcerts.CA, certs ...tls.Certificate) openai.Client {
	hc := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: roots.Pool(), Certificates: certs}}}
	return openai.NewClient(option.WithBaseURL(r.url+"/v1"), option.WithAPIKey(key), option.WithHTTPClient(hc), option.WithMaxRetries(0))
}

func TestTLSWithOpenAISDK(t *testing.T) {
	r := newTLSRig(t, nil, "")
	c := r.sdk(r.admin, r.ca)
	r.llm.answerWith(llmReply{Text: "hello over TLS"})
	resp, err := c.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "hello over TLS" {
		t.Fatalf("answer %q", resp.Choices[0].Message.Content)
	}
	acc, text, err := streamChat(&c, userChat("gpt-4o", "hi"))
	if err != nil || text != "hello over TLS" {
		t.Fatalf("stream %q, %v (%+v)", text, err, acc.Usage)
	}

	// A client that does not trust the server's CA is refused by its own
	// TLS stack (no plaintext fallback).
	other := r.sdk(r.admin, testcerts.NewCA(t, "someone else"))
	if _, err := other.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi")); err == nil {
		t.Fatal("request succeeded against an untrusted certificate")
	}

	// Rotation: new files from a new CA; without a restart, a new
	// connection is served the new certificate.
	newCA := testcerts.NewCA(t, "e2e rotated CA")
	cert, key := newCA.Server(t, "gen-2")
	for path, b := range map[string][]byte{r.cert: cert, r.key: key} {
		tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rotated := r.sdk(r.admin, newCA)
		_, err := rotated.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotated certificate not served: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	old := r.sdk(r.admin, r.ca)
	if _, err := old.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi")); err == nil {
		t.Fatal("old certificate still served after rotation")
	}
}

func TestMTLSWithOpenAISDK(t *testing.T) {
	clients := testcerts.NewCA(t, "e2e client CA")
	r := newTLSRig(t, clients, `layers:
  identity:
    mtls:
      identities:
        billing-service: {tenant: "*", role: user}
`)
	r.llm.answerWith(llmReply{Text: "hello, billing"})
	// Authenticated by its certificate alone (no Authorization header; a
	// wrong API key next to a good certificate is refused by the identity
	// layer, which treats any bad credential as an attack).
	c := r.sdk("", r.ca, clients.Client(t, "billing-service"))
	resp, err := c.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi"), option.WithHeaderDel("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "hello, billing" {
		t.Fatalf("answer %q", resp.Choices[0].Message.Content)
	}
	for name, certs := range map[string][]tls.Certificate{
		"no certificate": nil,
		"unknown CA":     {testcerts.NewCA(t, "rogue").Client(t, "billing-service")},
	} {
		c := r.sdk(r.admin, r.ca, certs...)
		if _, err := c.Chat.Completions.New(context.Background(), userChat("gpt-4o", "hi")); err == nil {
			t.Errorf("%s: request succeeded", name)
		}
	}
}
