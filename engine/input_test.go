package engine

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func httptestGet(h *harness, route Route, up Upstream) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.e.Handler(route, up).ServeHTTP(w, httptest.NewRequest(http.MethodGet, route.Path, nil))
	return w
}

var badInputs = []struct {
	name   string
	body   string
	status int
}{
	{"malformed json", `{"model":"gpt-4o","messages":[`, 400},
	{"not an object", `[1,2,3]`, 400},
	{"wrong type messages", `{"model":"gpt-4o","messages":"hi"}`, 400},
	{"wrong type model", `{"model":7,"messages":[]}`, 400},
	{"wrong type content", `{"model":"m","messages":[{"role":"user","content":42}]}`, 400},
	{"invalid utf8", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", 400},
	{"deep nesting", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), 400},
	{"deep nesting in field", `{"model":"m","messages":[{"role":"user","content":"x"}],"x":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000) + "}", 400},
	{"empty", ``, 400},
	{"null", `null`, 400},
	{"huge body", `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("a", 20<<20) + `"}]}`, 413},
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, enforce(&testLayer{name: "l"}))
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			up := jsonUpstream(chatResp)
			w := h.do(chatRoute, up, tc.body)
			if w.Code != tc.status {
				t.Fatalf("status %d want %d: %s", w.Code, tc.status, w.Body.String())
			}
			openAIError(t, w.Body.Bytes())
			if w.Header().Get("X-Request-Id") == "" {
				t.Fatal("no request id on an error")
			}
			if up.calls.Load() != 0 {
				t.Fatal("bad input reached the upstream")
			}
		})
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	h := newHarness(t)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, chatRoute.Path, strings.NewReader(strings.Repeat("a", 2<<20)))
	r.ContentLength = -1
	h.e.Handler(chatRoute, jsonUpstream(chatResp)).ServeHTTP(w, r)
	if w.Code != 413 {
		t.Fatalf("status %d", w.Code)
	}
}

func FuzzRequest(f *testing.F) {
	for _, tc := range badInputs {
		if len(tc.body) < 4096 {
			f.Add([]byte(tc.body))
		}
	}
	f.Add([]byte(chatReq))
	f.Add([]byte(chatStreamReq))
	e, err := New(Options{Layers: []Configured{enforce(&testLayer{name: "l"})}, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	h := &harness{e: e} // no recorder: fuzzing must not accumulate transactions
	f.Fuzz(func(t *testing.T, body []byte) {
		w := h.do(chatRoute, jsonUpstream(chatResp), string(body))
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
		if w.Code != 200 {
			openAIError(t, w.Body.Bytes())
		}
	})
}
