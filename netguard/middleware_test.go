package netguard

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func mustHandler(t *testing.T, next http.Handler, o Options) http.Handler {
	t.Helper()
	h, err := Handler(next, o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=600") // must not survive
	_, _ = io.WriteString(w, ClientIP(r))
})

func TestSecurityHeaders(t *testing.T) {
	h := mustHandler(t, okHandler, Options{HSTSMaxAge: 365 * 24 * time.Hour, HSTSIncludeSubdomains: true})
	check := func(t *testing.T, res *http.Response, hsts string) {
		t.Helper()
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
			"Strict-Transport-Security": hsts} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	}
	t.Run("plain HTTP: no HSTS", func(t *testing.T) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		check(t, res, "")
	})
	t.Run("TLS: HSTS", func(t *testing.T) {
		srv := httptest.NewTLSServer(h)
		defer srv.Close()
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		check(t, res, "max-age=31536000; includeSubDomains")
	})
	t.Run("no body and an error status", func(t *testing.T) {
		h := mustHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/empty" {
				return
			}
			http.Error(w, "no", http.StatusTeapot)
		}), Options{})
		for _, p := range []string{"/empty", "/err"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			check(t, rec.Result(), "")
		}
	})
}

func TestHandlerResolvesClient(t *testing.T) {
	h := mustHandler(t, okHandler, Options{Resolver: NewResolver(mustSet(t, "192.0.2.0/24"))})
	req := httptest.NewRequest("GET", "/", nil) // RemoteAddr 192.0.2.1:1234
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "198.51.100.4" {
		t.Fatalf("client %q", rec.Body.String())
	}
}

func TestCORS(t *testing.T) {
	preflight := func(origin, headers string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, "/v1/chat/completions", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}
	reached := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		if r.Method == http.MethodOptions {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusUnauthorized) // as if authentication failed
	})
	off := mustHandler(t, next, Options{})
	on := mustHandler(t, next, Options{CORS: CORS{AllowedOrigins: []string{"https://app.example.com", "https://*.corp.example"}}})
	cases := []struct {
		name        string
		h           http.Handler
		req         *http.Request
		status      int
		allowOrigin string
		reachesNext bool
	}{
		{"off: preflight gets no permission", off, preflight("https://app.example.com", "authorization"), 405, "", true},
		{"off: request gets no CORS headers", off, func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
			r.Header.Set("Origin", "https://app.example.com")
			return r
		}(), 401, "", true},
		{"on: allowed origin preflight answered before auth", on,
			preflight("https://app.example.com", "anthropic-version,authorization,content-type,x-api-key,x-stainless-os"), 204, "https://app.example.com", false},
		{"on: wildcard origin", on, preflight("https://team.corp.example", "authorization"), 204, "https://team.corp.example", false},
		{"on: other origin gets no permission", on, preflight("https://evil.example", "authorization"), 204, "", false},
		{"on: suffix trick refused", on, preflight("https://app.example.com.evil.example", ""), 204, "", false},
		{"on: header not allowed", on, preflight("https://app.example.com", "x-evil"), 204, "", false},
		{"on: actual request from allowed origin", on, func() *http.Request {
			r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
			r.Header.Set("Origin", "https://app.example.com")
			return r
		}(), 401, "https://app.example.com", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reached = 0
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
			if (reached > 0) != tc.reachesNext {
				t.Fatalf("reached next: %v", reached > 0)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatal("security headers missing")
			}
		})
	}
	// The allowed preflight names the headers SDKs send.
	rec := httptest.NewRecorder()
	on.ServeHTTP(rec, preflight("https://app.example.com", "anthropic-version,authorization,content-type,x-api-key"))
	if got := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")); !strings.Contains(got, "anthropic-version") {
		t.Fatalf("Access-Control-Allow-Headers %q", got)
	}
	if rec.Header().Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("max age %q", rec.Header().Get("Access-Control-Max-Age"))
	}
}

func TestCORSConfigErrors(t *testing.T) {
	for _, c := range []CORS{
		{AllowedOrigins: []string{"app.example.com"}},
		{AllowedOrigins: []string{"https://a.*.*.example"}},
		{AllowedOrigins: []string{"https://app.example.com/path"}},
		{AllowedOrigins: []string{"https://App.example.com"}},
		{AllowedOrigins: []string{"https://*"}},
		{AllowedOrigins: []string{"*"}, AllowCredentials: true},
	} {
		if _, err := Handler(okHandler, Options{CORS: c}); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

// serveRaw runs h on a real server with the guard's ConnState hook and
// returns its address.
func serveRaw(t *testing.T, h http.Handler, readHeader time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeader, ConnState: ClearWriteDeadlineOnIdle,
		ErrorLog: slog.NewLogLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler(), slog.LevelError)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// TestSlowReaderCut: a client that asks for a large answer and stops
// reading is cut off after the write timeout instead of holding the
// handler forever.
func TestSlowReaderCut(t *testing.T) {
	done := make(chan error, 1)
	big := strings.Repeat("x", 1<<20)
	h := mustHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		for i := 0; i < 64 && err == nil; i++ { // 64 MiB: far beyond socket buffers
			_, err = io.WriteString(w, big)
		}
		done <- err
	}), Options{WriteTimeout: 200 * time.Millisecond})
	addr := serveRaw(t, h, time.Second)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the handler wrote 64 MiB to a client that reads nothing")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is still blocked on a client that does not read")
	}
}

// TestSlowStreamNotCut: a stream whose events are spaced further apart
// than the write timeout, read by a healthy client, runs to its end.
func TestSlowStreamNotCut(t *testing.T) {
	h := mustHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 4; i++ {
			fmt.Fprintf(w, "data: %d\n\n", i)
			http.NewResponseController(w).Flush()
			time.Sleep(150 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	}), Options{WriteTimeout: 100 * time.Millisecond})
	addr := serveRaw(t, h, time.Second)
	res, err := http.Get("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Fatalf("stream cut: %q, %v", b, err)
	}
	// The keep-alive connection still answers after the last deadline
	// passed.
	time.Sleep(150 * time.Millisecond)
	res2, err := http.Get("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
}

// TestSlowlorisHeadersCut: a client that sends its headers a byte at a
// time is disconnected after the read-header timeout.
func TestSlowlorisHeadersCut(t *testing.T) {
	addr := serveRaw(t, mustHandler(t, okHandler, Options{}), 300*time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100)
	var werr error
	for i := 0; i < len(req) && werr == nil && time.Since(start) < 5*time.Second; i++ {
		_, werr = c.Write([]byte{req[i]})
		time.Sleep(50 * time.Millisecond)
		if closedByServer(c, time.Millisecond) {
			werr = io.EOF
		}
	}
	if werr == nil {
		t.Fatal("slow header client never cut")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cut only after %v", d)
	}
	_ = bufio.NewReader(c)
}
