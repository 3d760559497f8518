package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rampart-ai/rampart/provider/openai"
)

// Behind rampart's own TLS, net/http writes its pre-handler answers into
// the *tls.Conn, below which nothing can rewrite them, and it only does
// its own handshake (and HTTP/2) for connections that are a *tls.Conn. So
// the TLS listener here does the handshake itself, off the accept loop,
// and splits by the negotiated protocol:
//   - HTTP/1.1 connections go, wrapped in jsonErrorConn (so net/http's
//     plain-text errors become JSON as on plain-HTTP listeners), to the
//     HTTP/1.1 server; the TLS state travels in the connection context
//     and withTLSState puts it back on r.TLS (mTLS identity, HSTS);
//   - "h2" connections go, as the *tls.Conn, to a second http.Server that
//     speaks only HTTP/2 (net/http's own implementation). HTTP/2 has no
//     pre-handler answer in text except Go's 431 page and the 400 for
//     connection-specific headers; the 431 is avoided by advertising
//     twice the header limit and answering past the configured limit in
//     JSON from h2HeaderGuard.
//   - a plain-HTTP request on the TLS port gets a JSON 400.

// tlsSplit accepts from inner, handshakes and hands each connection to
// its protocol's listener (H1 or H2).
type tlsSplit struct {
	inner   net.Listener
	cfg     *tls.Config
	timeout time.Duration
	h1, h2  chan net.Conn
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	err     error
	wg      sync.WaitGroup
}

func newTLSSplit(inner net.Listener, cfg *tls.Config, handshakeTimeout time.Duration) *tlsSplit {
	s := &tlsSplit{inner: inner, cfg: cfg, timeout: handshakeTimeout,
		h1: make(chan net.Conn), h2: make(chan net.Conn), done: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// H1 and H2 are the listeners of each protocol. Closing either closes both.
func (s *tlsSplit) H1() net.Listener { return splitListener{s, s.h1} }
func (s *tlsSplit) H2() net.Listener { return splitListener{s, s.h2} }

func (s *tlsSplit) close(err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
		_ = s.inner.Close()
	})
}

func (s *tlsSplit) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		c, err := s.inner.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				s.close(err)
				return
			}
			// Anything else (out of file descriptors, a connection reset
			// before accept) is passing: back off and retry as net/http's
			// Serve does, never stop serving over it.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
				continue
			case <-s.done:
				return
			}
		}
		delay = 0
		go s.handshake(c)
	}
}

func (s *tlsSplit) handshake(raw net.Conn) {
	_ = raw.SetDeadline(time.Now().Add(s.timeout))
	tc := tls.Server(raw, s.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = re.Conn.Write(plainHTTPOnTLS)
		}
		_ = raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	ch, c := s.h1, net.Conn(&jsonErrorConn{Conn: tc})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		ch, c = s.h2, tc
	}
	select {
	case ch <- c:
	case <-s.done:
		_ = c.Close()
	}
}

func looksLikeHTTP(h [5]byte) bool {
	switch string(h[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE":
		return true
	}
	return false
}

// plainHTTPOnTLS answers a plain-HTTP request sent to the TLS port.
var plainHTTPOnTLS = func() []byte {
	body := openai.New().ErrorBody(http.StatusBadRequest, "tls_required",
		"this port speaks HTTPS; plain HTTP was sent", "")
	return []byte("HTTP/1.0 400 Bad Request\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n" +
		"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
}()

type splitListener struct {
	s  *tlsSplit
	ch chan net.Conn
}

func (l splitListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.s.done:
		l.s.mu.Lock()
		defer l.s.mu.Unlock()
		if l.s.err != nil {
			return nil, l.s.err
		}
		return nil, net.ErrClosed
	}
}

func (l splitListener) Close() error   { l.s.close(nil); return nil }
func (l splitListener) Addr() net.Addr { return l.s.inner.Addr() }

type tlsStateKey struct{}

// connTLSContext is the HTTP/1.1 server's ConnContext: it keeps the TLS
// state of a wrapped connection for withTLSState.
func connTLSContext(ctx context.Context, c net.Conn) context.Context {
	if jc, ok := c.(*jsonErrorConn); ok {
		if tc, ok := jc.Conn.(*tls.Conn); ok {
			st := tc.ConnectionState()
			return context.WithValue(ctx, tlsStateKey{}, &st)
		}
	}
	return ctx
}

// withTLSState sets r.TLS from the connection context where net/http
// could not (the connection was wrapped, see connTLSContext).
func withTLSState(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
				r.TLS = st
			}
		}
		h.ServeHTTP(w, r)
	})
}

// h2HeaderOverhead is what HTTP/2 counts per header field beyond name and
// value (RFC 9113 §6.5.2); net/http allows 10 of them on top of
// MaxHeaderBytes.
const h2HeaderOverhead = 32

// h2HeaderGuard answers HTTP/2 requests whose header list is larger than
// net/http would have allowed under the configured limit with a JSON 431
// (the HTTP/2 server itself is given twice the limit so that these reach
// a handler; see tlsSplit).
func (g *Gateway) h2HeaderGuard(limit int, h http.Handler) http.Handler {
	max := limit + 10*h2HeaderOverhead
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && h2HeaderListSize(r) > max {
			g.fail(w, g.adapters["openai"], http.StatusRequestHeaderFieldsTooLarge, "headers_too_large",
				"request headers larger than the gateway accepts")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// h2HeaderListSize is the HTTP/2 header list size of r: pseudo-headers
// and fields, each name+value+32.
func h2HeaderListSize(r *http.Request) int {
	n := len(":method") + len(r.Method) + len(":scheme") + len("https") + len(":authority") + len(r.Host) +
		len(":path") + len(r.RequestURI) + 4*h2HeaderOverhead
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + h2HeaderOverhead
		}
	}
	return n
}

// Close stops accepting and waits for the accept loop to end.
func (s *tlsSplit) Close() error {
	s.close(nil)
	s.wg.Wait()
	return nil
}
