package extraction

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider/openai"
)

// recorder keeps the outcomes of every finished transaction.
type recorder struct {
	mu       sync.Mutex
	outcomes [][]engine.Outcome
}

func (r *recorder) Record(tx *engine.Tx) {
	r.mu.Lock()
	r.outcomes = append(r.outcomes, append([]engine.Outcome(nil), tx.Outcomes...))
	r.mu.Unlock()
}

// serve runs the engine with the layer in mode in front of a stand-in model
// on a real HTTP server.
func serve(t *testing.T, mode engine.Mode) (*httptest.Server, *clock, *recorder) {
	t.Helper()
	l, clk := newLayer(t, Defaults())
	rec := &recorder{}
	eng, err := engine.New(engine.Options{
		Layers:   []engine.Configured{{Layer: l, Mode: mode}},
		Routes:   []engine.Route{{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}},
		Recorder: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	model := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	})
	srv := httptest.NewServer(eng.Middleware(model))
	t.Cleanup(srv.Close)
	return srv, clk, rec
}

type answer struct {
	status     int
	retryAfter string
	code, msg  string
}

func post(t *testing.T, srv *httptest.Server, text string) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "m", "messages": []any{map[string]string{"role": "user", "content": text}}})
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Type == "" {
			t.Fatalf("%d answer is not OpenAI-shaped: %s", resp.StatusCode, raw)
		}
	}
	return answer{resp.StatusCode, resp.Header.Get("Retry-After"), e.Error.Code, e.Error.Message}
}

// TestEngineEnforce sends a campaign over HTTP: the client gets
// OpenAI-shaped 429 and 403 answers with Retry-After.
func TestEngineEnforce(t *testing.T) {
	srv, clk, _ := serve(t, engine.ModeEnforce)
	seen := map[int]answer{}
	for i := 0; i < 150; i++ {
		clk.add(2 * time.Second)
		a := post(t, srv, "What is the capital of country #"+strconv.Itoa(i)+"?")
		if _, ok := seen[a.status]; !ok {
			seen[a.status] = a
		}
	}
	if a, ok := seen[429]; !ok || a.code != CodeRateLimited || a.retryAfter == "" {
		t.Fatalf("no tightened 429: %+v", seen)
	}
	if a, ok := seen[403]; !ok || a.code != CodeSuspected || a.retryAfter != "3600" || !strings.Contains(a.msg, "model extraction") {
		t.Fatalf("no 403: %+v", seen)
	}
	if strings.Contains(seen[403].msg, "country") {
		t.Fatal("prompt text in the answer")
	}
}

// TestEngineMonitor: the same campaign in monitor mode passes; the audit
// outcomes record the would-be blocks.
func TestEngineMonitor(t *testing.T) {
	srv, clk, rec := serve(t, engine.ModeMonitor)
	for i := 0; i < 80; i++ {
		clk.add(2 * time.Second)
		if a := post(t, srv, "What is the capital of country #"+strconv.Itoa(i)+"?"); a.status != 200 {
			t.Fatalf("request %d in monitor mode: %+v", i, a)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	would := 0
	for _, os := range rec.outcomes {
		for _, o := range os {
			if o.Layer == Name && o.Action == "block" && o.Monitor && o.Code == CodeSuspected {
				would++
			}
		}
	}
	if would == 0 {
		t.Fatalf("no would-block recorded in %d transactions", len(rec.outcomes))
	}
}
