package tlsserve

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-ai/rampart/internal/testcerts"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serve runs an HTTPS server with r's config and returns its address.
func serve(t *testing.T, r *Reloader) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := ""
		if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
			name = req.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = io.WriteString(w, "hello "+name)
	}), ErrorLog: nil, ReadHeaderTimeout: 5 * time.Second}
	srv.ErrorLog = slog.NewLogLogger(quiet().Handler(), slog.LevelError)
	go func() { _ = srv.Serve(tls.NewListener(ln, r.Config())) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// handshake dials addr with cfg and returns the connection state.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	// TLS 1.3 client certificates are checked after the client's
	// Finished: a refusal shows on the first read.
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		return tls.ConnectionState{}, err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") {
		return tls.ConnectionState{}, errors.New("no 200: " + string(b))
	}
	return c.ConnectionState(), nil
}

type fixture struct {
	ca        *testcerts.CA
	dir       string
	cert, key string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ca: testcerts.NewCA(t, "test server CA"), dir: t.TempDir()}
	f.cert, f.key = filepath.Join(f.dir, "tls.crt"), filepath.Join(f.dir, "tls.key")
	c, k := f.ca.Server(t, "server-1")
	writeFile(t, f.cert, c)
	writeFile(t, f.key, k)
	return f
}

func TestVersionsAndSuites(t *testing.T) {
	for _, rsaKey := range []bool{false, true} {
		name := "ecdsa"
		if rsaKey {
			name = "rsa"
		}
		t.Run(name, func(t *testing.T) { testVersionsAndSuites(t, rsaKey) })
	}
}

func testVersionsAndSuites(t *testing.T, rsaKey bool) {
	f := newFixture(t)
	cbc, cbc256, gcm, chacha := tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	if rsaKey {
		c, k := f.ca.ServerRSA(t, "server-rsa")
		writeFile(t, f.cert, c)
		writeFile(t, f.key, k)
		cbc, cbc256, gcm, chacha = tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	}
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	roots := f.ca.Pool()
	tls12 := func(suite uint16) *tls.Config {
		return &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}
	}
	cases := []struct {
		name    string
		cfg     *tls.Config
		ok      bool
		version uint16
	}{
		{"default client negotiates TLS 1.3", &tls.Config{RootCAs: roots}, true, tls.VersionTLS13},
		{"TLS 1.2 with ECDHE AES-GCM", tls12(gcm), true, tls.VersionTLS12},
		{"TLS 1.2 with ECDHE ChaCha20-Poly1305", tls12(chacha), true, tls.VersionTLS12},
		{"TLS 1.0 refused", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, 0},
		{"TLS 1.1 refused", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}, false, 0},
		{"CBC-SHA suite refused", tls12(cbc), false, 0},
		{"CBC-SHA256 suite refused", tls12(cbc256), false, 0},
	}
	if rsaKey {
		cases = append(cases,
			struct {
				name    string
				cfg     *tls.Config
				ok      bool
				version uint16
			}{"RSA key exchange refused", tls12(tls.TLS_RSA_WITH_AES_128_GCM_SHA256), false, 0},
			struct {
				name    string
				cfg     *tls.Config
				ok      bool
				version uint16
			}{"3DES refused", tls12(tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA), false, 0})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := handshake(addr, tc.cfg)
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
			if tc.ok && st.Version != tc.version {
				t.Fatalf("version %s, want %s", tls.VersionName(st.Version), tls.VersionName(tc.version))
			}
		})
	}

	// Control: every refused handshake succeeds against a server that
	// allows old versions and every suite Go implements, so it is our
	// configuration that refuses it (not the client, nor the key type).
	kp, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		t.Fatal(err)
	}
	var all []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		all = append(all, cs.ID)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp},
		MinVersion: tls.VersionTLS10, CipherSuites: all})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}),
		ErrorLog: slog.NewLogLogger(quiet().Handler(), slog.LevelError)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	for _, tc := range cases {
		if tc.ok {
			continue
		}
		if _, err := handshake(ln.Addr().String(), tc.cfg); err != nil {
			t.Errorf("control: %s fails against a permissive server too (%v); the case proves nothing", tc.name, err)
		}
	}
}

func TestMinVersion13(t *testing.T) {
	f := newFixture(t)
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, MinVersion: tls.VersionTLS13, ReloadInterval: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	if _, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool(), MaxVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("TLS 1.2 accepted with min_version 1.3")
	}
	if _, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool()}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Options{CertFile: f.cert, KeyFile: f.key, MinVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("TLS 1.1 minimum accepted")
	}
}

func servedCN(t *testing.T, addr string, roots *tls.Config) string {
	t.Helper()
	st, err := handshake(addr, roots)
	if err != nil {
		t.Fatal(err)
	}
	return st.PeerCertificates[0].Subject.CommonName
}

// waitCN waits until a new handshake serves a certificate named cn.
func waitCN(t *testing.T, addr string, cfg *tls.Config, cn string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := servedCN(t, addr, cfg)
		if got == cn {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving %q, want %q", got, cn)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRotationInPlace(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: 20 * time.Millisecond, Logger: quiet(), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	defer r.Close()
	addr := serve(t, r)
	cfg := &tls.Config{RootCAs: f.ca.Pool()}
	if cn := servedCN(t, addr, cfg); cn != "server-1" {
		t.Fatalf("serving %q", cn)
	}

	// A half-done rotation (new certificate, old key) does not load: the
	// old pair keeps serving and the error is counted.
	c2, k2 := f.ca.Server(t, "server-2")
	writeFile(t, f.cert, c2)
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(m.Reloads.WithLabelValues("error")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("mismatched pair not reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cn := servedCN(t, addr, cfg); cn != "server-1" {
		t.Fatalf("serving %q during a half-done rotation", cn)
	}
	writeFile(t, f.key, k2)
	waitCN(t, addr, cfg, "server-2")
	if got := testutil.ToFloat64(m.NotAfter); got != float64(r.Leaf().NotAfter.Unix()) {
		t.Fatalf("not_after gauge %v", got)
	}
}

// TestRotationSymlinkSwap rotates the way Kubernetes updates a mounted
// secret: the files are symlinks through "..data", which is atomically
// renamed to point at a new directory.
func TestRotationSymlinkSwap(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	gen := func(name, cn string) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		c, k := f.ca.Server(t, cn)
		writeFile(t, filepath.Join(d, "tls.crt"), c)
		writeFile(t, filepath.Join(d, "tls.key"), k)
	}
	gen("..2026_01", "gen-1")
	if err := os.Symlink("..2026_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", n), filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Load(Options{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		ReloadInterval: 20 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	defer r.Close()
	addr := serve(t, r)
	cfg := &tls.Config{RootCAs: f.ca.Pool()}
	waitCN(t, addr, cfg, "gen-1")

	gen("..2026_02", "gen-2")
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink("..2026_02", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(dir, "..2026_01"))
	waitCN(t, addr, cfg, "gen-2")
}

// TestRotationAtomicRename replaces the files by renaming new ones over
// them (what cert-manager-style tools and editors do).
func TestRotationAtomicRename(t *testing.T) {
	f := newFixture(t)
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, ReloadInterval: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	cfg := &tls.Config{RootCAs: f.ca.Pool()}
	c, k := f.ca.Server(t, "renamed")
	for path, b := range map[string][]byte{f.cert: c, f.key: k} {
		writeFile(t, path+".new", b)
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	changed, err := r.Reload()
	if err != nil || !changed {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if changed, err := r.Reload(); err != nil || changed {
		t.Fatalf("second Reload = %v, %v; want no change", changed, err)
	}
	if cn := servedCN(t, addr, cfg); cn != "renamed" {
		t.Fatalf("serving %q", cn)
	}
}

func TestMTLS(t *testing.T) {
	f := newFixture(t)
	clientCA := testcerts.NewCA(t, "client CA")
	otherCA := testcerts.NewCA(t, "other CA")
	caFile := filepath.Join(f.dir, "clients.pem")
	writeFile(t, caFile, clientCA.PEM)
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, ClientCAFile: caFile, ReloadInterval: -1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	pair := func(ca *testcerts.CA, cn string) []tls.Certificate {
		return []tls.Certificate{ca.Client(t, cn)}
	}
	good, rogue := pair(clientCA, "svc-a"), pair(otherCA, "svc-b")
	cases := []struct {
		name  string
		certs []tls.Certificate
		max   uint16
		ok    bool
	}{
		{"certificate from the client CA (TLS 1.3)", good, 0, true},
		{"certificate from the client CA (TLS 1.2)", good, tls.VersionTLS12, true},
		{"no certificate (TLS 1.3)", nil, 0, false},
		{"no certificate (TLS 1.2)", nil, tls.VersionTLS12, false},
		{"certificate from another CA", rogue, 0, false},
		{"certificate from another CA (TLS 1.2)", rogue, tls.VersionTLS12, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool(), Certificates: tc.certs, MaxVersion: tc.max})
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
			_ = st
		})
	}

	// Rotating the CA bundle: the other CA is trusted after a reload, the
	// first one no longer.
	writeFile(t, caFile, otherCA.PEM)
	if changed, err := r.Reload(); err != nil || !changed {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if _, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool(), Certificates: rogue}); err != nil {
		t.Fatalf("new CA not trusted: %v", err)
	}
	if _, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool(), Certificates: good}); err == nil {
		t.Fatal("removed CA still trusted")
	}
	// A CA file without certificates is refused and the bundle kept.
	writeFile(t, caFile, []byte("not a certificate"))
	if _, err := r.Reload(); err == nil {
		t.Fatal("empty CA bundle loaded")
	}
	if _, err := handshake(addr, &tls.Config{RootCAs: f.ca.Pool(), Certificates: rogue}); err != nil {
		t.Fatalf("bundle lost after a bad reload: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	f := newFixture(t)
	big := filepath.Join(f.dir, "big.pem")
	writeFile(t, big, make([]byte, MaxFileBytes+1))
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"no files", Options{}, "both a certificate file and a key file"},
		{"missing cert", Options{CertFile: filepath.Join(f.dir, "nope"), KeyFile: f.key}, "no such file"},
		{"key as cert", Options{CertFile: f.key, KeyFile: f.key}, "tls:"},
		{"oversized", Options{CertFile: big, KeyFile: f.key}, "larger than"},
		{"missing CA", Options{CertFile: f.cert, KeyFile: f.key, ClientCAFile: filepath.Join(f.dir, "nope")}, "no such file"},
		{"CA without certificates", Options{CertFile: f.cert, KeyFile: f.key, ClientCAFile: f.key}, "no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = quiet()
			_, err := Load(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCloseWithoutStart(t *testing.T) {
	f := newFixture(t)
	r, err := Load(Options{CertFile: f.cert, KeyFile: f.key, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = r.Close(); _ = r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs without Start")
	}
}
