package openai

import (
	"os"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/coverage"
)

const (
	whyAssistantTurn = "an earlier turn of the model (or one the client forged, which it could as well write as user text): scanned only with layers.injection.scan_assistant; a final assistant turn (prefill) is scanned as user text"
	whyEnum          = "a value from a fixed set the API defines (type, role, detail, format, ...), not read as prose"
	whyID            = "an identifier the API matches (call id, file id, audio id), not read as prose"
	whyNotModel      = "never put in front of the model: it sets the upstream's behaviour (routing, caching, abuse tracking, output form)"
)

// chatCoverage decides every string of a chat completions request
// (testdata/coverage_chat.json holds every field of the API schema).
var chatCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model; routing and model policy read it"),
	coverage.Pass("messages.#.role", whyEnum),
	coverage.Pass("messages.#.content.#.type", whyEnum),
	coverage.Pass("messages.#.content.#.x_rampart_source", "rampart's own document marker, removed before the request goes upstream"),
	coverage.Pass("messages.#.tool_call_id", whyID),
	coverage.Pass("messages.#.tool_calls.#.id", whyID),
	coverage.Pass("messages.#.tool_calls.#.type", whyEnum),
	coverage.Pass("messages.#.tool_calls.#.**", whyAssistantTurn),
	coverage.Pass("messages.#.function_call.**", whyAssistantTurn),
	coverage.Pass("messages.#.audio.id", whyID),
	coverage.Pass("messages.#.content.#.image_url.url", "an image (or its address): no text the gateway reads; refuse images with inputpolicy allowed_parts"),
	coverage.Pass("messages.#.content.#.image_url.detail", whyEnum),
	coverage.Pass("messages.#.content.#.input_audio.data", "audio: the gateway does not transcribe; refuse audio with inputpolicy allowed_parts"),
	coverage.Pass("messages.#.content.#.input_audio.format", whyEnum),
	coverage.Pass("messages.#.content.#.file.file_id", whyID+"; the file was uploaded through the Files API, which does not pass the gateway (refuse file parts with inputpolicy allowed_parts)"),
	coverage.Scan("messages.#.content.#.file.filename", conv.SourceDocument),
	coverage.Scan("messages.#.content.#.file.file_data", conv.SourceDocument),
	coverage.ByRole("messages.#.content"),
	coverage.ByRole("messages.#.content.#.text"),
	coverage.ByRole("messages.#.content.#.refusal"),
	coverage.ByRole("messages.#.refusal"),
	coverage.ByRole("messages.#.name"),
	coverage.Pass("tools.#.type", whyEnum),
	coverage.Scan("tools.#.**", conv.SourceToolDef),
	coverage.Scan("functions.#.**", conv.SourceToolDef),
	coverage.Pass("tool_choice.**", "names a declared tool (whose definition is scanned) or a fixed mode"),
	coverage.Pass("tool_choice", whyEnum),
	coverage.Pass("function_call", whyEnum),
	coverage.Pass("response_format.type", whyEnum),
	coverage.Scan("response_format.**", conv.SourceToolDef),
	coverage.Pass("stop", "stop sequences end the output; the model does not read them"),
	coverage.Pass("stop.#", "stop sequences end the output; the model does not read them"),
	coverage.Pass("user", whyNotModel),
	coverage.Pass("safety_identifier", whyNotModel),
	coverage.Pass("prompt_cache_key", whyNotModel),
	coverage.Pass("metadata.*", whyNotModel),
	coverage.Pass("service_tier", whyNotModel),
	coverage.Pass("reasoning_effort", whyEnum),
	coverage.Pass("verbosity", whyEnum),
	coverage.Pass("modalities.#", whyEnum),
	coverage.Pass("audio.*", whyEnum),
	coverage.Pass("prediction.type", whyEnum),
	coverage.Pass("prediction.content", "predicted output used to speed up decoding, not read as instructions (the answer is checked by the output guard like any other)"),
	coverage.Pass("web_search_options.**", "settings and a coarse location for OpenAI's search tool, not put in front of the model as text"),
}

var completionCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model"),
	coverage.Scan("prompt.#", conv.SourceUser),
	coverage.Scan("prompt", conv.SourceUser),
	coverage.Scan("suffix", conv.SourceUser),
	coverage.Pass("stop", "stop sequences end the output; the model does not read them"),
	coverage.Pass("user", whyNotModel),
}

var embeddingCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model"),
	coverage.Scan("input.#", conv.SourceUser),
	coverage.Pass("encoding_format", whyEnum),
	coverage.Pass("user", whyNotModel),
}

func TestCoverage(t *testing.T) {
	for _, c := range []struct {
		files []string
		kind  conv.Kind
		table coverage.Table
		name  string
	}{
		{[]string{"testdata/coverage_chat.json", "testdata/coverage_chat_2.json"}, conv.KindChat, chatCoverage, "provider/openai chatCoverage"},
		{[]string{"testdata/coverage_completion.json", "testdata/coverage_completion_2.json"}, conv.KindCompletion, completionCoverage, "provider/openai completionCoverage"},
		{[]string{"testdata/coverage_embedding.json"}, conv.KindEmbedding, embeddingCoverage, "provider/openai embeddingCoverage"},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			var samples [][]byte
			for _, f := range c.files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				samples = append(samples, b)
			}
			coverage.Check(t, New(), c.kind, samples, c.table, c.name)
		})
	}
}
