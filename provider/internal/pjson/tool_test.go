package pjson

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// ToolDef is the tool-definition reader of the OpenAI (chat, legacy
// functions, Responses) and Anthropic adapters.
func TestToolDef(t *testing.T) {
	for _, tc := range []struct {
		name, json, schemaKey string
		wantName, wantDesc    string
		wantParams            string
		err                   string // substring of the error ("" none)
	}{
		{"openai", `{"name":"get","description":"d","parameters":{"type":"object"}}`, "parameters", "get", "d", `{"type":"object"}`, ""},
		{"anthropic", `{"name":"get","input_schema":{"type":"object"},"cache_control":{}}`, "input_schema", "get", "", `{"type":"object"}`, ""},
		{"other key ignored", `{"name":"get","parameters":{"a":1},"input_schema":7}`, "parameters", "get", "", `{"a":1}`, ""},
		{"no name", `{"description":"d"}`, "parameters", "", "", "", "tools[0].name"},
		{"name not a string", `{"name":1}`, "input_schema", "", "", "", "tools[0].name"},
		{"schema not an object", `{"name":"x","input_schema":[1]}`, "input_schema", "", "", "", "tools[0].input_schema must be an object"},
		{"null schema", `{"name":"x","parameters":null}`, "parameters", "x", "", "", ""},
		{"duplicate name", `{"name":"a","name":"b"}`, "parameters", "", "", "", "more than once"},
		{"escaped key", `{"na\u006de":"a"}`, "parameters", "", "", "", "escape"},
		{"not an object", `"tool"`, "parameters", "", "", "", "must be an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToolDef(gjson.Parse(tc.json), "tools[0]", tc.schemaKey)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.wantName || got.Description != tc.wantDesc || string(got.Parameters) != tc.wantParams {
				t.Fatalf("got %+v", got)
			}
		})
	}
}
