package extraction

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// FuzzSignature runs the feature extraction on arbitrary text: no panic;
// the analysed part is a suffix of the text within max_text_bytes (valid
// UTF-8 stays valid); signatures are deterministic, case-insensitive for
// ASCII, and relations are computable for any pair.
func FuzzSignature(f *testing.F) {
	for _, c := range relationCases {
		f.Add(c.a, c.b)
	}
	f.Add("Context:\nlong document\n\nQuestion: why?", "Q: x")
	f.Add(strings.Repeat("é", 3000), "\n \n\n")
	f.Add("\xff\xfe 12 \x00 a:b", "https://example.com:8080")
	f.Fuzz(func(t *testing.T, a, b string) {
		const maxBytes = 256
		c := &conv.Conversation{Messages: []conv.Message{{Role: conv.RoleUser,
			Segments: []conv.Segment{conv.NewSegment(a, conv.SourceUser, "p")}}}}
		q := questionText(c, maxBytes)
		if len(q) > maxBytes || !strings.Contains(a, q) {
			t.Fatalf("question %q is not a bounded part of the text", q)
		}
		if utf8.ValidString(a) && !utf8.ValidString(q) {
			t.Fatalf("cut inside a rune: %q", q)
		}
		sa, sb := analyse(a), analyse(b)
		if analyse(a) != sa {
			t.Fatal("not deterministic")
		}
		if isASCII(a) && analyse(strings.ToUpper(a)) != sa {
			t.Fatal("ASCII case changes the signature")
		}
		f1 := relate(&sa, &sb, 8)
		if f1 > flagTemplated|flagSweep {
			t.Fatalf("flags %b", f1)
		}
		if a == b && f1 != flagTemplated {
			t.Fatalf("identical texts: flags %b", f1)
		}
		if int(sa.enums) > int(sa.words) {
			t.Fatalf("enums %d > words %d", sa.enums, sa.words)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzConfig decodes arbitrary YAML as the layer's section: errors are
// fine, panics are not, and whatever validates must provision and serve.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("baseline_short: 10\nmax_action: flag"))
	f.Add([]byte("short_window: 1m\nlong_window: 1m\nhistory: 8\nmin_samples: 2"))
	f.Add([]byte("weight_volume: 0\nweight_pattern: 0\nweight_diversity: 1\npattern_boost: 0"))
	f.Add([]byte("volume_saturation: 1.0001\nhamming_threshold: 32\nmax_identities: 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lay, err := Module.New(strictDecode(data))
		if err != nil {
			return
		}
		l := lay.(*Layer)
		if err := l.Provision(&engine.Host{}); err != nil {
			return
		}
		defer l.Close()
		for i := 0; i < 30; i++ {
			d, err := l.OnRequest(chatTx("k", "192.0.2.1", "item "+strings.Repeat("x", i%5)))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action == engine.Block && (d.Status < 400 || d.Status > 499 || d.Code == "") {
				t.Fatalf("bad block %+v", d)
			}
		}
	})
}
