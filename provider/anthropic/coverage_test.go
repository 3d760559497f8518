package anthropic

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/coverage"
)

const whyBinary = "image or PDF bytes, or their address: no text the gateway reads (a base64 document that decodes to text is scanned); refuse with inputpolicy allowed_parts"

// messagesCoverage decides every string of a Messages API request
// (testdata/coverage_messages*.json hold every field of the API schema).
var messagesCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model; routing and model policy read it"),
	coverage.Pass("system.#.cache_control.*", coverage.WhyNotModel),
	coverage.Pass("messages.#.content.#.cache_control.*", coverage.WhyNotModel),
	coverage.Pass("system.#.type", coverage.WhyEnum),
	coverage.Scan("system", conv.SourceSystem),
	coverage.Scan("system.#.text", conv.SourceSystem),
	coverage.Pass("messages.#.role", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#.type", coverage.WhyEnum),
	coverage.ByRole("messages.#.content"),
	coverage.ByRole("messages.#.content.#[text].text"),
	coverage.Pass("messages.#.content.#[text].citations.**", coverage.WhyAssistantTurn),
	// images
	coverage.Pass("messages.#.content.#[image].source.**", whyBinary),
	// documents (top level and in tool results)
	coverage.Scan("messages.#.content.#[document].title", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[document].context", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.type", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#[document].source.media_type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[document].source.content", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.content.#.type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[document].source.content.#.text", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[document].source.data", whyBinary),
	coverage.Pass("messages.#.content.#[document].source.file_id", coverage.WhyID+"; the file was uploaded through the Files API, which does not pass the gateway"),
	coverage.Pass("messages.#.content.#[document].source.url", whyBinary),
	// search results
	coverage.Scan("messages.#.content.#[search_result].source", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[search_result].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[search_result].content.#.type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[search_result].content.#.text", conv.SourceDocument),
	// tool use and results
	coverage.Pass("messages.#.content.#[tool_use].id", coverage.WhyID),
	coverage.Pass("messages.#.content.#[tool_use].name", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.content.#[tool_use].input.**", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.content.#[server_tool_use].id", coverage.WhyID),
	coverage.Pass("messages.#.content.#[server_tool_use].name", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.content.#[server_tool_use].input.**", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.content.#[tool_result].tool_use_id", coverage.WhyID),
	coverage.Scan("messages.#.content.#[tool_result].content", conv.SourceTool),
	coverage.Pass("messages.#.content.#[tool_result].content.#.type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[text].text", conv.SourceTool),
	coverage.Pass("messages.#.content.#[tool_result].content.#[image].source.**", whyBinary),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].source", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[tool_result].content.#[search_result].content.#.type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[search_result].content.#.text", conv.SourceDocument),
	coverage.Scan("messages.#.content.#[tool_result].content.#[document].title", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[tool_result].content.#[document].source.type", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#[tool_result].content.#[document].source.media_type", coverage.WhyEnum),
	coverage.Scan("messages.#.content.#[tool_result].content.#[document].source.data", conv.SourceDocument),
	coverage.Pass("messages.#.content.#[web_search_tool_result].tool_use_id", coverage.WhyID),
	coverage.Pass("messages.#.content.#[web_search_tool_result].content.**", "an Anthropic server tool's result in an earlier assistant turn: its text is encrypted_content, which only Anthropic reads"),
	// earlier reasoning
	coverage.Pass("messages.#.content.#[thinking].thinking", coverage.WhyAssistantTurn+"; signed by Anthropic, which refuses a forged one"),
	coverage.Pass("messages.#.content.#[thinking].signature", coverage.WhyID),
	coverage.Pass("messages.#.content.#[redacted_thinking].data", "encrypted reasoning of an earlier turn: no text"),
	// declarations and settings
	coverage.Pass("tools.#.type", coverage.WhyEnum),
	coverage.Scan("tools.#.**", conv.SourceToolDef),
	coverage.Pass("tool_choice.*", "names a declared tool (whose definition is scanned) or a fixed mode"),
	coverage.Pass("thinking.type", coverage.WhyEnum),
	coverage.Pass("metadata.user_id", coverage.WhyNotModel),
	coverage.Pass("stop_sequences.#", coverage.WhyStop),
	coverage.Pass("service_tier", coverage.WhyNotModel),
	coverage.Pass("container", coverage.WhyID),
	coverage.Pass("mcp_servers.**", "refused by the injection layer unless allow_unknown_parts names mcp_servers: Anthropic fetches these servers' tools and results itself, so none of their text passes the gateway"),
}

func TestCoverage(t *testing.T) {
	samples := coverage.Samples(t, "testdata/coverage_messages.json", "testdata/coverage_messages_2.json")
	coverage.Check(t, New(), conv.KindChat, samples, messagesCoverage, "provider/anthropic messagesCoverage")
}

// messagesOutputCoverage decides every string of a Messages API answer
// (testdata/coverage_messages_output.json).
var messagesOutputCoverage = coverage.Table{
	coverage.Pass("id", coverage.WhyID),
	coverage.Pass("type", coverage.WhyEnum),
	coverage.Pass("role", coverage.WhyEnum),
	coverage.Pass("model", "names the model that answered"),
	coverage.Pass("stop_reason", coverage.WhyEnum),
	coverage.Pass("stop_sequence", "the client's own stop sequence, echoed"),
	coverage.Pass("container.*", "an identifier and expiry of the provider's code-execution container"),
	coverage.Pass("usage.service_tier", coverage.WhyEnum),
	coverage.Pass("content.#.type", coverage.WhyEnum),
	coverage.Scan("content.#[text].text", conv.SourceAssistant),
	coverage.Pass("content.#[text].citations.#.type", coverage.WhyEnum),
	coverage.Pass("content.#[text].citations.#.file_id", coverage.WhyID),
	coverage.Pass("content.#[text].citations.#.cited_text", "a quotation of a document the client sent (scanned on the way in) or of a web page the provider's search tool read"),
	coverage.Pass("content.#[text].citations.#.*", "where a cited passage comes from (title, address, encrypted index), attached by the provider, not written by the model"),
	coverage.Scan("content.#[thinking].thinking", conv.SourceAssistant),
	coverage.Pass("content.#[thinking].signature", "the provider's signature over the thinking text (opaque)"),
	coverage.Pass("content.#[redacted_thinking].data", "encrypted by the provider: nobody but the provider can read it"),
	coverage.Pass("content.#[tool_use].id", coverage.WhyID),
	coverage.Pass("content.#[tool_use].name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("content.#[tool_use].input.**", coverage.ToolArguments),
	coverage.Pass("content.#[server_tool_use].id", coverage.WhyID),
	coverage.Pass("content.#[server_tool_use].name", "the name of a tool the provider runs itself"),
	coverage.Scan("content.#[server_tool_use].input.**", coverage.ToolArguments),
	coverage.Pass("content.#[web_search_tool_result].**", "results of the provider's own web search (addresses, titles, encrypted page content): not inspected; refuse server tools in requests (inputpolicy) where that matters"),
}

func TestResponseCoverage(t *testing.T) {
	coverage.CheckResponse(t, New(), conv.KindChat, coverage.Samples(t, "testdata/coverage_messages_output.json"), messagesOutputCoverage, "provider/anthropic messagesOutputCoverage")
}
