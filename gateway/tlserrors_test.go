package gateway

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/tlsserve"
)

// isJSONError reports whether b is rampart's JSON error object.
func isJSONError(b []byte) bool {
	var e struct {
		Error struct{ Message, Code string } `json:"error"`
	}
	return json.Unmarshal(b, &e) == nil && e.Error.Code != "" && e.Error.Message != ""
}

// TestPreHandlerErrorsAreJSONOverTLS: behind rampart's own TLS listener,
// net/http's pre-handler answers are JSON too (HTTP/1.1 over TLS), the
// 431 is JSON over HTTP/2, plain HTTP on the TLS port gets a JSON 400,
// and an oversized upload reads its 413 over both protocols.
func TestPreHandlerErrorsAreJSONOverTLS(t *testing.T) {
	f := newTLSFiles(t)
	g, addr := serveYAML(t, fmt.Sprintf("server:\n  max_body_bytes: 2097152\n  tls: {cert_file: %q, key_file: %q}\n", f.cert, f.key))
	h1conf := &tls.Config{RootCAs: f.ca.Pool(), NextProtos: []string{"http/1.1"}}

	t.Run("http1.1 over TLS", func(t *testing.T) {
		for name, req := range map[string]string{
			"duplicate Content-Length": "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
			"negative Content-Length":  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
			"bad header bytes":         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01: y\r\n\r\n",
			"header too large":         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n",
			"HTTP/0.9":                 "GET /healthz\r\n\r\n",
		} {
			c, err := tls.Dial("tcp", addr, h1conf)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(c, req)
			b, _ := io.ReadAll(c)
			c.Close()
			head, body, _ := strings.Cut(string(b), "\r\n\r\n")
			if !strings.HasPrefix(head, "HTTP/1.1 4") || !strings.Contains(head, "Content-Type: application/json") || !isJSONError([]byte(body)) {
				t.Errorf("%s: %q", name, trim(string(b)))
			}
		}
	})

	t.Run("plain HTTP on the TLS port", func(t *testing.T) {
		out := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		head, body, _ := strings.Cut(out, "\r\n\r\n")
		if !strings.Contains(head, " 400 ") || !isJSONError([]byte(body)) {
			t.Fatalf("%q", trim(out))
		}
	})

	h2 := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}, ForceAttemptHTTP2: true}}
	h1 := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: h1conf.Clone()}}

	t.Run("431 is JSON over both protocols", func(t *testing.T) {
		for name, c := range map[string]*http.Client{"h2": h2, "http/1.1": h1} {
			req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/healthz", nil)
			req.Header.Set("X-Big", strings.Repeat("a", 96<<10)) // 1.5x the 64 KiB default
			res, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			wantMajor := 2
			if name == "http/1.1" {
				wantMajor = 1
			}
			if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || res.ProtoMajor != wantMajor || !isJSONError(b) {
				t.Errorf("%s: %s %d %q", name, res.Proto, res.StatusCode, trim(string(b)))
			}
		}
		// Within the limit: served over HTTP/2.
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/healthz", nil)
		req.Header.Set("X-Fits", strings.Repeat("a", 60<<10))
		res, err := h2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 2 {
			t.Fatalf("header within the limit: %s %d", res.Proto, res.StatusCode)
		}
	})

	t.Run("oversized upload reads 413", func(t *testing.T) {
		body := strings.Repeat("a", 7<<20) // past socket buffers, within the 4x drain bound
		// HTTP/1.1 over TLS, whole body written before reading.
		c, err := tls.Dial("tcp", addr, h1conf)
		if err != nil {
			t.Fatal(err)
		}
		b, werr := uploadWhole(c, adminKey(g), body)
		if werr != nil || !strings.HasPrefix(b, "HTTP/1.1 413") || !strings.Contains(b, `"error"`) {
			t.Fatalf("http/1.1: write %v: %q", werr, trim(b))
		}
		// HTTP/2 with the Go client.
		req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		authorize(g, req)
		res, err := h2.Do(req)
		if err != nil {
			t.Fatalf("h2: %v", err)
		}
		rb, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || res.ProtoMajor != 2 || !isJSONError(rb) {
			t.Fatalf("h2: %s %d %q", res.Proto, res.StatusCode, trim(string(rb)))
		}
	})

	// The split listener must not break ordinary serving: both protocols
	// still answer a chat request.
	for name, c := range map[string]*http.Client{"h2": h2, "http/1.1": h1} {
		req := chatRequest(t, "https://"+addr)
		authorize(g, req)
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("%s: %d, HSTS %q", name, res.StatusCode, res.Header.Get("Strict-Transport-Security"))
		}
	}
}

// flakyListener fails its first n Accepts as an exhausted process does.
type flakyListener struct {
	net.Listener
	n int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.n > 0 {
		l.n--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestTLSSplitSurvivesAcceptErrors: running out of file descriptors for a
// moment must not stop the TLS listener for good (an attacker could
// otherwise take the gateway down by exhausting them once).
func TestTLSSplitSurvivesAcceptErrors(t *testing.T) {
	f := newTLSFiles(t)
	r, err := tlsserve.Load(tlsserve.Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	split := newTLSSplit(&flakyListener{Listener: inner, n: 5}, r.Config(), 5*time.Second)
	defer split.Close()
	go func() {
		c, err := tls.Dial("tcp", inner.Addr().String(), &tls.Config{RootCAs: f.ca.Pool(), NextProtos: []string{"http/1.1"}})
		if err == nil {
			_, _ = c.Write([]byte("x"))
			c.Close()
		}
	}()
	ln := split.H1()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("accept after transient errors: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no connection after transient accept errors")
	}
	ln.Close()
	if _, err := split.H2().Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
