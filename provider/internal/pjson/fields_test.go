package pjson

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/provider"
)

// TestFieldsRefuseOtherCase: Go's encoding/json (Ollama, LocalAI and other
// Go servers decode requests with it) takes a member whose name matches a
// field case-insensitively, under Unicode folding too, the last one
// winning. A body with "messages" for rampart and "Messages" (or
// "meſſages", with U+017F) for such an upstream would carry text no layer
// saw, so every spelling that folds to a name rampart reads is refused.
func TestFieldsRefuseOtherCase(t *testing.T) {
	names := []string{"model", "messages", "systemInstruction"}
	for _, body := range []string{
		`{"model":"m","messages":[],"Messages":[{"content":"evil"}]}`,
		`{"model":"m","MESSAGES":[]}`,
		`{"model":"m","meſſages":[]}`, // U+017F LATIN SMALL LETTER LONG S folds to s
		`{"model":"m","messages":[],"M\u0065ssages":[]}`,
		`{"Model":"m","messages":[]}`,
		`{"model":"m","SystemInstruction":{}}`,
		`{"model":"m","systeminstruction":{}}`,
	} {
		var out [3]gjson.Result
		err := Fields(gjson.Parse(body), "", names, out[:])
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Status != 400 || pe.Code != "invalid_key" {
			t.Errorf("%s: err = %v, want 400 invalid_key", body, err)
		}
	}
	// The Kelvin sign (U+212A) folds to k: "\u212aey" is "key" to encoding/json.
	var one [1]gjson.Result
	if err := Fields(gjson.Parse("{\"key\":1,\"\u212aey\":2}"), "", []string{"key"}, one[:]); err == nil {
		t.Error("Kelvin-sign spelling accepted")
	}
	// Names that do not fold to a read field pass, and exact names are read.
	var out [3]gjson.Result
	if err := Fields(gjson.Parse(`{"model":"m","messages":[1],"metadata":{},"Mode":1,"modelx":2,"m":3,"MessagesX":4}`), "", names, out[:]); err != nil {
		t.Fatal(err)
	}
	if out[0].Str != "m" || out[1].Raw != "[1]" {
		t.Fatalf("read %v", out)
	}
}
