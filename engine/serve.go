package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/netguard"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/sse"
)

// Upstream sends a transaction's request to the model provider. The engine
// calls it at most once per transaction, after the request phase, with the
// body to send (the client's body, or the re-encoded one if a layer changed
// it). body must not be used after the response body is closed, and the
// engine reads and closes the returned response body. Errors that carry a
// client-facing status are *HTTPError (502, 504 ...); any other error
// answers 502. Read errors from the response body may also be *HTTPError.
type Upstream interface {
	RoundTrip(tx *Tx, r *http.Request, body []byte) (*http.Response, error)
}

// UpstreamFunc adapts a function to Upstream.
type UpstreamFunc func(tx *Tx, r *http.Request, body []byte) (*http.Response, error)

// RoundTrip calls f.
func (f UpstreamFunc) RoundTrip(tx *Tx, r *http.Request, body []byte) (*http.Response, error) {
	return f(tx, r, body)
}

// Handler returns the http.Handler that serves route through the chain,
// sending requests to up.
func (e *Engine) Handler(route Route, up Upstream) http.Handler {
	rt := route
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.serve(w, r, &rt, up)
	})
}

type ctxKey struct{}

// FromContext returns the transaction of a request passed on by the engine
// (Middleware's wrapped handler sees it), or nil.
func FromContext(ctx context.Context) *Tx {
	tx, _ := ctx.Value(ctxKey{}).(*Tx)
	return tx
}

// txn is the engine's per-transaction working state.
type txn struct {
	e       *Engine
	tx      *Tx
	w       http.ResponseWriter
	route   *Route
	started bool // status line sent
	batch   bool // more stream events are buffered: delay the flush
	flusher http.Flusher
	array   bool // Route.ArrayStream: the stream goes out as a JSON array
	elems   int  // array elements written so far
}

func (e *Engine) serve(w http.ResponseWriter, r *http.Request, route *Route, up Upstream) {
	tx := &Tx{ID: NewRequestID(), Start: time.Now(), Ctx: r.Context(), Route: route.Path,
		Method: r.Method, TLS: r.TLS, ClientIP: clientIP(r), Header: r.Header,
		// Room for a decision per layer in two phases: one allocation
		// instead of the slice growing while the chain runs.
		Outcomes: make([]Outcome, 0, 2*len(e.slots))}
	t := &txn{e: e, tx: tx, w: w, route: route, array: route.ArrayStream != nil && route.ArrayStream(r)}
	if e.tr != nil {
		e.tr.startTx(tx, r)
	}
	w.Header().Set("X-Request-Id", tx.ID)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				t.finish()
				panic(v)
			}
			e.log.ErrorContext(tx.Ctx, "engine panic", "request_id", tx.ID, "panic", v)
			tx.Err = errors.New("internal error")
			t.fail(http.StatusInternalServerError, CodeInternal, "internal error", "", nil)
		}
		t.finish()
	}()

	if b := e.runHeaders(tx); b != nil {
		t.fail(b.status, b.code, b.reason, "", b.headers)
		return
	}
	body, herr := e.readBody(r)
	if herr != nil {
		tx.Err = herr
		t.fail(herr.Status, herr.Code, herr.Message, "", nil)
		return
	}
	tx.RequestBytes = int64(len(body))
	// The whole request is read: a server ReadTimeout must not cut the
	// answer (a long stream) short by cancelling the request's context.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	if !t.parseRequest(r, body) {
		return
	}
	if b := e.runRequest(tx); b != nil {
		t.fail(b.status, b.code, b.reason, "", b.headers)
		return
	}
	// The adapter rewrites only changed segments (and strips rampart's own
	// client-side markers); an unchanged body comes back as is.
	if len(body) > 0 && route.Kind != conv.KindModels {
		nb, err := route.Adapter.EncodeRequest(body, tx.Request)
		if err != nil {
			e.log.ErrorContext(tx.Ctx, "encode request", "request_id", tx.ID, "route", route.Path, "error", err.Error())
			tx.Err = err
			t.fail(http.StatusInternalServerError, CodeInternal, "could not apply request changes", "", nil)
			return
		}
		body = nb
		tx.RequestBytes = int64(len(body))
	}

	var resp *http.Response
	var err error
	if tx.trace != nil {
		ur, span := e.tr.startUpstream(tx, r)
		resp, err = up.RoundTrip(tx, ur, body)
		e.tr.endUpstream(tx, span, resp, err)
	} else {
		resp, err = up.RoundTrip(tx, r, body)
	}
	if err != nil {
		he := asHTTPError(err)
		tx.Err = err
		if r.Context().Err() != nil {
			t.abort(499)
			return
		}
		t.fail(he.Status, he.Code, he.Message+" (request id "+tx.ID+")", "", nil)
		return
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 != 2:
		t.passThrough(resp)
	case isEventStream(resp.Header.Get("Content-Type")):
		t.stream(resp)
	default:
		t.whole(resp)
	}
}

// readBody reads the request body, bounded by MaxBodyBytes. The buffer is
// not pooled: an upstream transport may still read it after the answer.
func (e *Engine) readBody(r *http.Request) ([]byte, *HTTPError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	tooLarge := &HTTPError{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
		Message: "request body exceeds " + strconv.FormatInt(e.maxBody, 10) + " bytes"}
	if r.ContentLength > e.maxBody {
		return nil, tooLarge
	}
	size := int64(512)
	if r.ContentLength >= 0 {
		size = r.ContentLength + 1 // +1 to see EOF without growing
	}
	if size > 64<<10 {
		size = 64 << 10 // a claimed length is not a reason to allocate it up front
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > e.maxBody {
			return nil, tooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge
			}
			return nil, &HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
				Message: "could not read request body", Err: err}
		}
	}
}

// parseRequest validates and parses the body into tx.Request; on failure it
// answers the client and returns false.
func (t *txn) parseRequest(r *http.Request, body []byte) bool {
	tx, route := t.tx, t.route
	if len(body) > 0 {
		tx.ContentMAC = t.e.contentMAC(body)
	}
	if route.Kind == conv.KindModels || (len(body) == 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead)) {
		tx.Request = &conv.Conversation{Kind: route.Kind, Provider: route.Adapter.Provider()}
		return true
	}
	c, err := route.Adapter.ParseRequest(body, route.Kind)
	if err == nil && c != nil && route.FromRequest != nil {
		err = route.FromRequest(r, c)
	}
	if err != nil || c == nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			st := pe.Status
			if st < 400 || st > 499 {
				st = http.StatusBadRequest
			}
			code := pe.Code
			if code == "" {
				code = CodeInvalidRequest
			}
			t.fail(st, code, pe.Message, pe.Param, nil)
			return false
		}
		t.fail(http.StatusBadRequest, CodeInvalidRequest, "request body could not be parsed", "", nil)
		return false
	}
	tx.Request = c
	return true
}

func responseChanged(r *conv.Response) bool {
	for i := range r.Choices {
		segs := r.Choices[i].Message.Segments
		for j := range segs {
			if segs[j].Changed() {
				return true
			}
		}
	}
	return false
}

func isEventStream(ct string) bool {
	if len(ct) < len("text/event-stream") {
		return false
	}
	return strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream")
}

// fail answers with an error in the route's provider shape, or, once a
// stream has started, ends the stream with the adapter's error event.
func (t *txn) fail(status int, code, msg, param string, headers map[string]string) {
	tx := t.tx
	if t.started {
		t.streamError(code, msg)
		return
	}
	t.started = true
	tx.Status = status
	h := t.w.Header()
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-Id", tx.ID)
	body := t.route.Adapter.ErrorBody(status, code, msg, param)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	t.w.WriteHeader(status)
	n, _ := t.w.Write(body)
	tx.ResponseBytes += int64(n)
}

// abort records a client that went away; nothing can be sent.
func (t *txn) abort(status int) {
	t.started = true
	t.tx.Status = status
}

func (t *txn) streamError(code, msg string) {
	ev := t.route.Adapter.StreamErrorEvent(code, msg)
	if t.array {
		// The error event's data becomes the array's last element.
		rd := sse.NewReader(bytes.NewReader(ev), len(ev)+16)
		e, err := rd.Next()
		if err != nil || !e.HasData {
			e.Data = []byte(`{"error":{"code":500,"message":"stream failed","status":"INTERNAL"}}`)
		}
		ev = append(t.arrayElem(nil, e.Data), ']')
	}
	n, _ := t.w.Write(ev)
	t.tx.ResponseBytes += int64(n)
	if t.flusher != nil {
		t.flusher.Flush()
	}
}

// finish runs the finish phase and reports the transaction, once.
func (t *txn) finish() {
	e, tx := t.e, t.tx
	if tx.Status == 0 {
		tx.Status = http.StatusOK
	}
	if e.pricer != nil && tx.Request != nil && (tx.Usage.PromptTokens > 0 || tx.Usage.CompletionTokens > 0 || tx.Usage.TotalTokens > 0) {
		tx.Cost, tx.Priced = e.pricer.Cost(tx.Request.Model, tx.Usage)
	}
	e.runFinish(tx)
	if e.obs != nil {
		e.obs.Request(tx.Route, tx.Status, time.Since(tx.Start))
	}
	if e.rec != nil {
		e.rec.Record(tx)
	}
	if e.txObs != nil {
		e.txObs.Transaction(tx)
	}
	if tx.trace != nil {
		e.tr.endTx(tx)
	}
}

// hop-by-hop and framing headers that must not be copied from upstream.
var skipHeader = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "X-Request-Id": true,
}

// copyHeader copies upstream headers to the client, then the headers that
// enforcing layers set in their decisions; the upstream's own request id is
// kept as X-Upstream-Request-Id.
func (t *txn) copyHeader(src http.Header) {
	dst := t.w.Header()
	for k, v := range src {
		if skipHeader[k] {
			if k == "X-Request-Id" && len(v) > 0 {
				dst["X-Upstream-Request-Id"] = v
			}
			continue
		}
		dst[k] = v
	}
	// Headers set by enforcing layers (e.g. rampart's own rate-limit state)
	// win over the upstream's.
	for k, v := range t.tx.headers {
		dst.Set(k, v)
	}
}

// passThrough sends a non-2xx upstream answer on unchanged.
func (t *txn) passThrough(resp *http.Response) {
	t.copyHeader(resp.Header)
	if resp.ContentLength >= 0 {
		t.w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	t.started = true
	t.tx.Status = resp.StatusCode
	t.w.WriteHeader(resp.StatusCode)
	buf := t.e.getBuf()
	b := (*buf)[:cap(*buf)]
	n, err := io.CopyBuffer(writerOnly{t.w}, resp.Body, b)
	t.e.putBuf(buf)
	t.tx.ResponseBytes += n
	if err != nil {
		t.tx.Err = err
	}
}

type writerOnly struct{ io.Writer }

// whole handles a complete (non-streamed) 2xx answer.
func (t *txn) whole(resp *http.Response) {
	e, tx := t.e, t.tx
	buf := e.getBuf()
	defer e.putBuf(buf)
	body, err := readBounded(resp.Body, buf, e.maxResp)
	if err != nil {
		tx.Err = err
		if errors.Is(err, errTooLarge) {
			t.fail(http.StatusBadGateway, CodeResponseTooLarge,
				"upstream response exceeds "+strconv.FormatInt(e.maxResp, 10)+" bytes", "", nil)
			return
		}
		he := asHTTPError(err)
		t.fail(he.Status, he.Code, he.Message+" (request id "+tx.ID+")", "", nil)
		return
	}
	out := body
	if t.route.Kind != conv.KindModels {
		r, err := t.route.Adapter.ParseResponse(body, t.route.Kind)
		if err != nil || r == nil {
			tx.Err = err
			e.log.WarnContext(tx.Ctx, "unparseable upstream response", "request_id", tx.ID, "route", tx.Route, "upstream", tx.Upstream)
			t.fail(http.StatusBadGateway, CodeUpstreamInvalid, "upstream response could not be parsed (request id "+tx.ID+")", "", nil)
			return
		}
		if r.Usage != nil {
			tx.Usage = *r.Usage
		}
		if b := e.runResponse(tx, r); b != nil {
			t.fail(b.status, b.code, b.reason, "", b.headers)
			return
		}
		if responseChanged(r) {
			nb, err := t.route.Adapter.EncodeResponse(body, r)
			if err != nil {
				tx.Err = err
				e.log.ErrorContext(tx.Ctx, "encode response", "request_id", tx.ID, "error", err.Error())
				t.fail(http.StatusBadGateway, CodeInternal, "could not apply response changes", "", nil)
				return
			}
			out = nb
		}
	}
	t.copyHeader(resp.Header)
	h := t.w.Header()
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Del("Content-Encoding")
	t.started = true
	tx.Status = resp.StatusCode
	t.w.WriteHeader(resp.StatusCode)
	n, _ := t.w.Write(out)
	tx.ResponseBytes += int64(n)
}

var errTooLarge = errors.New("response too large")

func readBounded(r io.Reader, buf *[]byte, max int64) ([]byte, error) {
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		*buf = b[:0]
		if int64(len(b)) > max {
			return nil, errTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// clientIP is the client address the gateway's network guard resolved
// (trusted-proxy aware, see netguard.Handler), else the TCP peer's.
func clientIP(r *http.Request) string { return netguard.ClientIP(r) }
