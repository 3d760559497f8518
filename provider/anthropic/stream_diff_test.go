package anthropic

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

// diffTexts are replacement delta texts: held-back prefixes, escapes, HTML
// characters, multi-byte and invalid UTF-8, JSONP separators.
var diffTexts = []string{"", "x", "held <back> & \"quoted\"\n", "tab\there\\", "日本語 🙂", "bad \xff", "sep\u2028", "\x00\x1f"}

// checkEncodeMatchesSJSON changes every delta of data (the k-th to a prefix
// of its text plus text) and requires EncodeStreamEvent to give exactly what
// writing the deltas one by one with sjson gives.
func checkEncodeMatchesSJSON(t *testing.T, name string, data []byte, text string) {
	t.Helper()
	a := New()
	var ev conv.StreamEvent
	if err := a.ParseStreamEvent(name, data, &ev); err != nil || ev.Done || len(data) == 0 || len(ev.Deltas) == 0 {
		return
	}
	for k := range ev.Deltas {
		d := &ev.Deltas[k]
		d.Text = d.Text[:len(d.Text)*(k%2)/2] + text
	}
	got, err := a.EncodeStreamEvent(&ev)
	ref := pj.Writer{Body: data}
	errRef := ref.WriteDeltasSJSON(ev.Deltas)
	if (err != nil) != (errRef != nil) {
		t.Fatalf("%s: encode error %v, sjson error %v", data, err, errRef)
	}
	if err == nil && string(got) != string(ref.Body) {
		t.Fatalf("%s:\nencoded %s\nsjson   %s", data, got, ref.Body)
	}
}

var diffEvents = []string{
	`{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"Hi"}}`,
	`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"start"}}`,
	`{ "type" : "content_block_delta" , "index" : 0 , "delta" : { "text" : "sp\u00e9ced\n" , "type" : "text_delta" } }`,
}

func TestEncodeStreamEventMatchesSJSON(t *testing.T) {
	events := ptest.ReadSSE(t, "testdata/stream.sse")
	for _, e := range diffEvents {
		events = append(events, ptest.Event{Data: []byte(e)})
	}
	events = append(events, ptest.Event{Name: deltaEvent, Data: benchDelta})
	for _, e := range events {
		for _, text := range diffTexts {
			checkEncodeMatchesSJSON(t, e.Name, e.Data, text)
		}
	}
}

func FuzzEncodeStreamEventMatchesSJSON(f *testing.F) {
	for i, e := range ptest.ReadSSE(f, "testdata/stream.sse") {
		f.Add(e.Name, e.Data, diffTexts[i%len(diffTexts)])
	}
	for i, e := range diffEvents {
		f.Add("", []byte(e), diffTexts[i%len(diffTexts)])
	}
	f.Fuzz(checkEncodeMatchesSJSON)
}
