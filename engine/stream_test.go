package engine

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

func TestStreamPassThrough(t *testing.T) {
	h := newHarness(t, enforce(&testLayer{name: "noop"}))
	body := ": keep-alive\n\n" + streamBody("Hello", " world")
	w := h.do(chatRoute, sseUpstream(body), chatStreamReq)
	if w.Code != 200 || w.Body.String() != body {
		t.Fatalf("stream changed: %d\n%q\nwant\n%q", w.Code, w.Body.String(), body)
	}
	if w.Header().Get("Content-Type") != "text/event-stream" || !w.Flushed {
		t.Fatalf("headers %v flushed %v", w.Header(), w.Flushed)
	}
	tx := h.rec.one(t)
	var streamAllow int
	for _, o := range tx.Outcomes {
		if o.Phase == PhaseStream && o.Action == "allow" {
			streamAllow++
		}
	}
	if streamAllow != 1 {
		t.Fatalf("want one aggregated stream outcome, got %+v", tx.Outcomes)
	}
}

func TestStreamRewrite(t *testing.T) {
	l := &testLayer{name: "redact", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		for i := range ev.Deltas {
			ev.Deltas[i].Text = strings.ReplaceAll(ev.Deltas[i].Text, "secret", "***")
		}
		return Decision{Action: Modify}, nil
	}}
	h := newHarness(t, enforce(l))
	w := h.do(chatRoute, sseUpstream(streamBody("a secret", " b")), chatStreamReq)
	if got := textOf(w.Body.String()); got != "a *** b" {
		t.Fatalf("text %q in %s", got, w.Body.String())
	}
	if !strings.HasSuffix(w.Body.String(), doneEvent) {
		t.Fatal("no [DONE]")
	}
}

func TestStreamBlockMidway(t *testing.T) {
	l := &testLayer{name: "guard", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		for _, d := range ev.Deltas {
			if strings.Contains(d.Text, "BAD") {
				return Decision{Action: Block, Code: "output_blocked", Reason: "bad output"}, nil
			}
		}
		return Allowed, nil
	}}
	finished := false
	fin := &testLayer{name: "fin", fin: func(tx *Tx) { finished = tx.Blocked }}
	h := newHarness(t, enforce(l), enforce(fin))
	up := sseUpstream(streamBody("fine", "BAD", "never"))
	w := h.do(chatRoute, up, chatStreamReq)
	body := w.Body.String()
	if w.Code != 200 || strings.Contains(body, "[DONE]") || strings.Contains(body, "never") || strings.Contains(body, "BAD") {
		t.Fatalf("got %d %q", w.Code, body)
	}
	if !strings.Contains(body, "event: error\n") || !strings.Contains(body, `"code":"output_blocked"`) || textOf(body) != "fine" {
		t.Fatalf("no error event: %q", body)
	}
	if !up.closed.Load() || !finished {
		t.Fatal("upstream not cancelled or finish not run")
	}
	if tx := h.rec.one(t); !tx.Blocked {
		t.Fatal("not recorded as blocked")
	}
}

// newHoldBack keeps the last 3 bytes of text of every event and releases
// them at the end of the stream.
func newHoldBack() *testLayer {
	l := &testLayer{name: "hold"}
	l.ev = func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		held, _ := tx.State("hold").(string)
		for i := range ev.Deltas {
			s := held + ev.Deltas[i].Text
			n := len(s) - 3
			if n < 0 {
				n = 0
			}
			ev.Deltas[i].Text, held = s[:n], s[n:]
		}
		tx.SetState("hold", held)
		return Decision{Action: Modify}, nil
	}
	l.end = func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		held, _ := tx.State("hold").(string)
		if held != "" {
			ev.Deltas = append(ev.Deltas, conv.NewDelta(0, held, ""))
			tx.SetState("hold", "")
		}
		return Decision{Action: Modify}, nil
	}
	return l
}

func TestStreamEndReleasesHeldText(t *testing.T) {
	h := newHarness(t, enforce(newHoldBack()))
	w := h.do(chatRoute, sseUpstream(streamBody("Hello", " wor", "ld")), chatStreamReq)
	body := w.Body.String()
	if got := textOf(body); got != "Hello world" {
		t.Fatalf("text %q: %s", got, body)
	}
	// The released text comes before the finish chunk and [DONE].
	ev := events(body)
	if ev[len(ev)-1] != "[DONE]" || !strings.Contains(ev[len(ev)-2], `"finish_reason":"stop"`) ||
		!strings.Contains(ev[len(ev)-3], `"content":"rld"`) || !strings.Contains(ev[len(ev)-3], `"id":"c1"`) {
		t.Fatalf("order wrong: %q", ev)
	}
}

func TestStreamEndWithoutTerminal(t *testing.T) {
	h := newHarness(t, enforce(newHoldBack()))
	body := chunk("Hello") // upstream dies without finish or [DONE]
	w := h.do(chatRoute, sseUpstream(body), chatStreamReq)
	out := w.Body.String()
	if textOf(out) != "Hello" || strings.Contains(out, "[DONE]") || !strings.Contains(out, "event: error") {
		t.Fatalf("got %q", out)
	}
	if tx := h.rec.one(t); tx.Err == nil {
		t.Fatal("truncated upstream not recorded as an error")
	}
}

func TestAnthropicStreamEnd(t *testing.T) {
	h := newHarness(t, enforce(newHoldBack()))
	body := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"c\",\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello world\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	w := h.do(messagesRoute, sseUpstream(body), `{"model":"c","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	out := w.Body.String()
	i := strings.Index(out, `"text":"rld"`)
	j := strings.Index(out, "event: content_block_stop")
	if i < 0 || j < i || !strings.Contains(out[:i], "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0") {
		t.Fatalf("held text not released before content_block_stop: %s", out)
	}
	if !strings.HasSuffix(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
		t.Fatalf("terminal event missing: %s", out)
	}
}

func TestStreamMonitorUndoesChanges(t *testing.T) {
	l := &testLayer{name: "watch", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		for i := range ev.Deltas {
			ev.Deltas[i].Text = "X"
		}
		return Decision{Action: Block, Code: "would"}, nil
	}}
	h := newHarness(t, monitor(l))
	body := streamBody("a", "b")
	w := h.do(chatRoute, sseUpstream(body), chatStreamReq)
	if w.Body.String() != body {
		t.Fatalf("monitor changed the stream: %q", w.Body.String())
	}
	tx := h.rec.one(t)
	n := 0
	for _, o := range tx.Outcomes {
		if o.Action == "block" && o.Monitor {
			n++
		}
	}
	if n != 4 || tx.Blocked { // two text chunks, the finish chunk, [DONE]
		t.Fatalf("would-blocks %d blocked %v", n, tx.Blocked)
	}
}

func TestStreamLayerFailure(t *testing.T) {
	for _, tc := range []struct {
		failure FailureMode
		wantErr bool
	}{{FailClosed, true}, {FailOpen, false}} {
		l := &testLayer{name: "flaky", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
			if ev.Seq == 1 {
				panic("mid-stream")
			}
			return Allowed, nil
		}}
		h := newHarness(t, Configured{Layer: l, Failure: tc.failure})
		w := h.do(chatRoute, sseUpstream(streamBody("a", "b", "c")), chatStreamReq)
		out := w.Body.String()
		gotErr := strings.Contains(out, `"code":"layer_unavailable"`) && !strings.Contains(out, "[DONE]")
		if gotErr != tc.wantErr || (!tc.wantErr && textOf(out) != "abc") {
			t.Fatalf("%s: %q", tc.failure, out)
		}
	}
}

type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestStreamUpstreamTimeout(t *testing.T) {
	h := newHarness(t)
	up := sseUpstream("")
	up.reader = func() io.Reader {
		return &errAfter{strings.NewReader(chunk("a")), &HTTPError{Status: 504, Code: CodeUpstreamTimeout, Message: "upstream went quiet"}}
	}
	w := h.do(chatRoute, up, chatStreamReq)
	out := w.Body.String()
	if !strings.Contains(out, `"code":"upstream_timeout"`) || strings.Contains(out, "[DONE]") {
		t.Fatalf("got %q", out)
	}
	if tx := h.rec.one(t); !errors.As(tx.Err, new(*HTTPError)) {
		t.Fatalf("tx.Err %v", tx.Err)
	}
}

func TestStreamOversizedEvent(t *testing.T) {
	h := newHarness(t)
	w := h.do(chatRoute, sseUpstream("data: "+strings.Repeat("x", 2<<20)+"\n\n"), chatStreamReq)
	if !strings.Contains(w.Body.String(), CodeUpstreamInvalid) {
		t.Fatalf("got %q", w.Body.String()[:200])
	}
}

func TestStreamUnparseableEvent(t *testing.T) {
	h := newHarness(t, enforce(&testLayer{name: "s"}))
	w := h.do(chatRoute, sseUpstream(chunk("a")+"data: {not json\n\n"+doneEvent), chatStreamReq)
	out := w.Body.String()
	if !strings.Contains(out, CodeUpstreamInvalid) || strings.Contains(out, "[DONE]") {
		t.Fatalf("got %q", out)
	}
}

// An upstream non-2xx event stream is passed through, not parsed.
func TestStreamNon2xx(t *testing.T) {
	h := newHarness(t)
	up := &fakeUpstream{status: 500, ctype: "text/event-stream", body: "data: oops\n\n"}
	w := h.do(chatRoute, up, chatStreamReq)
	if w.Code != 500 || w.Body.String() != "data: oops\n\n" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func TestMiddleware(t *testing.T) {
	rec := &recorder{}
	guard := &testLayer{name: "guard", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		for _, d := range ev.Deltas {
			if d.Text == "BAD" {
				return Decision{Action: Block, Code: "output_blocked"}, nil
			}
		}
		return Allowed, nil
	}}
	e, err := New(Options{Logger: quiet, Layers: []Configured{enforce(guard)}, Recorder: rec, Routes: []Route{chatRoute}})
	if err != nil {
		t.Fatal(err)
	}
	var sawTx bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != chatRoute.Path {
			io.WriteString(w, "other")
			return
		}
		sawTx = FromContext(r.Context()) != nil
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, word := range []string{"ok", "BAD", "never"} {
				if _, err := io.WriteString(w, chunk(word)); err != nil {
					return // the engine stopped reading
				}
				w.(http.Flusher).Flush()
			}
			io.WriteString(w, doneEvent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatResp)
	})
	srv := httptest.NewServer(e.Middleware(next))
	defer srv.Close()

	resp, err := http.Post(srv.URL+chatRoute.Path, "application/json", strings.NewReader(chatReq))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != chatResp || resp.Header.Get("X-Request-Id") == "" || !sawTx {
		t.Fatalf("whole: %d %s", resp.StatusCode, b)
	}

	resp, err = http.Post(srv.URL+chatRoute.Path, "application/json", strings.NewReader(chatStreamReq))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "[DONE]") || strings.Contains(string(b), "never") || !strings.Contains(string(b), "output_blocked") {
		t.Fatalf("stream: %s", b)
	}

	resp, err = http.Get(srv.URL + "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "other" {
		t.Fatalf("unrouted path: %s", b)
	}
	if len(rec.txs) != 2 {
		t.Fatalf("recorded %d", len(rec.txs))
	}
}

func TestMiddlewareHandlerPanics(t *testing.T) {
	e, _ := New(Options{Logger: quiet, Routes: []Route{chatRoute}})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("handler bug") })
	w := httptest.NewRecorder()
	e.Middleware(next).ServeHTTP(w, httptest.NewRequest("POST", chatRoute.Path, strings.NewReader(chatReq)))
	if w.Code != 502 {
		t.Fatalf("status %d %s", w.Code, w.Body.String())
	}
	openAIError(t, w.Body.Bytes())
}
