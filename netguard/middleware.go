package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/cors"
)

// Options configures Handler.
type Options struct {
	// Resolver finds the client address (nil: the TCP peer, no proxies).
	Resolver *Resolver
	// HSTSMaxAge, when positive, sends Strict-Transport-Security with this
	// max-age on answers over TLS (never over plain HTTP, where browsers
	// ignore it and it would only mislead).
	HSTSMaxAge time.Duration
	// HSTSIncludeSubdomains adds includeSubDomains to the HSTS header.
	HSTSIncludeSubdomains bool
	// WriteTimeout, when positive, is a per-write deadline: every write of
	// the answer (at most WriteChunk bytes at a time) and every flush must
	// reach the client's socket within it, or the connection is closed.
	// A client that stops reading is cut off after WriteTimeout, while a
	// stream that keeps flowing can last as long as it needs.
	WriteTimeout time.Duration
	// CORS configures cross-origin answers; no AllowedOrigins: CORS off.
	CORS CORS
}

// WriteChunk is the most bytes written under one per-write deadline: a
// client must accept at least WriteChunk bytes per WriteTimeout.
const WriteChunk = 64 << 10

// CORS configures cross-origin resource sharing for browser clients.
type CORS struct {
	// AllowedOrigins are the origins browsers may call from: exact
	// ("https://app.example.com") or with one wildcard
	// ("https://*.example.com"). Empty: CORS is off, no CORS headers are
	// sent and preflight requests get no permission.
	AllowedOrigins []string
	// AllowedMethods (default GET, POST).
	AllowedMethods []string
	// AllowedHeaders a browser may send (default DefaultCORSHeaders).
	AllowedHeaders []string
	// ExposedHeaders a browser script may read (default
	// DefaultCORSExposedHeaders).
	ExposedHeaders []string
	// MaxAge is how long a browser may cache a preflight answer
	// (default 10m).
	MaxAge time.Duration
	// AllowCredentials lets browsers send cookies and TLS client
	// certificates cross-origin. rampart authenticates with headers, so
	// this is rarely needed.
	AllowCredentials bool
}

// Default CORS settings.
var (
	DefaultCORSMethods = []string{http.MethodGet, http.MethodPost}
	DefaultCORSHeaders = []string{"Authorization", "Content-Type", "X-Api-Key", "X-Request-Id",
		"Anthropic-Version", "Anthropic-Beta", "Anthropic-Dangerous-Direct-Browser-Access",
		"OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta",
		// What the official JavaScript SDKs send from a browser.
		"X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch",
		"X-Stainless-Runtime", "X-Stainless-Runtime-Version", "X-Stainless-Retry-Count",
		"X-Stainless-Timeout", "X-Stainless-Helper-Method", "X-Stainless-Async"}
	DefaultCORSExposedHeaders = []string{"X-Request-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
	DefaultCORSMaxAge         = 10 * time.Minute
)

// CheckOrigin reports whether s is an acceptable CORS origin pattern.
func CheckOrigin(s string) error {
	if s == "*" {
		return nil
	}
	scheme, rest, ok := cutScheme(s)
	if !ok {
		return fmt.Errorf("%q: want an origin such as https://app.example.com or https://*.example.com", s)
	}
	_ = scheme
	stars := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '*':
			stars++
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return fmt.Errorf("%q: an origin is scheme://host[:port] in lower case, without path", s)
		}
	}
	if stars > 1 {
		return fmt.Errorf("%q: at most one * per origin", s)
	}
	if rest == "" || rest == "*" {
		return fmt.Errorf("%q: name a host (use \"*\" alone to allow every origin)", s)
	}
	return nil
}

func cutScheme(s string) (string, string, bool) {
	for _, sch := range []string{"https://", "http://"} {
		if len(s) > len(sch) && s[:len(sch)] == sch {
			return sch, s[len(sch):], true
		}
	}
	return "", "", false
}

// Handler wraps next with the network guards: it resolves the client
// address into the request context (see ClientIP), answers CORS preflight
// requests before next (so before authentication) and adds CORS headers for
// allowed origins, sets X-Content-Type-Options: nosniff, Cache-Control:
// no-store and (over TLS) Strict-Transport-Security on every answer, and
// applies the per-write deadline. It fails on invalid CORS origins.
func Handler(next http.Handler, o Options) (http.Handler, error) {
	var hsts string
	if o.HSTSMaxAge > 0 {
		hsts = "max-age=" + strconv.FormatInt(int64(o.HSTSMaxAge/time.Second), 10)
		if o.HSTSIncludeSubdomains {
			hsts += "; includeSubDomains"
		}
	}
	inner := next
	if len(o.CORS.AllowedOrigins) > 0 {
		c, err := newCORS(o.CORS)
		if err != nil {
			return nil, err
		}
		inner = c.Handler(next)
	}
	return &guard{next: inner, res: o.Resolver, hsts: hsts, wt: o.WriteTimeout}, nil
}

func newCORS(c CORS) (*cors.Cors, error) {
	for _, o := range c.AllowedOrigins {
		if err := CheckOrigin(o); err != nil {
			return nil, fmt.Errorf("cors: %w", err)
		}
		if o == "*" && c.AllowCredentials {
			return nil, errors.New("cors: allow_credentials cannot be combined with origin \"*\"")
		}
	}
	or := func(v, def []string) []string {
		if len(v) == 0 {
			return def
		}
		return v
	}
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultCORSMaxAge
	}
	return cors.New(cors.Options{
		AllowedOrigins:       c.AllowedOrigins,
		AllowedMethods:       or(c.AllowedMethods, DefaultCORSMethods),
		AllowedHeaders:       or(c.AllowedHeaders, DefaultCORSHeaders),
		ExposedHeaders:       or(c.ExposedHeaders, DefaultCORSExposedHeaders),
		MaxAge:               int(maxAge / time.Second),
		AllowCredentials:     c.AllowCredentials,
		OptionsPassthrough:   false,
		OptionsSuccessStatus: http.StatusNoContent,
	}), nil
}

type guard struct {
	next http.Handler
	res  *Resolver
	hsts string
	wt   time.Duration
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(WithClientAddr(r.Context(), g.res.ResolveRequest(r)))
	gw := &guardWriter{ResponseWriter: w, rc: http.NewResponseController(w), wt: g.wt}
	if r.TLS != nil {
		gw.hsts = g.hsts
	}
	gw.extend()
	g.next.ServeHTTP(gw, r)
	if !gw.wroteHeader {
		// An answer with no body (or none written): the server sends the
		// headers after we return, so they must carry ours too.
		gw.secure()
	}
	// The server flushes what is buffered after the handler returns:
	// give that flush a fresh deadline too.
	gw.extend()
}

// guardWriter adds the security headers to the answer and renews the
// write deadline before every write and flush.
type guardWriter struct {
	http.ResponseWriter
	rc          *http.ResponseController
	wt          time.Duration
	hsts        string
	wroteHeader bool
	noDeadline  bool // the writer cannot take deadlines (e.g. a recorder)
}

func (g *guardWriter) secure() {
	h := g.ResponseWriter.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if g.hsts != "" {
		h.Set("Strict-Transport-Security", g.hsts)
	}
}

func (g *guardWriter) extend() {
	if g.wt <= 0 || g.noDeadline {
		return
	}
	if err := g.rc.SetWriteDeadline(time.Now().Add(g.wt)); errors.Is(err, http.ErrNotSupported) {
		g.noDeadline = true
	}
}

func (g *guardWriter) WriteHeader(code int) {
	if !g.wroteHeader && code >= 200 {
		g.wroteHeader = true
		g.secure()
	}
	g.extend()
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(p []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	if g.wt <= 0 || g.noDeadline {
		return g.ResponseWriter.Write(p)
	}
	n := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > WriteChunk {
			chunk = chunk[:WriteChunk]
		}
		g.extend()
		m, err := g.ResponseWriter.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(chunk):]
	}
	return n, nil
}

// Flush implements http.Flusher (the engine flushes stream events).
func (g *guardWriter) Flush() { _ = g.FlushError() }

// FlushError flushes with a fresh write deadline and reports failure
// (http.ResponseController uses it).
func (g *guardWriter) FlushError() error {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	g.extend()
	return g.rc.Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// ClearWriteDeadlineOnIdle is an http.Server.ConnState hook: when a
// keep-alive connection goes idle it removes the per-write deadline of the
// last answer, so the server can still answer the next request's protocol
// errors (431, 400) on it.
func ClearWriteDeadlineOnIdle(c net.Conn, s http.ConnState) {
	if s == http.StateIdle {
		_ = c.SetWriteDeadline(time.Time{})
	}
}
