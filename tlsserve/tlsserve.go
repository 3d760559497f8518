package tlsserve

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults.
const (
	DefaultReloadInterval = 10 * time.Second
	// MaxFileBytes bounds each certificate, key or CA file read.
	MaxFileBytes = 1 << 20
)

// CipherSuites are the TLS 1.2 suites offered: ECDHE key exchange (forward
// secrecy) with AEAD ciphers only. No RSA key exchange, no CBC, no 3DES or
// RC4. TLS 1.3 suites are not configurable in Go and are all AEAD.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// CurvePreferences are the key-exchange groups, most preferred first.
var CurvePreferences = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}

// Options configures a Reloader.
type Options struct {
	// CertFile is the PEM certificate chain (leaf first).
	CertFile string
	// KeyFile is the PEM private key of the leaf.
	KeyFile string
	// ClientCAFile, when set, is a PEM bundle of CAs: every client must
	// present a certificate that chains to one of them (mTLS), or the
	// handshake fails.
	ClientCAFile string
	// MinVersion is tls.VersionTLS12 (default) or tls.VersionTLS13.
	MinVersion uint16
	// ReloadInterval is how often the files are checked for changes
	// (default 10s; negative: never).
	ReloadInterval time.Duration
	// Logger receives reload events (default slog.Default()).
	Logger *slog.Logger
	// Metrics, when set, counts reloads and exports the expiry time.
	Metrics *Metrics
}

// Reloader serves a certificate (and client CA pool) loaded from files and
// reloads them when their contents change.
type Reloader struct {
	o     Options
	log   *slog.Logger
	cur   atomic.Pointer[state]
	mu    sync.Mutex // serialises Reload
	stop  chan struct{}
	done  chan struct{}
	start sync.Once
	close sync.Once
}

// state is one loaded generation of the files.
type state struct {
	sum  [sha256.Size]byte
	leaf *x509.Certificate
	cfg  *tls.Config
}

// Load reads and checks the files and returns a Reloader serving them.
// Call Start to begin watching for changes and Close to stop.
func Load(o Options) (*Reloader, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("tls: both a certificate file and a key file are needed")
	}
	switch o.MinVersion {
	case 0:
		o.MinVersion = tls.VersionTLS12
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, fmt.Errorf("tls: minimum version %#x: want TLS 1.2 or 1.3", o.MinVersion)
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Reloader{o: o, log: o.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Config returns the tls.Config to serve with: every handshake picks up
// the generation of the files loaded last.
func (r *Reloader) Config() *tls.Config {
	c := r.template()
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return r.cur.Load().cfg, nil
	}
	// http.Server.ServeTLS insists on a certificate source in the outer
	// config even when GetConfigForClient supplies everything.
	c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return &r.cur.Load().cfg.Certificates[0], nil
	}
	return c
}

func (r *Reloader) template() *tls.Config {
	return &tls.Config{
		MinVersion:       r.o.MinVersion,
		CipherSuites:     CipherSuites,
		CurvePreferences: CurvePreferences,
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// Leaf returns the certificate currently served.
func (r *Reloader) Leaf() *x509.Certificate { return r.cur.Load().leaf }

// Start checks the files every ReloadInterval until Close.
func (r *Reloader) Start() {
	if r.o.ReloadInterval < 0 {
		return
	}
	r.start.Do(func() {
		go func() {
			defer close(r.done)
			t := time.NewTicker(r.o.ReloadInterval)
			defer t.Stop()
			for {
				select {
				case <-r.stop:
					return
				case <-t.C:
					_, _ = r.Reload()
				}
			}
		}()
	})
}

// Close stops watching the files. It is safe to call more than once.
func (r *Reloader) Close() error {
	r.close.Do(func() {
		close(r.stop)
		started := true
		r.start.Do(func() { started = false })
		if started {
			<-r.done
		}
	})
	return nil
}

// Reload reads the files and, if their contents changed, loads them. It
// reports whether a new generation is now served. On error the previous
// generation keeps serving.
func (r *Reloader) Reload() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.cur.Load() != nil
	changed, err := r.reload()
	if m := r.o.Metrics; m != nil {
		switch {
		case err != nil:
			m.Reloads.WithLabelValues("error").Inc()
		case changed:
			m.Reloads.WithLabelValues("ok").Inc()
		}
		if st := r.cur.Load(); st != nil {
			m.NotAfter.Set(float64(st.leaf.NotAfter.Unix()))
		}
	}
	switch {
	case err != nil && prev:
		r.log.Warn("tls: files changed but do not load; still serving the previous certificate", "error", err.Error())
	case changed && prev:
		st := r.cur.Load()
		r.log.Info("tls: certificate reloaded", "subject", st.leaf.Subject.String(),
			"not_after", st.leaf.NotAfter.UTC().Format(time.RFC3339), "client_ca", r.o.ClientCAFile != "")
	}
	return changed, err
}

func (r *Reloader) reload() (bool, error) {
	certPEM, err := readFile(r.o.CertFile)
	if err != nil {
		return false, err
	}
	keyPEM, err := readFile(r.o.KeyFile)
	if err != nil {
		return false, err
	}
	var caPEM []byte
	if r.o.ClientCAFile != "" {
		if caPEM, err = readFile(r.o.ClientCAFile); err != nil {
			return false, err
		}
	}
	h := sha256.New()
	for _, b := range [][]byte{certPEM, keyPEM, caPEM} {
		var n [8]byte
		for i, l := 0, uint64(len(b)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(b)
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	if cur := r.cur.Load(); cur != nil && cur.sum == sum {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("tls: %s / %s: %w", r.o.CertFile, r.o.KeyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return false, fmt.Errorf("tls: %s: %w", r.o.CertFile, err)
		}
	}
	cfg := r.template()
	cfg.Certificates = []tls.Certificate{cert}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return false, fmt.Errorf("tls: client CA file %s holds no PEM certificate", r.o.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		// A resumed session skips chain verification: without tickets every
		// connection is verified against the CA bundle loaded now.
		cfg.SessionTicketsDisabled = true
	}
	if time.Now().After(leaf.NotAfter) {
		r.log.Warn("tls: the certificate has expired", "file", r.o.CertFile, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	r.cur.Store(&state{sum: sum, leaf: leaf, cfg: cfg})
	return true, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tls: %s: %w", name, err)
	}
	if n > MaxFileBytes {
		return nil, fmt.Errorf("tls: %s: larger than %d bytes", name, MaxFileBytes)
	}
	return buf.Bytes(), nil
}
