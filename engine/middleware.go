package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// Middleware returns next wrapped by the chain, for library users who serve
// the upstream call themselves. Requests whose URL path is one of
// Options.Routes pass the chain: next receives the (possibly rewritten)
// body, and its answer is intercepted — streamed events are inspected and
// relayed one by one as next flushes them, other answers are inspected
// whole. Other paths go to next untouched. next must not keep the request
// or its ResponseWriter after it returns; engine.FromContext(r.Context())
// gives it the transaction.
func (e *Engine) Middleware(next http.Handler) http.Handler {
	up := handlerUpstream{next: next}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, ok := e.routes[r.URL.Path]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		e.serve(w, r, route, up)
	})
}

// handlerUpstream runs an http.Handler as the upstream: the handler writes
// into a pipe that the engine reads as the response body.
type handlerUpstream struct{ next http.Handler }

func (h handlerUpstream) RoundTrip(tx *Tx, r *http.Request, body []byte) (*http.Response, error) {
	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), ctxKey{}, tx))
	r2 := r.WithContext(ctx)
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.GetBody = nil
	if r2.Header.Get("Content-Length") != "" {
		r2.Header = r2.Header.Clone()
		r2.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	pr, pw := io.Pipe()
	pwr := &pipeWriter{header: make(http.Header), pw: pw, ready: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				err := fmt.Errorf("handler panic: %v", v)
				pwr.start(0, err)
				pw.CloseWithError(err)
				return
			}
			pwr.start(http.StatusOK, nil) // a handler that wrote nothing answered 200
			pw.Close()
		}()
		h.next.ServeHTTP(pwr, r2)
	}()
	select {
	case <-pwr.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		<-done
		cancel()
		return nil, ctx.Err()
	}
	if pwr.err != nil {
		pr.Close()
		<-done
		cancel()
		return nil, pwr.err
	}
	return &http.Response{
		StatusCode:    pwr.status,
		Header:        pwr.sent,
		ContentLength: -1,
		Body:          &pipeBody{pr: pr, done: done, cancel: cancel},
	}, nil
}

// pipeBody is the intercepted handler's output. Close stops the handler
// (its writes fail) and waits for it to return, so that nothing it uses
// outlives the transaction.
type pipeBody struct {
	pr     *io.PipeReader
	done   chan struct{}
	cancel context.CancelFunc
	once   sync.Once
}

func (b *pipeBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *pipeBody) Close() error {
	b.once.Do(func() {
		b.cancel()
		b.pr.CloseWithError(errors.New("engine: response closed"))
		<-b.done
	})
	return nil
}

// pipeWriter is the ResponseWriter the wrapped handler writes to.
type pipeWriter struct {
	header http.Header
	sent   http.Header
	status int
	pw     *io.PipeWriter
	ready  chan struct{}
	err    error
	once   sync.Once
}

func (p *pipeWriter) Header() http.Header { return p.header }

func (p *pipeWriter) WriteHeader(status int) {
	if status < 200 && status >= 100 {
		return // informational answers are not relayed
	}
	p.start(status, nil)
}

// start records the answer's status (or a failure before any) once.
func (p *pipeWriter) start(status int, err error) {
	p.once.Do(func() {
		p.status, p.err = status, err
		p.sent = p.header.Clone()
		close(p.ready)
	})
}

func (p *pipeWriter) Write(b []byte) (int, error) {
	p.start(http.StatusOK, nil)
	return p.pw.Write(b)
}

// Flush is a no-op: the pipe hands every write to the engine at once.
func (p *pipeWriter) Flush() {}
