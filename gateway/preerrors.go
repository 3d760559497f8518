package gateway

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/provider/openai"
)

// The answers net/http writes itself, before any handler runs (malformed
// request line, bad header bytes, duplicate or negative Content-Length,
// 431 for oversized headers, HTTP/0.9 …), are plain text. jsonErrorListener
// rewrites them, on plain-HTTP listeners, into the same JSON error shape
// the handlers use. Behind rampart's own TLS the same wrapper is put around
// the *tls.Conn of HTTP/1.1 connections (see tlsSplit).

// netHTTPErrorHeaders is how net/http's own error answers continue after
// their status line (net/http server.go, errorHeaders).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

type jsonErrorConn struct{ net.Conn }

// CloseWrite half-closes the connection when the wrapped one can (net/http
// does so after a 431 to let the client read the answer).
func (c *jsonErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	if nc, ok := c.Conn.(interface{ NetConn() net.Conn }); ok {
		if cw, ok := nc.NetConn().(interface{ CloseWrite() error }); ok {
			return cw.CloseWrite()
		}
	}
	return nil
}

// NetConn returns the wrapped connection.
func (c *jsonErrorConn) NetConn() net.Conn { return c.Conn }

// Write rewrites a net/http error answer (one Write: status line, the
// fixed headers, plain text) into a JSON one; everything else passes.
func (c *jsonErrorConn) Write(b []byte) (int, error) {
	if out, ok := jsonServerError(b); ok {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// jsonServerError turns "HTTP/1.1 NNN Text[: detail]" + errorHeaders + body
// into a JSON error answer.
func jsonServerError(b []byte) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) || len(b) < 13 {
		return nil, false
	}
	i := bytes.Index(b, []byte(netHTTPErrorHeaders))
	if i < 0 || bytes.IndexByte(b[:i], '\n') >= 0 {
		return nil, false
	}
	code, err := strconv.Atoi(string(b[9:12]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	msg := string(b[i+len(netHTTPErrorHeaders):])
	if len(msg) > 200 {
		msg = msg[:200]
	}
	code2 := "malformed_request"
	if code == http.StatusRequestHeaderFieldsTooLarge {
		code2 = "headers_too_large"
	}
	body := openai.New().ErrorBody(code, code2, msg, "")
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	out.WriteString("Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n")
	out.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	out.Write(body)
	return out.Bytes(), true
}

// drainTimeout bounds the time spent reading an oversized body after 413.
const drainTimeout = 10 * time.Second

// drainAfter413 sends the 413 and then reads (and discards) up to limit
// bytes of the body the client is still sending, so that a client that
// writes its whole body before reading sees the 413 rather than a
// connection reset. Past limit (or drainTimeout) the connection closes.
func drainAfter413(w http.ResponseWriter, body io.ReadCloser, limit int64) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.CopyN(io.Discard, body, limit)
}
