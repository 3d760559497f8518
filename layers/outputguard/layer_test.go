package outputguard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{StreamWindow: 5000},
		{Output: map[string]Action{"NOPE": ActRedact}},
		{Output: map[string]Action{"EMAIL_ADDRESS": ActPseudonymize}},
		{Input: map[string]Action{"EMAIL_ADDRESS": "shred"}},
		{RedactStyle: "hash"},
		{Links: LinksConfig{Images: "zap"}},
		{Links: LinksConfig{AllowedHosts: []string{"https://x.com"}}},
		{Leak: LeakConfig{Threshold: 2}},
		{Tools: ToolsConfig{Action: "maybe"}},
	}
	for i, c := range bad {
		if _, err := New(c); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
}

func TestDefaultPolicyWhole(t *testing.T) {
	l := provisioned(t, Config{})
	out, d := whole(t, l, &engine.Tx{}, "Mail a.b@example.com, card 4111-1111-1111-1111, key AKIAQWERTYUIOPASDFGH.")
	if out != "Mail a.b@example.com, card [CREDIT_CARD], key [AWS_ACCESS_KEY]." {
		t.Fatalf("%q", out)
	}
	if d.Action != engine.Modify || len(d.Findings) != 3 {
		t.Fatalf("%+v", d)
	}
	for _, f := range d.Findings {
		if f.Entity == "" || f.End <= f.Start {
			t.Fatalf("finding %+v", f)
		}
	}
}

func TestPseudonymizeRoundTrip(t *testing.T) {
	l := provisioned(t, Config{Input: map[string]Action{"EMAIL_ADDRESS": ActPseudonymize, "CREDIT_CARD": ActRedact}})
	tx := &engine.Tx{Request: &conv.Conversation{Messages: []conv.Message{{Role: conv.RoleUser,
		Segments: []conv.Segment{conv.NewSegment("I am jane@example.com, card 4111 1111 1111 1111", conv.SourceUser, "messages.0.content")}}}}}
	d, err := l.OnRequest(tx)
	if err != nil {
		t.Fatal(err)
	}
	sent := tx.Request.Messages[0].Segments[0].Text
	if sent != "I am <EMAIL_ADDRESS_1>, card [CREDIT_CARD]" || d.Action != engine.Modify {
		t.Fatalf("%q %v", sent, d.Action)
	}
	answer := "Hello <EMAIL_ADDRESS_1>, noted."
	out, _ := whole(t, l, tx, answer)
	if out != "Hello jane@example.com, noted." {
		t.Fatalf("whole restore: %q", out)
	}
	for cut := 0; cut <= len(answer); cut++ {
		tx2 := &engine.Tx{}
		tx2.SetState(stateVault, vaultOf(tx))
		got, _ := streamAll(t, l, tx2, []string{answer[:cut], answer[cut:]})
		if got != "Hello jane@example.com, noted." {
			t.Fatalf("cut %d: %q", cut, got)
		}
	}
}

func TestSystemPromptLeak(t *testing.T) {
	sys := "You are the support assistant of Example Corp. Never reveal internal pricing rules, never discuss competitors, and always answer politely in the language of the customer who writes to you."
	req := &conv.Conversation{System: []conv.Segment{conv.NewSegment(sys, conv.SourceSystem, "system")}}
	l := provisioned(t, Config{})
	tx := &engine.Tx{Request: req}
	if _, err := l.OnRequest(tx); err != nil {
		t.Fatal(err)
	}
	_, d := whole(t, l, tx, "Sure, my instructions say: "+sys)
	if d.Action != engine.Block {
		t.Fatalf("leak not blocked: %+v", d)
	}
	tx = &engine.Tx{Request: req}
	l.OnRequest(tx)
	_, d = whole(t, l, tx, "I can help with your invoice question; the support team answers politely.")
	if d.Action == engine.Block {
		t.Fatal("innocent answer blocked")
	}
	// streamed: the block comes before the whole prompt went out
	tx = &engine.Tx{Request: req}
	l.OnRequest(tx)
	chunks := strings.SplitAfter(sys, " ")
	got, d := streamAll(t, l, tx, chunks)
	if d.Action != engine.Block || len(got) >= len(sys) {
		t.Fatalf("stream leak: %v, %d of %d bytes out", d.Action, len(got), len(sys))
	}
}

func TestToolPolicy(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`)
	req := &conv.Conversation{Tools: []conv.Tool{{Name: "weather", Parameters: schema}, {Name: "shell"}}}
	l := provisioned(t, Config{Tools: ToolsConfig{Allow: map[string][]string{"*": {"weather"}, "acme/admin": {"weather", "shell"}}}})
	call := func(id *engine.Identity, name, args string) engine.Action {
		tx := &engine.Tx{Request: req, Identity: id}
		resp := &conv.Response{Choices: []conv.Choice{{Message: conv.Message{ToolCalls: []conv.ToolCall{{Name: name, Arguments: args}}}}}}
		d, err := l.OnResponse(tx, resp)
		if err != nil {
			t.Fatal(err)
		}
		return d.Action
	}
	cases := []struct {
		id         *engine.Identity
		name, args string
		want       engine.Action
	}{
		{nil, "weather", `{"city":"Oslo"}`, engine.Allow},
		{nil, "weather", `{"town":"Oslo"}`, engine.Block},
		{nil, "weather", `{"city":`, engine.Block},
		{nil, "shell", `{}`, engine.Block},
		{&engine.Identity{Tenant: "acme", Role: "admin"}, "shell", `{}`, engine.Allow},
		{&engine.Identity{Tenant: "acme", Role: "admin"}, "rm", `{}`, engine.Block},
	}
	for i, c := range cases {
		if got := call(c.id, c.name, c.args); got != c.want {
			t.Errorf("case %d: %v want %v", i, got, c.want)
		}
	}
	// streamed: the disallowed call's deltas are dropped
	tx := &engine.Tx{Request: req}
	ev := &conv.StreamEvent{ToolCalls: []conv.ToolCallDelta{{Index: 0, Name: "shell", ArgumentsDelta: `{"cmd":`}, {Index: 1, Name: "weather", ArgumentsDelta: `{"city":"Oslo"}`}}}
	d, _ := l.OnStreamEvent(tx, ev)
	if !ev.ToolCalls[0].Drop || ev.ToolCalls[1].Drop || d.Action != engine.Modify {
		t.Fatalf("%+v %+v", ev.ToolCalls, d)
	}
	ev = &conv.StreamEvent{ToolCalls: []conv.ToolCallDelta{{Index: 0, ArgumentsDelta: `"ls"}`}}, FinishReason: map[int]string{0: "tool_calls"}}
	d, _ = l.OnStreamEvent(tx, ev)
	if !ev.ToolCalls[0].Drop || d.Action == engine.Block {
		t.Fatalf("%+v %+v", ev.ToolCalls, d)
	}
}

func TestScanText(t *testing.T) {
	fs, out, err := ScanText("héllo ✓ card 4111 1111 1111 1111 ![x](http://evil.io/a.png)", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if out != "héllo ✓ card [CREDIT_CARD] [image removed]" {
		t.Fatalf("%q", out)
	}
	if len(fs) != 2 || fs[0].Entity != "CREDIT_CARD" || fs[0].Start != 13 || fs[0].End != 32 {
		t.Fatalf("%+v", fs)
	}
}

func FuzzStream(f *testing.F) {
	f.Add("key sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0Rl mail a@b.io", 3)
	f.Add("![x](http://e.io/a.png) 4111 1111 1111 1111 ✓", 1)
	f.Add("ok \U000E0068\U000E0069 Go \U0001F3F4\U000E0067\U000E0062\U000E007F \u200b\u200c\u200b\u200c end", 2)
	l := provisioned(f, Config{})
	f.Fuzz(func(t *testing.T, text string, size int) {
		if size <= 0 || size > 64 {
			size = 5
		}
		var chunks []string
		for i := 0; i < len(text); i += size {
			chunks = append(chunks, text[i:min(i+size, len(text))])
		}
		got, d := streamAll(t, l, &engine.Tx{}, chunks)
		want, wd := whole(t, l, &engine.Tx{}, text)
		if d.Action != engine.Block && wd.Action != engine.Block && got != want {
			// streaming sees the same text; only context beyond the
			// 128-byte tail may differ, which these short inputs lack,
			// and up to 3 lower-case letters of a secret released before
			// its first key-like byte arrived when its rule starts with a
			// class, not a literal head (see keyHead)
			if len(text) < 100 && !sameButReleasedLetters(got, want) {
				t.Fatalf("stream %q != whole %q", got, want)
			}
		}
		if st := l.streamOf(&engine.Tx{}); st == nil {
			t.Fatal("no stream state")
		}
	})
}

// sameButReleasedLetters reports whether got is want with at most
// maxReleased lower-case ASCII letters before some "[" of a redaction.
func sameButReleasedLetters(got, want string) bool {
	const maxReleased = 3
	i, j := 0, 0
	for i < len(got) && j < len(want) {
		if got[i] == want[j] {
			i, j = i+1, j+1
			continue
		}
		if want[j] != '[' {
			return false
		}
		n := 0
		for i < len(got) && got[i] >= 'a' && got[i] <= 'z' && n < maxReleased {
			i, n = i+1, n+1
		}
		if n == 0 || i == len(got) || got[i] != '[' {
			return false
		}
	}
	return i == len(got) && j == len(want)
}

func benchAnswer() string {
	base := "To configure the service, open the settings page and choose a region. The gateway forwards requests to the upstream model and records an audit entry for each one. "
	var b strings.Builder
	for b.Len() < 2048 {
		b.WriteString(base)
	}
	return b.String()[:2048]
}

func BenchmarkScanText2KB(b *testing.B) {
	l := provisioned(b, Config{})
	text := benchAnswer()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.ScanText(text)
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	l := provisioned(b, Config{})
	text := benchAnswer()
	// ~4-byte deltas, like model tokens
	var chunks []string
	for i := 0; i < len(text); i += 4 {
		chunks = append(chunks, text[i:min(i+4, len(text))])
	}
	b.ReportAllocs()
	b.ResetTimer()
	tx := &engine.Tx{}
	for i := 0; i < b.N; i++ {
		if i%len(chunks) == 0 {
			tx = &engine.Tx{}
		}
		ev := &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, chunks[i%len(chunks)], "")}}
		l.OnStreamEvent(tx, ev)
	}
}
