package outputguard

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// A paced mock model: the answer arrives in 4-byte events (about one
// token every 20 ms at a real model's pace). These tests check what the
// layer releases after each event, not how long it takes: with the
// default policy, plain prose goes out as it arrives; text with numbers
// holds a number (it may be a card still growing) only until the run
// after it shows it is not one; a secret is held until it can be judged.

const pacedProse = "The gateway forwards each request to the upstream model and records an audit entry. " +
	"Streams pass through the output guard, which holds back only what could still become a finding; " +
	"everything else goes out at once. It's meant to be invisible (or nearly so) to the reader!\n\n" +
	"Second paragraph: short words, a list - one, two, three - and \"quotes\" too."

const pacedNumbers = "In 2019 revenue grew 12% to $4.5 million across 3 regions. Call +1 (555) 010-9999 " +
	"or write about order 88231-B before March 3, 2024. Version 2.4.1 fixed 17 bugs; the card 4111 1111 1111 1111 " +
	"was declined twice, then the total of 1,250.00 EUR went through on the 2nd try."

const pacedEventBytes = 4

// endText ends the stream and returns the text released at its end.
func endText(t testing.TB, l *Layer, tx *engine.Tx) string {
	ev := &conv.StreamEvent{Synthetic: true}
	if _, err := l.OnStreamEnd(tx, ev); err != nil {
		t.Fatal(err)
	}
	end := ""
	for _, d := range ev.Deltas {
		end += d.Text
	}
	return end
}

// released drives the layer with text in n-byte events and returns, per
// event, the text released after it (the last entry is the end of the
// stream), and per input byte the event after which it was released.
func released(t testing.TB, l *Layer, text string, n int) (outs []string, lag []int) {
	tx := &engine.Tx{}
	got := 0 // input bytes released so far (redacted ones count as their input)
	lag = make([]int, len(text))
	for i, k := 0, 0; i < len(text); i, k = i+n, k+1 {
		end := min(i+n, len(text))
		ev := &conv.StreamEvent{Seq: k, Deltas: []conv.Delta{conv.NewDelta(0, text[i:end], "")}}
		if d, err := l.OnStreamEvent(tx, ev); err != nil || d.Action == engine.Block {
			t.Fatalf("event %d: %v %+v", k, err, d)
		}
		outs = append(outs, ev.Deltas[0].Text)
		rel := end - l.streamOf(tx).choices[chanKey{}].pendingLen()
		for j := got; j < rel; j++ {
			lag[j] = k - j/n
		}
		got = max(got, rel)
	}
	end := endText(t, l, tx)
	k := (len(text) + n - 1) / n
	for j := got; j < len(text); j++ {
		lag[j] = k - j/n
	}
	return append(outs, end), lag
}

func TestPacedProseReleasedAtOnce(t *testing.T) {
	l := provisioned(t, Config{})
	outs, lag := released(t, l, pacedProse, pacedEventBytes)
	if strings.Join(outs, "") != pacedProse {
		t.Fatalf("text changed: %q", strings.Join(outs, ""))
	}
	// A byte of prose waits at most one event, and only when its event
	// ended in the first letters of a word that may begin a key ("a" of
	// "authress_…", "s" of "sk-…", "do" of "dop_v1_…"): the next event
	// shows whether it is one. Here that is 14 of 347 bytes.
	held := 0
	for i, g := range lag {
		if g == 0 {
			continue
		}
		held++
		e := min((i/pacedEventBytes+1)*pacedEventBytes, len(pacedProse))
		j := strings.LastIndexAny(pacedProse[:e], " \n") + 1
		if g > 1 || i < j || !keyHead(pacedProse[j:e], l.heads) {
			t.Errorf("byte %d (%q) waited %d events", i, pacedProse[max(0, i-8):min(len(pacedProse), i+8)], g)
		}
	}
	if held*20 > len(pacedProse) {
		t.Errorf("%d of %d bytes of prose waited", held, len(pacedProse))
	}
}

func TestPacedNumbersHeldUntilResolved(t *testing.T) {
	l := provisioned(t, Config{})
	outs, lag := released(t, l, pacedNumbers, pacedEventBytes)
	want, _ := whole(t, l, &engine.Tx{}, pacedNumbers)
	if got := strings.Join(outs, ""); got != want || !strings.Contains(got, "[CREDIT_CARD]") {
		t.Fatalf("stream %q\nwhole %q", got, want)
	}
	// Bytes are held only in runs holding a digit (or their group's next
	// short run), and each only until the run after it arrives: at most
	// 5 events (100 ms at a model's pace), the card (4 groups) excepted.
	card := strings.Index(pacedNumbers, "4111")
	for i, g := range lag {
		if i >= card && i < card+len("4111 1111 1111 1111 was") {
			continue
		}
		if g > 5 {
			t.Errorf("byte %d (%q) waited %d events", i, pacedNumbers[max(0, i-8):min(len(pacedNumbers), i+8)], g)
		}
	}
	for _, w := range strings.Fields(pacedNumbers) {
		if !strings.ContainsAny(w, "0123456789") && len(w) > maxChunk {
			// a long plain word is released as it arrives
			i := strings.Index(pacedNumbers, " "+w+" ")
			if i >= 0 && slices.Max(lag[i+1:i+1+len(w)]) > 1 {
				t.Errorf("plain word %q waited %d events", w, slices.Max(lag[i+1:i+1+len(w)]))
			}
		}
	}
}

// The release sequence itself, event by event, for a card number and a
// key split across events.
func TestPacedReleaseSequence(t *testing.T) {
	l := provisioned(t, Config{})
	cases := []struct {
		events []string
		want   []string // released after each event, then at the end
	}{
		// a number is held while the next run may be its next group
		// (a short one), and goes when a run shows it is not
		{[]string{"The ", "card", " 4111", " 1111", " 1111", " 1111", " expires", " soon", " after."},
			[]string{"The ", "card", " ", "", "", "", "", "[CREDIT_CARD] expires soon", " after.", ""}},
		// a phone number's country code goes at once (no card starts
		// after '+'); its groups are held like a card's until a word
		{[]string{"call ", "+1 ", "415 ", "555 ", "0132", " between", " 9."},
			[]string{"call ", "+1 ", "", "", "", "", "415 555 0132 between ", "9."}},
		{[]string{"or ", "+44 ", "4111 ", "1111 ", "1111 ", "1111", " now."},
			[]string{"or ", "+44 ", "", "", "", "", "", "[CREDIT_CARD] now."}},
		{[]string{"In 2019", " the company", " grew."},
			[]string{"In ", "2019 the company", " grew.", ""}},
		{[]string{"Use ", "ghp_", "VVEqZe2q", "pUWnoVPDF2y", "eE6RsXcNOPmeMjvqP", " instead", " of it."},
			[]string{"Use ", "", "", "", "", "", "[GITHUB_TOKEN] instead of it.", ""}},
		{[]string{"See ", "![x", "](https://", "evil.example", "/a.png)", " and", " then", " continue."},
			[]string{"See ", "", "", "", "", "", "[image removed] and then", " continue.", ""}},
		// a value after a secret keyword is held even when it starts
		// with plain letters
		{[]string{"aws_secret_access_key = ", "abcdefgh", "XUtnFEMI/K7MDENG/bPxRfiCYzQ4R9Tk", " thanks", " again."},
			[]string{"aws_secret_access_key = ", "", "", "", "[AWS_SECRET_KEY] thanks again.", ""}},
	}
	for _, c := range cases {
		tx := newTx()
		var got []string
		for _, e := range c.events {
			ev := &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, e, "")}}
			if _, err := l.OnStreamEvent(tx, ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Deltas[0].Text)
		}
		got = append(got, endText(t, l, tx))
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.events, got, c.want)
		}
	}
}

func benchPaced(b *testing.B, text string) {
	benchPacedTx(b, text, func(*Layer) *engine.Tx { return &engine.Tx{} })
}

func benchPacedTx(b *testing.B, text string, newTx func(*Layer) *engine.Tx) {
	l := provisioned(b, Config{})
	// the release behaviour, in events of 4 bytes (20 ms each at a model's
	// pace): how long each byte of text waits in the guard
	_, lag := released(b, l, text, pacedEventBytes)
	slices.Sort(lag)
	defer func() {
		b.ReportMetric(float64(lag[len(lag)/2]), "lag-p50-events")
		b.ReportMetric(float64(lag[len(lag)*99/100]), "lag-p99-events")
		b.ReportMetric(float64(lag[len(lag)-1]), "lag-max-events")
	}()
	var chunks []string
	for i := 0; i < len(text); i += pacedEventBytes {
		chunks = append(chunks, text[i:min(i+pacedEventBytes, len(text))])
	}
	b.ReportAllocs()
	b.SetBytes(pacedEventBytes)
	b.ResetTimer()
	tx := &engine.Tx{}
	ev := &conv.StreamEvent{Deltas: make([]conv.Delta, 1)}
	for i := 0; i < b.N; i++ {
		if i%len(chunks) == 0 {
			b.StopTimer()
			tx = newTx(l)
			b.StartTimer()
		}
		ev.Deltas[0] = conv.NewDelta(0, chunks[i%len(chunks)], "")
		l.OnStreamEvent(tx, ev)
	}
}

// BenchmarkStreamPacedProse and BenchmarkStreamPacedNumbers: the cost of
// one 4-byte event of the paced texts (ns/op, allocs/op).
func BenchmarkStreamPacedProse(b *testing.B)   { benchPaced(b, pacedProse) }
func BenchmarkStreamPacedNumbers(b *testing.B) { benchPaced(b, pacedNumbers) }

// BenchmarkStreamPacedProseLeak: the same with a system prompt to guard
// (the leak check reads each event in its plain, unescaped, ROT13,
// leetspeak and base64/hex forms).
func BenchmarkStreamPacedProseLeak(b *testing.B) {
	benchPacedTx(b, pacedProse, func(l *Layer) *engine.Tx { return leakTx(l, "bench") })
}
