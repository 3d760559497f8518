package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/internal/testcerts"
)

// serveYAML builds a gateway from a YAML config (its data directory a
// temporary one) and serves it on 127.0.0.1:0; it returns the address.
func serveYAML(t *testing.T, yml string) (*Gateway, string) {
	t.Helper()
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	g := newGateway(t, cfg)
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
	return g, ln.Addr().String()
}

const chatBody = `{"model":"rampart-demo","messages":[{"role":"user","content":"Hello there"}]}`

func chatRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func errorCode(t *testing.T, res *http.Response) string {
	t.Helper()
	var body struct{ Error struct{ Code string } }
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("status %d, body %q is not an error object", res.StatusCode, b)
	}
	return body.Error.Code
}

type tlsFiles struct {
	ca               *testcerts.CA
	cert, key        string
	clientCA         *testcerts.CA
	clientCAFilePath string
}

func newTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	dir := t.TempDir()
	f := &tlsFiles{ca: testcerts.NewCA(t, "rampart test CA"), clientCA: testcerts.NewCA(t, "rampart client CA")}
	c, k := f.ca.Server(t, "rampart.test")
	f.cert = testcerts.WriteFile(t, dir, "tls.crt", c)
	f.key = testcerts.WriteFile(t, dir, "tls.key", k)
	f.clientCAFilePath = testcerts.WriteFile(t, dir, "clients.pem", f.clientCA.PEM)
	return f
}

func TestServeTLS(t *testing.T) {
	f := newTLSFiles(t)
	g, addr := serveYAML(t, fmt.Sprintf("server:\n  tls: {cert_file: %q, key_file: %q}\n", f.cert, f.key))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}, ForceAttemptHTTP2: true}}
	req := chatRequest(t, "https://"+addr)
	authorize(g, req)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version != tls.VersionTLS13 || res.ProtoMajor != 2 {
		t.Fatalf("status %d, proto %s, tls %+v", res.StatusCode, res.Proto, res.TLS)
	}
	for k, want := range map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Plain HTTP on the TLS port gets nothing useful, old TLS is refused.
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: f.ca.Pool(), MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestServeMTLSIdentity(t *testing.T) {
	f := newTLSFiles(t)
	_, addr := serveYAML(t, fmt.Sprintf(`server:
  tls: {cert_file: %q, key_file: %q, client_ca_file: %q}
layers:
  identity:
    mtls:
      identities:
        svc-checkout: {tenant: "*", role: user}
`, f.cert, f.key, f.clientCAFilePath))
	do := func(certs []tls.Certificate) (*http.Response, error) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool(), Certificates: certs}}}
		return client.Do(chatRequest(t, "https://"+addr))
	}
	res, err := do([]tls.Certificate{f.clientCA.Client(t, "svc-checkout")})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("mapped client certificate: status %d (%s)", res.StatusCode, errorCode(t, res))
	}
	res.Body.Close()
	// Verified by the CA but not mapped: the identity layer refuses it.
	res, err = do([]tls.Certificate{f.clientCA.Client(t, "svc-unknown")})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("unmapped certificate: status %d", res.StatusCode)
	}
	res.Body.Close()
	// No certificate, or one from another CA: the handshake fails.
	if _, err := do(nil); err == nil {
		t.Fatal("no client certificate accepted")
	}
	if _, err := do([]tls.Certificate{testcerts.NewCA(t, "rogue").Client(t, "svc-checkout")}); err == nil {
		t.Fatal("certificate from an unknown CA accepted")
	}
}

func TestServeTrustedProxiesAndIPLists(t *testing.T) {
	const lists = `layers:
  network:
    deny: [203.0.113.0/24]
`
	get := func(g *Gateway, addr, xff string) *http.Response {
		req := chatRequest(t, "http://"+addr)
		authorize(g, req)
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	g, addr := serveYAML(t, "server:\n  trusted_proxies: [127.0.0.1/32]\n"+lists)
	if res := get(g, addr, "203.0.113.9"); res.StatusCode != 403 || errorCode(t, res) != "ip_not_allowed" {
		t.Fatalf("denied client behind a trusted proxy: status %d", res.StatusCode)
	}
	if res := get(g, addr, "203.0.113.9, 198.51.100.1"); res.StatusCode != 200 {
		t.Fatalf("allowed client (a forged entry on the left): status %d", res.StatusCode)
	}
	// Without trusted proxies the header is ignored: the client is
	// 127.0.0.1 whatever it claims.
	g2, addr2 := serveYAML(t, lists)
	if res := get(g2, addr2, "203.0.113.9"); res.StatusCode != 200 {
		t.Fatalf("X-Forwarded-For honoured without trusted proxies: status %d", res.StatusCode)
	}
}

func TestServeConnectionCap(t *testing.T) {
	_, addr := serveYAML(t, "server:\n  max_conns_per_ip: 2\n")
	var open []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	// The third connection from 127.0.0.1 is closed before a request.
	c, err := net.Dial("tcp", addr)
	if err == nil {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if b, err := io.ReadAll(c); err == nil && len(b) > 0 {
			t.Fatalf("third connection answered: %q", b)
		}
	}
	// The first two still work.
	_ = open[0].SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(open[0], "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if b, _ := io.ReadAll(open[0]); !strings.HasPrefix(string(b), "HTTP/1.1 200") {
		t.Fatalf("admitted connection: %q", b)
	}
}

func TestServeSlowlorisCut(t *testing.T) {
	_, addr := serveYAML(t, "server:\n  read_header_timeout: 300ms\n")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	cut := false
	for i := 0; i < 100 && !cut; i++ {
		if _, err := io.WriteString(c, "X"); err != nil {
			cut = true
			break
		}
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 512)); err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				cut = true
			}
		}
	}
	if !cut || time.Since(start) > 3*time.Second {
		t.Fatalf("slow header client cut=%v after %v", cut, time.Since(start))
	}
}

func TestServeCORS(t *testing.T) {
	preflight := func(addr string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, "http://"+addr+"/v1/chat/completions", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	_, off := serveYAML(t, "")
	if res := preflight(off); res.StatusCode < 400 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off: status %d, allow-origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	_, on := serveYAML(t, "server:\n  cors: {allowed_origins: [\"https://app.example.com\"]}\n")
	// Answered without credentials: the preflight comes before authentication.
	if res := preflight(on); res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("CORS on: status %d, allow-origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestServeBadTLSFiles(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile = "/nonexistent/tls.crt", "/nonexistent/tls.key"
	g := newGateway(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Serve = %v", err)
	}
}
