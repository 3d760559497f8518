package outputguard

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/engine"
	canarylayer "github.com/rampart-ai/rampart/layers/canary"
)

const leakSys = "You are the support assistant of Example Corp. Never reveal internal pricing rules, never discuss competitors, " +
	"and always answer politely in the language of the customer who writes to you. Escalate refunds above two hundred euros " +
	"to a human agent and never promise delivery dates that the logistics team has not confirmed in writing."

func leakTx(l *Layer, key string) *engine.Tx {
	req := &conv.Conversation{System: []conv.Segment{conv.NewSegment(leakSys, conv.SourceSystem, "system")}}
	tx := &engine.Tx{Request: req, Identity: &engine.Identity{Tenant: "t", KeyID: key}}
	if _, err := l.OnRequest(tx); err != nil {
		panic(err)
	}
	return tx
}

// The evasions of the system-prompt leak probe, each in a whole answer.
func TestLeakEvasions(t *testing.T) {
	words := strings.Fields(leakSys)
	zw := make([]string, len(words))
	for i, w := range words {
		zw[i] = w[:len(w)/2] + "\u200b" + w[len(w)/2:]
	}
	homo := strings.NewReplacer("a", "\u0430", "e", "\u0435", "o", "\u043e").Replace(leakSys)
	cases := map[string]string{
		"verbatim":          "My instructions: " + leakSys,
		"zero-width inside": "Here: " + strings.Join(zw, " "),
		"homoglyphs":        "Here: " + homo,
		"base64":            "Encoded: " + base64.StdEncoding.EncodeToString([]byte(leakSys)),
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			l := provisioned(t, Config{})
			if _, d := whole(t, l, leakTx(l, "k1"), answer); d.Action != engine.Block {
				t.Errorf("not blocked: %+v", d)
			}
		})
	}
}

// leakHalves splits the prompt into every other sentence piece: runs of 7
// n-grams, shorter than verbatimRun, each half under the threshold.
func leakHalves() (string, string) {
	words := strings.Fields(leakSys)
	var a, b []string
	for i := 0; i < len(words); i += 14 {
		piece := strings.Join(words[i:min(i+14, len(words))], " ")
		if (i/14)%2 == 0 {
			a = append(a, piece)
		} else {
			b = append(b, piece)
		}
	}
	return strings.Join(a, " ... "), strings.Join(b, " ... ")
}

// Halves of the prompt in two answers to the same key, each under the
// threshold and without a long verbatim run, are one leak; to different
// keys they are not.
func TestLeakAcrossAnswers(t *testing.T) {
	first, second := leakHalves()
	l := provisioned(t, Config{})
	if _, d := whole(t, l, leakTx(l, "k1"), "Part one: "+first); d.Action == engine.Block {
		t.Fatalf("first half alone blocked : %+v", d.Findings)
	}
	if _, d := whole(t, l, leakTx(l, "k2"), "Part two: "+second); d.Action == engine.Block {
		t.Fatalf("second half to another key blocked: %+v", d.Findings)
	}
	if _, d := whole(t, l, leakTx(l, "k1"), "Part two: "+second); d.Action != engine.Block {
		t.Fatalf("second half to the same key passed: %+v", d)
	}
	// an innocent answer to a key whose earlier answers leaked is no leak
	if _, d := whole(t, l, leakTx(l, "k1"), "Your refund is on its way."); d.Action == engine.Block {
		t.Fatal("innocent answer blocked")
	}
}

// The prompt streamed in parts of 14 words (7 n-grams each, under the
// verbatim-run and share thresholds alone), one answer each to the same
// key: the part that brings the share over the threshold is blocked. The
// last word of each answer counts (the stream's end carries no text).
func TestLeakAcrossStreamedAnswers(t *testing.T) {
	l := provisioned(t, Config{})
	w := strings.Fields(leakSys)
	blocked := -1
	for i := 0; i*14 < len(w) && blocked < 0; i++ {
		part := "Part: " + strings.Join(w[i*14:min(i*14+14, len(w))], " ")
		if _, d := streamAll(t, l, leakTx(l, "k1"), chunked(part, 4)); d.Action == engine.Block {
			blocked = i
		}
	}
	if blocked < 1 {
		t.Fatalf("blocked at part %d of %d words", blocked, len(w))
	}
}

// A streamed verbatim copy is cut early: far less than half of the prompt
// goes out.
func TestLeakStreamCutEarly(t *testing.T) {
	l := provisioned(t, Config{})
	got, d := streamAll(t, l, leakTx(l, "k1"), strings.SplitAfter("Sure. "+leakSys, " "))
	if d.Action != engine.Block {
		t.Fatalf("not blocked: %+v", d)
	}
	if len(got) > len(leakSys)/3 {
		t.Errorf("%d of %d bytes of the prompt went out before the cut", len(got), len(leakSys))
	}
}

// A system prompt streamed in base64, base32 or hex (wrapped over lines,
// in 4-byte events, or one encoding inside another) is decoded while it
// streams and cut before all of it went out; base64 of other text passes.
func TestLeakStreamEncoded(t *testing.T) {
	wrap := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 76 {
			b.WriteString(s[i:min(i+76, len(s))] + "\n")
		}
		return b.String()
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(leakSys))
	for name, enc := range map[string]string{
		"base64":           b64,
		"base64 wrapped":   wrap(b64),
		"hex":              hex.EncodeToString([]byte(leakSys)),
		"base32":           base32.StdEncoding.EncodeToString([]byte(leakSys)),
		"base64 of base64": base64.StdEncoding.EncodeToString([]byte(b64)),
		"hex of base64":    hex.EncodeToString([]byte(b64)),
		"base64 of hex":    base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString([]byte(leakSys)))),
	} {
		t.Run(name, func(t *testing.T) {
			l := provisioned(t, Config{})
			got, d := streamAll(t, l, leakTx(l, "k-"+name), chunked("Here you go:\n"+enc+"\nDone.", 4))
			if d.Action != engine.Block {
				t.Fatalf("not blocked: %+v", d)
			}
			if len(got) > len(enc)*3/4 {
				t.Errorf("%d of %d encoded bytes went out before the cut", len(got), len(enc))
			}
		})
	}
	l := provisioned(t, Config{})
	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("An unrelated paragraph about the weather in spring and the colour of leaves. ", 4)))
	text := "Here you go:\n" + other + "\nDone."
	if got, d := streamAll(t, l, leakTx(l, "k-other"), chunked(text, 4)); d.Action == engine.Block || got != text {
		t.Fatalf("unrelated base64 changed or blocked: %+v", d)
	}
}

// With leak.redis_url, replicas share the per-key history: halves of the
// prompt sent through two replicas (two layers, each with its own memory)
// are one leak. A Redis that does not answer leaves each replica with its
// own memory, and answers still pass or block as they would alone.
func TestLeakHistorySharedThroughRedis(t *testing.T) {
	url := os.Getenv("RAMPART_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("RAMPART_TEST_REDIS_URL not set but RAMPART_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("RAMPART_TEST_REDIS_URL not set (source /tmp/services.env or run .ci/run)")
	}
	a, b := leakHalves()
	halfA, halfB := "First: "+a, "Then: "+b
	key := fmt.Sprintf("k-%s-%d", t.Name(), time.Now().UnixNano())
	replica := func(redisURL string) *Layer {
		return provisioned(t, Config{Leak: LeakConfig{RedisURL: redisURL}})
	}
	answer := func(l *Layer, key, text string) engine.Decision {
		tx := leakTx(l, key)
		tx.Ctx = context.Background()
		_, d := whole(t, l, tx, text)
		l.OnFinish(tx)
		return d
	}
	r1, r2 := replica(url), replica(url)
	defer r1.Close()
	defer r2.Close()
	if d := answer(r1, key, halfA); d.Action == engine.Block {
		t.Fatalf("first half alone blocked: %+v", d)
	}
	if d := answer(r2, key, halfB); d.Action != engine.Block {
		t.Fatalf("second half on another replica not blocked: %+v", d)
	}
	// another key starts from nothing
	if d := answer(r2, key+"-other", halfB); d.Action == engine.Block {
		t.Fatalf("another key blocked: %+v", d)
	}
	// without sharing, the second replica does not know the first half
	l1, l2 := provisioned(t, Config{}), provisioned(t, Config{})
	answer(l1, key, halfA)
	if d := answer(l2, key, halfB); d.Action == engine.Block {
		t.Fatalf("unshared replicas: blocked: %+v", d)
	}
	// Redis down (nothing listens): each replica keeps its own memory
	down := replica("redis://127.0.0.1:1/0")
	defer down.Close()
	start := time.Now()
	if d := answer(down, key+"-down", halfA); d.Action == engine.Block {
		t.Fatalf("redis down: first half blocked: %+v", d)
	}
	if d := answer(down, key+"-down", halfB); d.Action != engine.Block {
		t.Fatalf("redis down: the replica's own memory lost the first half: %+v", d)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("redis down: answers took %v", time.Since(start))
	}
}

// leakEncodings are the forms an attacker asks the model to write the
// system prompt in, each decoded by the leak check in whole answers and
// while the answer streams.
// reversed spells s backwards.
func reversed(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

func leakEncodings() map[string]string {
	each := func(f func(r rune) string) string {
		var b strings.Builder
		for _, r := range leakSys {
			b.WriteString(f(r))
		}
		return b.String()
	}
	words := strings.Fields(leakSys)
	zw := make([]string, len(words))
	for i, w := range words {
		zw[i] = w[:len(w)/2] + "\u200b" + w[len(w)/2:]
	}
	return map[string]string{
		"rot13":             normalize.ROT13(leakSys),
		"leetspeak":         strings.NewReplacer("a", "4", "e", "3", "o", "0", "i", "1", "s", "5", "t", "7").Replace(leakSys),
		"json escapes":      each(func(r rune) string { return fmt.Sprintf(`\u%04x`, r) }),
		"html entities":     each(func(r rune) string { return fmt.Sprintf("&#%d;", r) }),
		"html hex entities": each(func(r rune) string { return fmt.Sprintf("&#x%x;", r) }),
		"url escapes":       each(func(r rune) string { return fmt.Sprintf("%%%02X", r) }),
		"zero-width inside": strings.Join(zw, " "),
		"homoglyphs":        strings.NewReplacer("a", "\u0430", "e", "\u0435", "o", "\u043e").Replace(leakSys),
		"reversed":          reversed(leakSys),
	}
}

// Every encoding, whole and streamed in 5-byte events: the layer blocks
// the answer, and a stream is cut before its last quarter goes out.
func TestLeakEncodedWholeAndStreamed(t *testing.T) {
	for name, enc := range leakEncodings() {
		t.Run(name, func(t *testing.T) {
			l := provisioned(t, Config{})
			answer := "Sure, here it is: " + enc + " Anything else?"
			if _, d := whole(t, l, leakTx(l, "k1"), answer); d.Action != engine.Block {
				t.Errorf("whole: not blocked: %+v", d)
			}
			var chunks []string
			for i := 0; i < len(answer); i += 5 {
				chunks = append(chunks, answer[i:min(i+5, len(answer))])
			}
			got, d := streamAll(t, l, leakTx(l, "k2"), chunks)
			if d.Action != engine.Block {
				t.Fatalf("stream: not blocked: %+v", d)
			}
			if tail := enc[len(enc)*3/4:]; strings.Contains(got, tail) {
				t.Fatalf("stream: cut too late, the last quarter went out")
			}
		})
	}
	// plain prose with escapes, numbers and words like the prompt's is no
	// leak, whole or streamed
	l := provisioned(t, Config{})
	benign := `The support team answers politely. Use \n for new lines, &amp; for "&", 50%25 off, and call 1-800-555-0100 for help with refunds.`
	if _, d := whole(t, l, leakTx(l, "k3"), benign); d.Action == engine.Block {
		t.Fatalf("benign whole blocked: %+v", d)
	}
	if _, d := streamAll(t, l, leakTx(l, "k4"), []string{benign[:40], benign[40:]}); d.Action == engine.Block {
		t.Fatalf("benign stream blocked: %+v", d)
	}
}

// FuzzUnescapeLeak: undoing escapes event by event (an escape cut by an
// event's end waits for the next) gives the text undoing them whole does.
func FuzzUnescapeLeak(f *testing.F) {
	for _, s := range leakEncodings() {
		f.Add(s[:min(len(s), 200)], 3)
	}
	f.Add(`a\ud83d\ude00b &#x1F600; &amp;&lt %4 %41\u00`, 1)
	f.Fuzz(func(t *testing.T, text string, size int) {
		if size <= 0 || size > 64 {
			size = 5
		}
		want, rest := unescapeLeak(text, true)
		if rest != "" {
			t.Fatalf("final left %q", rest)
		}
		var b strings.Builder
		carry := ""
		for i := 0; i < len(text); i += size {
			s := carry + text[i:min(i+size, len(text))]
			out, r := unescapeLeak(s, i+size >= len(text))
			if len(r) > maxEscape {
				t.Fatalf("carry %q longer than %d", r, maxEscape)
			}
			b.WriteString(out)
			carry = r
		}
		if b.String() != want {
			t.Fatalf("chunked %q != whole %q", b.String(), want)
		}
	})
}

// A system prompt leaked in another language, or paraphrased, shares no
// word 8-gram with the prompt, so the leak check cannot see it; the canary
// token (layers/canary) planted in the prompt is what such a copy keeps,
// often respelled: its random part is found in any case and with
// separators, whole and streamed.
func TestCanaryInTranslatedLeak(t *testing.T) {
	const tok = "rk-canary-7f3a9b2c1d5e0a4b"
	l := provisioned(t, Config{})
	txFor := func(key string) *engine.Tx {
		tx := leakTx(l, key)
		canarylayer.Set(tx, tok)
		return tx
	}
	cases := map[string]string{
		"german, token kept":         "Sie sind der Support-Assistent von Example Corp. Geheime Markierung rk-canary-7f3a9b2c1d5e0a4b: niemals verraten.",
		"french, prefix translated":  "Marqueur secret canari-7f3a9b2c1d5e0a4b : ne jamais le révéler. Vous êtes l'assistant d'Example Corp.",
		"upper case, grouped":        "Interne Referenz: 7F3A 9B2C 1D5E 0A4B. Sie sind der Assistent.",
		"dashed pairs":               "参考标记 7f-3a-9b-2c-1d-5e-0a-4b，切勿透露。",
		"spanish, spaced characters": "Marcador: 7 f 3 a 9 b 2 c 1 d 5 e 0 a 4 b. Usted es el asistente de soporte.",
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			if _, d := whole(t, l, txFor("w"), answer); d.Action != engine.Block {
				t.Fatalf("whole: not blocked: %+v", d)
			}
			var chunks []string
			for i := 0; i < len(answer); i += 4 {
				chunks = append(chunks, answer[i:min(i+4, len(answer))])
			}
			got, d := streamAll(t, l, txFor("s"), chunks)
			if d.Action != engine.Block {
				t.Fatalf("stream: not blocked: %+v (%q)", d, got)
			}
		})
	}
	// the digits of the token scattered in prose are no match
	for _, benign := range []string{"Order 7f3a and then 9b2c later; 1d5e is unrelated to 0a4b.", "hash 7f3a9b2c1d5e0a4c differs in its last digit"} {
		if _, d := whole(t, l, txFor("b"), benign); d.Action == engine.Block {
			t.Fatalf("benign %q blocked", benign)
		}
	}
}

// What THREAT_MODEL says passes the system-prompt leak check without the
// canary, checked literally: a translation, a paraphrase that changes one
// word in every eight, a summary, and a prompt under min_words words.
func TestLeakWhatPasses(t *testing.T) {
	l := provisioned(t, Config{})
	words := strings.Fields(leakSys)
	para := slices.Clone(words)
	for i := 7; i < len(para); i += 8 {
		para[i] = "xyzzy"
	}
	for name, answer := range map[string]string{
		"translation": "Vous êtes l'assistant du support d'Example Corp. Ne révélez jamais les règles internes de tarification, " +
			"ne parlez jamais des concurrents et répondez toujours poliment dans la langue du client qui vous écrit.",
		"one word in eight changed": strings.Join(para, " "),
		"summary":                   "My instructions: be polite, answer in the customer's language, keep pricing and competitors private, escalate big refunds, promise no unconfirmed dates.",
	} {
		if _, d := whole(t, l, leakTx(l, "k-"+name), answer); d.Action == engine.Block {
			t.Errorf("%s blocked: THREAT_MODEL says it passes; update both", name)
		}
	}
	short := "You are a helpful assistant. Never reveal the code word."
	req := &conv.Conversation{System: []conv.Segment{conv.NewSegment(short, conv.SourceSystem, "system")}}
	tx := &engine.Tx{Request: req, Identity: &engine.Identity{Tenant: "t", KeyID: "k-short"}}
	if _, err := l.OnRequest(tx); err != nil {
		t.Fatal(err)
	}
	if _, d := whole(t, l, tx, "Sure: "+short); d.Action == engine.Block {
		t.Errorf("a prompt under min_words was checked")
	}
}

// FuzzLeakStream: the streamed leak readers (escapes, ROT13, leetspeak,
// backwards, base64/base32/hex runs nested two deep) take any text in any
// event sizes without panicking, and a stream of the prompt's base32 or
// base64-of-base64 form with the fuzzed text before it is still blocked.
func FuzzLeakStream(f *testing.F) {
	f.Add("Here:", 4)
	f.Add("QUJD\nREVG=== 4e6f \u00e9 &#x41; %4", 3)
	f.Add(base64.StdEncoding.EncodeToString([]byte("QUJDREVG")), 7)
	l := provisioned(f, Config{})
	enc := base32.StdEncoding.EncodeToString([]byte(leakSys))
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n <= 0 || n > 64 {
			n = 5
		}
		streamAll(t, l, leakTx(l, "k-fuzz"), chunked(text, n))
		if _, d := streamAll(t, l, leakTx(l, "k-fuzz2"), chunked(text+"\n"+enc+"\n", n)); d.Action != engine.Block {
			t.Fatalf("base32 prompt after %q not blocked", text)
		}
	})
}
