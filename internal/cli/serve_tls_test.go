package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/internal/testcerts"
)

// --tls-cert, --tls-key and --client-ca set server.tls over the file, and
// an incomplete pair is refused before the gateway starts.
func TestTLSFlags(t *testing.T) {
	cases := []struct {
		name string
		f    tlsFlags
		want string // "" valid
	}{
		{"none", tlsFlags{}, ""},
		{"pair", tlsFlags{cert: "c.pem", key: "k.pem"}, ""},
		{"pair and CA", tlsFlags{cert: "c.pem", key: "k.pem", clientCA: "ca.pem"}, ""},
		{"cert alone", tlsFlags{cert: "c.pem"}, "cert_file and key_file must be set together"},
		{"CA alone", tlsFlags{clientCA: "ca.pem"}, "client_ca_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			err := tc.f.apply(cfg)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tl := cfg.Server.TLS
			if tl.CertFile != tc.f.cert || tl.KeyFile != tc.f.key || tl.ClientCAFile != tc.f.clientCA {
				t.Fatalf("server.tls %+v", tl)
			}
		})
	}
	// Flags win over the file.
	cfg, err := config.Parse([]byte("server:\n  tls: {cert_file: file.crt, key_file: file.key}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := (tlsFlags{cert: "flag.crt", key: "flag.key"}).apply(cfg); err != nil || cfg.Server.TLS.CertFile != "flag.crt" {
		t.Fatalf("%v %+v", err, cfg.Server.TLS)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeTLSCommand runs `rampart serve --tls-cert --tls-key` and calls
// it with the official OpenAI Go SDK over HTTPS, then stops it with
// SIGTERM as an operator would.
func TestServeTLSCommand(t *testing.T) {
	t.Setenv(identity.PepperEnv, "")
	ca := testcerts.NewCA(t, "cli test CA")
	dir := t.TempDir()
	c, k := ca.Server(t, "rampart-cli")
	certFile, keyFile := testcerts.WriteFile(t, dir, "tls.crt", c), testcerts.WriteFile(t, dir, "tls.key", k)
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()

	// A user key made with the CLI, in the store serve will open.
	data := filepath.Join(dir, "data")
	var out, errb bytes.Buffer
	if rc := Main([]string{"tenants", "create", "acme", "--data", data}, strings.NewReader(""), &out, &errb); rc != 0 {
		t.Fatalf("tenants create: %s", errb.String())
	}
	out.Reset()
	if rc := Main([]string{"keys", "create", "--tenant", "acme", "--role", "user", "--name", "tls-test", "--data", data},
		strings.NewReader(""), &out, &errb); rc != 0 {
		t.Fatalf("keys create: %s", errb.String())
	}
	key := ""
	for _, f := range strings.Fields(out.String()) {
		if identity.LooksLikeKey(f) {
			key = f
		}
	}
	if key == "" {
		t.Fatalf("no key in %q", out.String())
	}

	var stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- runServe(&Env{Args: []string{"--listen", addr, "--data", data,
			"--tls-cert", certFile, "--tls-key", keyFile}, Stdout: io.Discard, Stderr: &stderr})
	}()
	roots := &tls.Config{RootCAs: ca.Pool()}
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := tls.Dial("tcp", addr, roots)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case code := <-exit:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS listener: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := openai.NewClient(option.WithBaseURL("https://"+addr+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: roots}}))
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "rampart-demo", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello there")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
		t.Fatalf("empty answer %+v", resp)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
