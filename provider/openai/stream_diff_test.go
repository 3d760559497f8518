package openai

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
func checkEncodeMatchesSJSON(t *testing.T, data []byte, text string) {
	t.Helper()
	a := New()
	var ev conv.StreamEvent
	if err := a.ParseStreamEvent("", data, &ev); err != nil || ev.Done || len(data) == 0 || len(ev.Deltas) == 0 {
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
	`{"id":"c","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}`,
	`{"id":"c","choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a","tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`,
	`{"choices":[{"index":0,"text":"t","delta":{"content":"d"}}]}`,
	`{ "choices" : [ { "delta" : { "content" : "sp\u00e9ced\n" } } ] }`,
}

func TestEncodeStreamEventMatchesSJSON(t *testing.T) {
	var events [][]byte
	for _, tc := range streamCases {
		for _, e := range ptest.ReadSSE(t, "testdata/"+tc.file) {
			events = append(events, e.Data)
		}
	}
	for _, e := range diffEvents {
		events = append(events, []byte(e))
	}
	events = append(events, benchChunk)
	for _, data := range events {
		for _, text := range diffTexts {
			checkEncodeMatchesSJSON(t, data, text)
		}
	}
}

func FuzzEncodeStreamEventMatchesSJSON(f *testing.F) {
	for _, tc := range streamCases {
		for i, e := range ptest.ReadSSE(f, "testdata/"+tc.file) {
			f.Add(e.Data, diffTexts[i%len(diffTexts)])
		}
	}
	for i, e := range diffEvents {
		f.Add([]byte(e), diffTexts[i%len(diffTexts)])
	}
	f.Fuzz(checkEncodeMatchesSJSON)
}
