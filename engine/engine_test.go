package engine

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

func TestPassThroughWhole(t *testing.T) {
	h := newHarness(t, enforce(&testLayer{name: "noop"}))
	up := jsonUpstream(chatResp)
	w := h.do(chatRoute, up, chatReq)
	if w.Code != 200 || w.Body.String() != chatResp {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if string(up.sent) != chatReq {
		t.Fatalf("upstream got %q, want the client's body unchanged", up.sent)
	}
	id := w.Header().Get("X-Request-Id")
	if !strings.HasPrefix(id, "req_") || len(id) != 28 {
		t.Fatalf("request id %q", id)
	}
	if w.Header().Get("X-Upstream-Request-Id") != "upstream-id" {
		t.Fatalf("upstream request id not kept: %v", w.Header())
	}
	tx := h.rec.one(t)
	if tx.ID != id || tx.Status != 200 || tx.ContentMAC != mac(chatReq) || tx.Usage.TotalTokens != 9 {
		t.Fatalf("tx %+v", tx)
	}
	if tx.Request == nil || tx.Request.Model != "gpt-4o" || len(tx.Request.Messages) != 2 {
		t.Fatalf("request not parsed: %+v", tx.Request)
	}
	if len(h.obs.requests) != 1 || h.obs.requests[0] != 200 {
		t.Fatalf("observer requests %v", h.obs.requests)
	}
	// request, response and finish phases each recorded.
	var phases []string
	for _, o := range tx.Outcomes {
		phases = append(phases, string(o.Phase)+"/"+o.Action)
	}
	if strings.Join(phases, ",") != "request/allow,response/allow,finish/allow" {
		t.Fatalf("outcomes %v", phases)
	}
	if !up.closed.Load() {
		t.Fatal("upstream body not closed")
	}
}

func TestRequestBlock(t *testing.T) {
	finished := false
	l := &testLayer{name: "guard",
		req: func(tx *Tx) (Decision, error) {
			return Decision{Action: Block, Status: 403, Code: "prompt_injection_detected", Reason: "nope",
				Rule: "r1", Headers: map[string]string{"Retry-After": "7"}}, nil
		},
		fin: func(tx *Tx) { finished = tx.Blocked },
	}
	h := newHarness(t, enforce(l))
	up := jsonUpstream(chatResp)
	w := h.do(chatRoute, up, chatReq)
	if w.Code != 403 || w.Header().Get("Retry-After") != "7" || w.Header().Get("X-Request-Id") == "" {
		t.Fatalf("got %d %v", w.Code, w.Header())
	}
	typ, code, msg := openAIError(t, w.Body.Bytes())
	if typ != "permission_error" || code != "prompt_injection_detected" || msg != "nope" {
		t.Fatalf("error %q %q %q", typ, code, msg)
	}
	if up.calls.Load() != 0 {
		t.Fatal("upstream called after a block")
	}
	if !finished {
		t.Fatal("finish phase did not run after the block")
	}
	tx := h.rec.one(t)
	if !tx.Blocked || tx.Status != 403 || tx.Outcomes[0].Rule != "r1" || tx.Outcomes[0].Action != "block" {
		t.Fatalf("tx %+v", tx)
	}
}

func TestRequestRewrite(t *testing.T) {
	l := &testLayer{name: "redact", req: func(tx *Tx) (Decision, error) {
		tx.Request.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) {
			s.Text = strings.ReplaceAll(s.Text, "secret", "[REDACTED]")
		})
		return Decision{Action: Modify}, nil
	}}
	h := newHarness(t, enforce(l))
	up := jsonUpstream(chatResp)
	w := h.do(chatRoute, up, chatReq)
	if w.Code != 200 {
		t.Fatal(w.Code)
	}
	if !strings.Contains(string(up.sent), "hello [REDACTED] world") || strings.Contains(string(up.sent), "secret") {
		t.Fatalf("upstream got %q", up.sent)
	}
	if tx := h.rec.one(t); tx.ContentMAC != mac(chatReq) {
		t.Fatal("content MAC must cover the client's body")
	}
}

func TestResponseBlockAndRewrite(t *testing.T) {
	block := &testLayer{name: "out", resp: func(tx *Tx, r *conv.Response) (Decision, error) {
		return Decision{Action: Block, Code: "output_blocked", Reason: "leak"}, nil
	}}
	h := newHarness(t, enforce(block))
	w := h.do(chatRoute, jsonUpstream(chatResp), chatReq)
	// A blocked answer is 422 output_blocked, not the client's 400.
	if typ, code, _ := openAIError(t, w.Body.Bytes()); w.Code != 422 || code != "output_blocked" || typ != "output_blocked" {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}

	rewrite := &testLayer{name: "out", resp: func(tx *Tx, r *conv.Response) (Decision, error) {
		s := &r.Choices[0].Message.Segments[0]
		s.Text = strings.ReplaceAll(s.Text, "secret", "***")
		return Decision{Action: Modify}, nil
	}}
	h = newHarness(t, enforce(rewrite))
	w = h.do(chatRoute, jsonUpstream(chatResp), chatReq)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"the answer is ***"`) {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
	if w.Header().Get("Content-Length") != "" && w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("content length %s for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
	}
}

func TestMonitorMode(t *testing.T) {
	l := &testLayer{name: "watch",
		req: func(tx *Tx) (Decision, error) {
			tx.Request.Messages[1].Segments[0].Text = "changed"
			return Decision{Action: Block, Code: "would_block", Rule: "m1",
				Findings: []Finding{{Layer: "watch", Rule: "m1", Message: 1}}}, nil
		},
		resp: func(tx *Tx, r *conv.Response) (Decision, error) {
			r.Choices[0].Message.Segments[0].Text = "changed"
			return Decision{Action: Block}, nil
		},
	}
	h := newHarness(t, monitor(l))
	up := jsonUpstream(chatResp)
	w := h.do(chatRoute, up, chatReq)
	if w.Code != 200 || w.Body.String() != chatResp {
		t.Fatalf("monitor mode changed the answer: %d %s", w.Code, w.Body.String())
	}
	if string(up.sent) != chatReq {
		t.Fatalf("monitor mode changed the request: %s", up.sent)
	}
	tx := h.rec.one(t)
	if tx.Blocked {
		t.Fatal("monitor mode marked the transaction blocked")
	}
	o := tx.Outcomes[0]
	if o.Action != "block" || !o.Monitor || o.Rule != "m1" || len(o.Findings) != 1 {
		t.Fatalf("would-block not recorded: %+v", o)
	}
	if tx.Outcomes[1].Action != "block" || !tx.Outcomes[1].Monitor {
		t.Fatalf("response would-block not recorded: %+v", tx.Outcomes[1])
	}
}

// Headers in the decisions of enforcing layers reach a successful answer
// (rate-limit state, say) and win over the upstream's; a monitor-mode
// layer's do not.
func TestDecisionHeadersOnAllow(t *testing.T) {
	hdr := func(v string) func(tx *Tx) (Decision, error) {
		return func(tx *Tx) (Decision, error) {
			return Decision{Action: Allow, Headers: map[string]string{"X-Ratelimit-Remaining-Requests": v}}, nil
		}
	}
	h := newHarness(t, enforce(&testLayer{name: "limits", req: hdr("41")}), monitor(&testLayer{name: "watch", req: hdr("0")}))
	w := h.do(chatRoute, jsonUpstream(chatResp), chatReq)
	if w.Code != 200 || w.Header().Get("X-Ratelimit-Remaining-Requests") != "41" {
		t.Fatalf("got %d %v", w.Code, w.Header())
	}
}

func TestFailureModes(t *testing.T) {
	boom := func(tx *Tx) (Decision, error) { return Allowed, errors.New("backend down") }
	panics := func(tx *Tx) (Decision, error) { panic("kaboom") }
	for _, tc := range []struct {
		name    string
		fn      func(tx *Tx) (Decision, error)
		failure FailureMode
		mode    Mode
		want    int
	}{
		{"error closed", boom, FailClosed, ModeEnforce, 503},
		{"panic closed", panics, FailClosed, ModeEnforce, 503},
		{"error default is closed", boom, "", ModeEnforce, 503},
		{"error open", boom, FailOpen, ModeEnforce, 200},
		{"panic open", panics, FailOpen, ModeEnforce, 200},
		{"monitor never blocks", panics, FailClosed, ModeMonitor, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			finished := false
			l := &testLayer{name: "flaky", req: tc.fn}
			after := &testLayer{name: "after", fin: func(tx *Tx) { finished = true }}
			h := newHarness(t, Configured{Layer: l, Mode: tc.mode, Failure: tc.failure}, enforce(after))
			w := h.do(chatRoute, jsonUpstream(chatResp), chatReq)
			if w.Code != tc.want {
				t.Fatalf("status %d want %d: %s", w.Code, tc.want, w.Body.String())
			}
			if tc.want == 503 {
				if _, code, _ := openAIError(t, w.Body.Bytes()); code != CodeLayerUnavailable {
					t.Fatalf("code %q", code)
				}
			}
			if !finished {
				t.Fatal("finish did not run")
			}
			tx := h.rec.one(t)
			if tx.Outcomes[0].Error == "" || strings.Contains(tx.Outcomes[0].Error, "kaboom") {
				t.Fatalf("error outcome %+v (panic values stay in logs)", tx.Outcomes[0])
			}
			if h.obs.errors != 1 {
				t.Fatalf("observer errors %d", h.obs.errors)
			}
		})
	}
}

func TestFinishAlwaysRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		up   Upstream
		req  func(tx *Tx) (Decision, error)
		want int
	}{
		{"upstream failure", &fakeUpstream{err: errors.New("dial tcp: refused")}, nil, 502},
		{"upstream timeout", &fakeUpstream{err: &HTTPError{Status: 504, Code: CodeUpstreamTimeout, Message: "upstream timed out"}}, nil, 504},
		{"layer panic", jsonUpstream(chatResp), func(tx *Tx) (Decision, error) { panic("x") }, 503},
		{"finish layer panics too", jsonUpstream(chatResp), nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var order []string
			first := &testLayer{name: "first", req: tc.req, fin: func(tx *Tx) {
				order = append(order, "first")
				if tc.name == "finish layer panics too" {
					panic("in finish")
				}
			}}
			second := &testLayer{name: "second", fin: func(tx *Tx) { order = append(order, "second") }}
			h := newHarness(t, enforce(first), enforce(second))
			w := h.do(chatRoute, tc.up, chatReq)
			if w.Code != tc.want {
				t.Fatalf("status %d want %d", w.Code, tc.want)
			}
			if w.Code >= 500 {
				_, code, msg := openAIError(t, w.Body.Bytes())
				if code == "" || (w.Code != 503 && !strings.Contains(msg, w.Header().Get("X-Request-Id"))) {
					t.Fatalf("code %q msg %q", code, msg)
				}
			}
			if strings.Join(order, ",") != "first,second" {
				t.Fatalf("finish order %v", order)
			}
			tx := h.rec.one(t)
			if tx.Status != tc.want {
				t.Fatalf("recorded status %d", tx.Status)
			}
		})
	}
}

func TestUpstreamErrorPassThrough(t *testing.T) {
	h := newHarness(t)
	up := &fakeUpstream{status: 429, ctype: "application/json", body: `{"error":{"message":"slow down","type":"rate_limit_exceeded","param":null,"code":"rate_limit"}}`}
	w := h.do(chatRoute, up, chatReq)
	if w.Code != 429 || !strings.Contains(w.Body.String(), "slow down") {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
	if tx := h.rec.one(t); tx.Status != 429 {
		t.Fatal(tx.Status)
	}
}

func TestResponseTooLarge(t *testing.T) {
	h := newHarness(t)
	w := h.do(chatRoute, jsonUpstream(strings.Repeat(" ", 2<<20)+chatResp), chatReq)
	if _, code, _ := openAIError(t, w.Body.Bytes()); w.Code != 502 || code != CodeResponseTooLarge {
		t.Fatalf("got %d %s", w.Code, code)
	}
}

func TestUnparseableUpstream(t *testing.T) {
	h := newHarness(t)
	w := h.do(chatRoute, jsonUpstream(`{"choices":"nope"`), chatReq)
	if _, code, _ := openAIError(t, w.Body.Bytes()); w.Code != 502 || code != CodeUpstreamInvalid {
		t.Fatalf("got %d %s", w.Code, code)
	}
}

func TestAnthropicErrorShape(t *testing.T) {
	l := &testLayer{name: "guard", req: func(tx *Tx) (Decision, error) {
		return Decision{Action: Block, Code: "blocked_here", Reason: "no"}, nil
	}}
	h := newHarness(t, enforce(l))
	w := h.do(messagesRoute, jsonUpstream("{}"), `{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"type":"error"`) || !strings.Contains(w.Body.String(), `"message":"no"`) {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}

func TestNewRejects(t *testing.T) {
	type respOnly struct{ testLayerNoStream }
	for name, opts := range map[string]Options{
		"nil layer":        {Layers: []Configured{{}}},
		"duplicate":        {Layers: []Configured{enforce(&testLayer{name: "a"}), enforce(&testLayer{name: "a"})}},
		"bad mode":         {Layers: []Configured{{Layer: &testLayer{name: "a"}, Mode: "loud"}}},
		"bad failure":      {Layers: []Configured{{Layer: &testLayer{name: "a"}, Failure: "sideways"}}},
		"response only":    {Layers: []Configured{enforce(&respOnly{})}},
		"route no adapter": {Routes: []Route{{Path: "/x"}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	e, err := New(Options{Layers: []Configured{{Layer: &testLayer{name: "off"}, Mode: ModeOff}, enforce(&testLayer{name: "on"})}})
	if err != nil || strings.Join(e.Layers(), ",") != "on" {
		t.Fatalf("%v %v", e.Layers(), err)
	}
}

type testLayerNoStream struct{}

func (testLayerNoStream) Name() string                                     { return "resp-only" }
func (testLayerNoStream) OnResponse(*Tx, *conv.Response) (Decision, error) { return Allowed, nil }

func TestModelsRoute(t *testing.T) {
	h := newHarness(t, enforce(&testLayer{name: "l"}))
	route := Route{Path: "/v1/models", Kind: conv.KindModels, Adapter: chatRoute.Adapter}
	w := httptestGet(h, route, jsonUpstream(`{"object":"list","data":[]}`))
	if w.Code != 200 || w.Body.String() != `{"object":"list","data":[]}` {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}

var _ = http.MethodGet
