package pjson

import (
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
)

// ToolDef reads a tool definition object at path: a required string name,
// an optional string description and an optional JSON-schema object under
// schemaKey ("parameters" in OpenAI's chat and Responses APIs,
// "input_schema" in Anthropic's). Other keys are ignored; a duplicate or
// escaped known key is an error (see Fields).
func ToolDef(d gjson.Result, path, schemaKey string) (conv.Tool, error) {
	var g [3]gjson.Result
	if err := Fields(d, path, toolDefFields(schemaKey), g[:]); err != nil {
		return conv.Tool{}, err
	}
	var t conv.Tool
	var err error
	if t.Name, err = Str(g[0], path, "name"); err != nil {
		return t, err
	}
	if t.Description, err = OptStr(g[1], path, "description"); err != nil {
		return t, err
	}
	if Present(g[2]) {
		if !g[2].IsObject() {
			return t, Errorf("invalid_type", join(path, schemaKey), "%s must be an object", join(path, schemaKey))
		}
		t.Parameters = []byte(g[2].Raw)
	}
	return t, nil
}

var (
	paramsFields      = []string{"name", "description", "parameters"}
	inputSchemaFields = []string{"name", "description", "input_schema"}
)

// toolDefFields are ToolDef's keys (the common ones without allocating).
func toolDefFields(schemaKey string) []string {
	switch schemaKey {
	case "parameters":
		return paramsFields
	case "input_schema":
		return inputSchemaFields
	}
	return []string{"name", "description", schemaKey}
}
