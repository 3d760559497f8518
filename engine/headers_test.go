package engine

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// headersLayer blocks in the headers phase unless the request carries the
// header it wants.
type headersLayer struct{ want string }

func (headersLayer) Name() string { return "gate" }
func (l headersLayer) OnHeaders(tx *Tx) (Decision, error) {
	if tx.Request != nil {
		panic("headers phase saw a parsed request")
	}
	if tx.Header.Get("X-Pass") == l.want {
		return Allowed, nil
	}
	return Decision{Action: Block, Status: http.StatusUnauthorized, Code: "invalid_api_key", Reason: "who are you"}, nil
}

// countingBody reports whether anything read it.
type countingBody struct {
	io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	b.read += n
	return n, err
}

// A block in the headers phase answers before the body is read or parsed:
// a malformed body from an anonymous client gets the block (401), not a
// parse error, and costs no parsing.
func TestHeadersPhaseRunsBeforeBody(t *testing.T) {
	h := newHarness(t, enforce(headersLayer{want: "yes"}))
	up := jsonUpstream(chatResp)
	body := &countingBody{Reader: strings.NewReader(`{"model": 42, not json`)}
	r := httptest.NewRequest(http.MethodPost, chatRoute.Path, body)
	w := httptest.NewRecorder()
	h.e.Handler(chatRoute, up).ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || body.read != 0 || up.sent != nil {
		t.Fatalf("got %d, body read %d bytes, upstream sent %q", w.Code, body.read, up.sent)
	}
	if _, code, _ := openAIError(t, w.Body.Bytes()); code != "invalid_api_key" {
		t.Fatalf("code %q", code)
	}
	tx := h.rec.one(t)
	if !tx.Blocked || len(tx.Outcomes) == 0 || tx.Outcomes[0].Phase != PhaseHeaders {
		t.Fatalf("outcomes %+v", tx.Outcomes)
	}

	// Let through: the body is then read and parsed as usual.
	r = httptest.NewRequest(http.MethodPost, chatRoute.Path, strings.NewReader(chatReq))
	r.Header.Set("X-Pass", "yes")
	w = httptest.NewRecorder()
	h.e.Handler(chatRoute, up).ServeHTTP(w, r)
	if w.Code != http.StatusOK || string(up.sent) != chatReq {
		t.Fatalf("allowed request: %d %q", w.Code, up.sent)
	}
}
