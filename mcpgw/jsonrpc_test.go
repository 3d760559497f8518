package mcpgw

import (
	"encoding/json"
	"strings"
	"testing"
)

var parseCases = []struct {
	name, body string
	ok         bool
	batch      bool
	n          int
}{
	{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, true, false, 1},
	{"string id", `{"jsonrpc":"2.0","id":"a-1","method":"ping","params":{}}`, true, false, 1},
	{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, true, false, 1},
	{"response", `{"jsonrpc":"2.0","id":7,"result":{"tools":[]}}`, true, false, 1},
	{"error response", `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}`, true, false, 1},
	{"null id error", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}`, true, false, 1},
	{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]`, true, true, 2},
	{"whitespace", " \n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n", true, false, 1},
	{"empty", ``, false, false, 0},
	{"two values", `{"jsonrpc":"2.0","id":1,"method":"ping"} {"jsonrpc":"2.0","id":2,"method":"ping"}`, false, false, 0},
	{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"ping"} x`, false, false, 0},
	{"duplicate key", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, false, false, 0},
	{"nested duplicate", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`, false, false, 0},
	{"escaped duplicate", `{"jsonrpc":"2.0","id":1,"method":"ping","metho\u0064":"tools/call"}`, false, false, 0},
	{"case-variant key", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_all","NAME":"add"}}`, false, false, 0},
	{"case-variant method", `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, false, false, 0},
	// Go's decoder folds ſ (U+017F) to s and K (U+212A) to k: "paramſ" is
	// params to a Go MCP server (the last one wins), not to ToLower.
	{"long-s params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"},"paramſ":{"name":"delete_all"}}`, false, false, 0},
	{"long-s arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{},"argumentſ":{"url":"http://evil"}}}`, false, false, 0},
	{"kelvin key", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"k\":1,\"\u212a\":2}}", false, false, 0},
	{"same key in siblings", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":{"k":1},"b":{"k":2}}}`, true, false, 1},
	{"version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, false, false, 0},
	{"no version", `{"id":1,"method":"ping"}`, false, false, 0},
	{"bool id", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, false, false, 0},
	{"method and result", `{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}`, false, false, 0},
	{"neither", `{"jsonrpc":"2.0","id":1}`, false, false, 0},
	{"result and error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, false, false, 0},
	{"scalar params", `{"jsonrpc":"2.0","id":1,"method":"ping","params":3}`, false, false, 0},
	{"empty method", `{"jsonrpc":"2.0","id":1,"method":""}`, false, false, 0},
	{"empty batch", `[]`, false, true, 0},
	{"scalar", `42`, false, false, 0},
	{"batch of scalars", `[1,2]`, false, true, 0},
	{"bad utf-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", false, false, 0},
	{"deep", `{"jsonrpc":"2.0","id":1,"method":"x","params":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, false, false, 0},
	{"long id", `{"jsonrpc":"2.0","id":"` + strings.Repeat("i", 300) + `","method":"ping"}`, false, false, 0},
}

func TestParseBody(t *testing.T) {
	for _, c := range parseCases {
		msgs, batch, err := ParseBody([]byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			var pe *ParseError
			if pe, _ = err.(*ParseError); pe == nil || pe.Code >= 0 {
				t.Errorf("%s: error %v is not a JSON-RPC parse error", c.name, err)
			}
			continue
		}
		if batch != c.batch || len(msgs) != c.n {
			t.Errorf("%s: batch %v n %d", c.name, batch, len(msgs))
		}
	}
	if _, _, err := ParseBody([]byte("[" + strings.Repeat(`{"jsonrpc":"2.0","method":"n"},`, maxBatch) + `{"jsonrpc":"2.0","method":"n"}]`)); err == nil {
		t.Fatal("a batch over the bound parsed")
	}
}

// A re-encoded message is valid JSON-RPC again and keeps the id.
func TestEncodeRoundTrip(t *testing.T) {
	msgs, _, err := ParseBody([]byte(`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"a","arguments":{"n":1.50}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	m.Fields["params"] = json.RawMessage(`{"name":"a","arguments":{"n":2}}`)
	b, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := ParseBody(b)
	if err != nil || string(again[0].ID) != `"x"` || again[0].Method != "tools/call" {
		t.Fatalf("%s: %v", b, err)
	}
	e := errorMessage(json.RawMessage(`7`), CodeBlocked, "no", map[string]string{"code": "blocked"})
	if again, _, err := ParseBody(e); err != nil || string(again[0].ID) != "7" || again[0].Error == nil {
		t.Fatalf("error message %s: %v", e, err)
	}
}

// FuzzParseBody: no input panics; whatever parses has a valid shape and
// re-encodes to something that parses again.
func FuzzParseBody(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, _, err := ParseBody(body)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Method == "" && m.ID == nil {
				t.Fatalf("message without method or id parsed: %s", m.Raw)
			}
			b, err := m.encode()
			if err != nil {
				t.Fatalf("re-encode %s: %v", m.Raw, err)
			}
			if _, _, err := ParseBody(b); err != nil {
				t.Fatalf("re-encoded %s does not parse: %v", b, err)
			}
		}
	})
}

// FuzzPoison: the definition checks never panic and are deterministic.
func FuzzPoison(f *testing.F) {
	p, err := newPoisonChecker(nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range p.rules.Rules {
		for _, s := range append(append([]string{}, r.TP...), r.FP...) {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, pa := p.check(s)
		b, pb := p.check(s)
		if pa != pb || len(a) != len(b) {
			t.Fatalf("not deterministic on %q", s)
		}
	})
}
