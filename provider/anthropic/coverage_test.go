package anthropic

import (
	"os"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/coverage"
)

const (
	whyAssistantTurn = "an earlier turn of the model (or one the client forged, which it could as well write as user text): scanned only with layers.injection.scan_assistant; a final assistant turn (prefill) is scanned as user text"
	whyEnum          = "a value from a fixed set the API defines (type, role, media type, ...), not read as prose"
	whyID            = "an identifier the API matches (tool use id, file id, container id), not read as prose"
	whyNotModel      = "never put in front of the model: it sets the upstream's behaviour (caching, abuse tracking, stopping)"
	whyBinary        = "image or PDF bytes, or their address: no text the gateway reads (a base64 document that decodes to text is scanned); refuse with inputpolicy allowed_parts"
)

// messagesCoverage decides every string of a Messages API request
// (testdata/coverage_messages*.json hold every field of the API schema).
var messagesCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model; routing and model policy read it"),
	coverage.Pass("system.#.cache_control.*", whyNotModel),
	coverage.Pass("messages.#.content.#.cache_control.*", whyNotModel),
	coverage.Pass("system.#.type", whyEnum),
	coverage.Scan("system", conv.SourceSystem),
	coverage.Scan("system.#.text", conv.SourceSystem),
	coverage.Pass("messages.#.role", whyEnum),
	coverage.Pass("messages.#.content.#.type", whyEnum),
	coverage.ByRole("messages.#.content"),
	coverage.ByRole("messages.#.content.#[text].text"),
	coverage.Pass("messages.#.content.#[text].citations.**", whyAssistantTurn),
	// images
	coverage.Pass("messages.#.content.#[image].source.**", whyBinary),
	// documents (top level and in tool results)
	coverage.Scan("messages.#.content.#[document].title", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[document].context", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.type", whyEnum),
	coverage.Pass("messages.#.content.#[document].source.media_type", whyEnum),
	coverage.Scan("messages.#.content.#[document].source.content", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.content.#.type", whyEnum),
	coverage.Scan("messages.#.content.#[document].source.content.#.text", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.data", whyBinary),
	coverage.Pass("messages.#.content.#[document].source.file_id", whyID+"; the file was uploaded through the Files API, which does not pass the gateway"),
	coverage.Pass("messages.#.content.#[document].source.url", whyBinary),
	// search results
	coverage.Scan("messages.#.content.#[search_result].source", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[search_result].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[search_result].content.#.type", whyEnum),
	coverage.Scan("messages.#.content.#[search_result].content.#.text", conv.SourceDocument),
	// tool use and results
	coverage.Pass("messages.#.content.#[tool_use].id", whyID),
	coverage.Pass("messages.#.content.#[tool_use].name", whyAssistantTurn),
	coverage.Pass("messages.#.content.#[tool_use].input.**", whyAssistantTurn),
	coverage.Pass("messages.#.content.#[server_tool_use].id", whyID),
	coverage.Pass("messages.#.content.#[server_tool_use].name", whyAssistantTurn),
	coverage.Pass("messages.#.content.#[server_tool_use].input.**", whyAssistantTurn),
	coverage.Pass("messages.#.content.#[tool_result].tool_use_id", whyID),
	coverage.Scan("messages.#.content.#[tool_result].content", conv.SourceTool),
	coverage.Pass("messages.#.content.#[tool_result].content.#.type", whyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[text].text", conv.SourceTool),
	coverage.Pass("messages.#.content.#[tool_result].content.#[image].source.**", whyBinary),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].source", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[tool_result].content.#[search_result].content.#.type", whyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].content.#.text", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[tool_result].content.#[document].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[tool_result].content.#[document].source.type", whyEnum),
	coverage.Pass("messages.#.content.#[tool_result].content.#[document].source.media_type", whyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[document].source.data", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[web_search_tool_result].tool_use_id", whyID),
	coverage.Pass("messages.#.content.#[web_search_tool_result].content.**", "an Anthropic server tool's result in an earlier assistant turn: its text is encrypted_content, which only Anthropic reads"),
	// earlier reasoning
	coverage.Pass("messages.#.content.#[thinking].thinking", whyAssistantTurn+"; signed by Anthropic, which refuses a forged one"),
	coverage.Pass("messages.#.content.#[thinking].signature", whyID),
	coverage.Pass("messages.#.content.#[redacted_thinking].data", "encrypted reasoning of an earlier turn: no text"),
	// declarations and settings
	coverage.Pass("tools.#.type", whyEnum),
	coverage.Scan("tools.#.**", conv.SourceToolDef),
	coverage.Pass("tool_choice.*", "names a declared tool (whose definition is scanned) or a fixed mode"),
	coverage.Pass("thinking.type", whyEnum),
	coverage.Pass("metadata.user_id", whyNotModel),
	coverage.Pass("stop_sequences.#", "stop sequences end the output; the model does not read them"),
	coverage.Pass("service_tier", whyNotModel),
	coverage.Pass("container", whyID),
	coverage.Pass("mcp_servers.**", "refused by the injection layer unless allow_unknown_parts names mcp_servers: Anthropic fetches these servers' tools and results itself, so none of their text passes the gateway"),
}

func TestCoverage(t *testing.T) {
	var samples [][]byte
	for _, f := range []string{"testdata/coverage_messages.json", "testdata/coverage_messages_2.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, b)
	}
	coverage.Check(t, New(), conv.KindChat, samples, messagesCoverage, "provider/anthropic messagesCoverage")
}
