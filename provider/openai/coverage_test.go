package openai

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/coverage"
)

// chatCoverage decides every string of a chat completions request
// (testdata/coverage_chat.json holds every field of the API schema).
var chatCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model; routing and model policy read it"),
	coverage.Pass("messages.#.role", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#.type", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#.x_rampart_source", "rampart's own document marker, removed before the request goes upstream"),
	coverage.Pass("messages.#.tool_call_id", coverage.WhyID),
	coverage.Pass("messages.#.tool_calls.#.id", coverage.WhyID),
	coverage.Pass("messages.#.tool_calls.#.type", coverage.WhyEnum),
	coverage.Pass("messages.#.tool_calls.#.**", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.function_call.**", coverage.WhyAssistantTurn),
	coverage.Pass("messages.#.audio.id", coverage.WhyID),
	coverage.Pass("messages.#.content.#.image_url.url", "an image (or its address): no text the gateway reads; refuse images with inputpolicy allowed_parts"),
	coverage.Pass("messages.#.content.#.image_url.detail", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#.input_audio.data", "audio: the gateway does not transcribe; refuse audio with inputpolicy allowed_parts"),
	coverage.Pass("messages.#.content.#.input_audio.format", coverage.WhyEnum),
	coverage.Pass("messages.#.content.#.file.file_id", coverage.WhyID+"; the file was uploaded through the Files API, which does not pass the gateway (refuse file parts with inputpolicy allowed_parts)"),
	coverage.Scan("messages.#.content.#.file.filename", conv.SourceDocument),
	coverage.Scan("messages.#.content.#.file.file_data", conv.SourceDocument),
	coverage.ByRole("messages.#.content"),
	coverage.ByRole("messages.#.content.#.text"),
	coverage.ByRole("messages.#.content.#.refusal"),
	coverage.ByRole("messages.#.refusal"),
	coverage.ByRole("messages.#.name"),
	coverage.Pass("tools.#.type", coverage.WhyEnum),
	coverage.Scan("tools.#.**", conv.SourceToolDef),
	coverage.Scan("functions.#.**", conv.SourceToolDef),
	coverage.Pass("tool_choice.**", "names a declared tool (whose definition is scanned) or a fixed mode"),
	coverage.Pass("tool_choice", coverage.WhyEnum),
	coverage.Pass("function_call", coverage.WhyEnum),
	coverage.Pass("response_format.type", coverage.WhyEnum),
	coverage.Scan("response_format.**", conv.SourceToolDef),
	coverage.Pass("stop", coverage.WhyStop),
	coverage.Pass("stop.#", coverage.WhyStop),
	coverage.Pass("user", coverage.WhyNotModel),
	coverage.Pass("safety_identifier", coverage.WhyNotModel),
	coverage.Pass("prompt_cache_key", coverage.WhyNotModel),
	coverage.Pass("metadata.*", coverage.WhyNotModel),
	coverage.Pass("service_tier", coverage.WhyNotModel),
	coverage.Pass("reasoning_effort", coverage.WhyEnum),
	coverage.Pass("verbosity", coverage.WhyEnum),
	coverage.Pass("modalities.#", coverage.WhyEnum),
	coverage.Pass("audio.*", coverage.WhyEnum),
	coverage.Pass("prediction.type", coverage.WhyEnum),
	coverage.Pass("prediction.content", "predicted output used to speed up decoding, not read as instructions (the answer is checked by the output guard like any other)"),
	coverage.Pass("web_search_options.**", "settings and a coarse location for OpenAI's search tool, not put in front of the model as text"),
}

var completionCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model"),
	coverage.Scan("prompt.#", conv.SourceUser),
	coverage.Scan("prompt", conv.SourceUser),
	coverage.Scan("suffix", conv.SourceUser),
	coverage.Pass("stop", coverage.WhyStop),
	coverage.Pass("user", coverage.WhyNotModel),
}

var embeddingCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model"),
	coverage.Scan("input.#", conv.SourceUser),
	coverage.Pass("encoding_format", coverage.WhyEnum),
	coverage.Pass("user", coverage.WhyNotModel),
}

// responsesCoverage decides every string of a Responses API request.
var responsesCoverage = coverage.Table{
	coverage.Pass("model", "selects the upstream model; routing and model policy read it"),
	coverage.Scan("instructions", conv.SourceSystem),
	coverage.ByRole("input.#.content"),
	coverage.ByRole("input.#.content.#.text"),
	coverage.ByRole("input.#.content.#.refusal"),
	coverage.Pass("input.#.role", coverage.WhyEnum),
	coverage.Pass("input.#.type", coverage.WhyEnum),
	coverage.Pass("input.#.status", coverage.WhyEnum),
	coverage.Pass("input.#.id", coverage.WhyID),
	coverage.Pass("input.#.call_id", coverage.WhyID),
	coverage.Pass("input.#.content.#.type", coverage.WhyEnum),
	coverage.Pass("input.#.content.#.detail", coverage.WhyEnum),
	coverage.Pass("input.#.content.#.file_id", coverage.WhyID+"; the file was uploaded through the Files API, which does not pass the gateway"),
	coverage.Pass("input.#.content.#.image_url", "an image (or its address): no text the gateway reads; refuse images with inputpolicy allowed_parts"),
	coverage.Pass("input.#.content.#.file_url", "a file the provider fetches, out of the gateway's sight; refuse input_file with inputpolicy allowed_parts"),
	coverage.Scan("input.#.content.#.filename", conv.SourceDocument),
	coverage.Scan("input.#.content.#.file_data", conv.SourceDocument),
	coverage.Pass("input.#.content.#.annotations.**", coverage.WhyAssistantTurn),
	coverage.Pass("input.#.summary.**", "reasoning state the model produced, handed back"),
	coverage.Pass("input.#.encrypted_content", "encrypted reasoning state only the provider can read"),
	coverage.Pass("input.#.name", coverage.WhyAssistantTurn),
	coverage.Pass("input.#.arguments", coverage.WhyAssistantTurn),
	coverage.Pass("input.#.input", coverage.WhyAssistantTurn),
	coverage.Scan("input.#.output", conv.SourceTool),
	coverage.Scan("input.#.output.#.text", conv.SourceTool),
	coverage.Pass("input.#.output.#.type", coverage.WhyEnum),
	coverage.Pass("input.#.server_label", "names an MCP server the operator configured"),
	coverage.Pass("input.#.error", "an error string of a built-in tool call the model made"),
	coverage.Pass("input.#.action.**", "a call the model made to a built-in tool (its own output)"),
	coverage.Pass("tools.#.type", coverage.WhyEnum),
	coverage.Scan("tools.#.**", conv.SourceToolDef),
	coverage.Pass("tool_choice.**", "names a declared tool (whose definition is scanned) or a fixed mode"),
	coverage.Pass("text.format.type", coverage.WhyEnum),
	coverage.Scan("text.format.**", conv.SourceToolDef),
	coverage.Pass("text.verbosity", coverage.WhyEnum),
	coverage.Scan("prompt.variables.*", conv.SourceUser),
	coverage.Scan("prompt.variables.*.text", conv.SourceUser),
	coverage.Pass("prompt.variables.*.type", coverage.WhyEnum),
	coverage.Pass("prompt.id", coverage.WhyID+"; the stored prompt itself lives upstream, out of the gateway's sight"),
	coverage.Pass("prompt.version", coverage.WhyID),
	coverage.Pass("previous_response_id", coverage.WhyID+"; the turns it refers to are stored upstream (docs/THREAT_MODEL.md)"),
	coverage.Pass("conversation", coverage.WhyID+"; the turns it refers to are stored upstream (docs/THREAT_MODEL.md)"),
	coverage.Pass("metadata.*", coverage.WhyNotModel),
	coverage.Pass("user", coverage.WhyNotModel),
	coverage.Pass("safety_identifier", coverage.WhyNotModel),
	coverage.Pass("prompt_cache_key", coverage.WhyNotModel),
	coverage.Pass("service_tier", coverage.WhyNotModel),
	coverage.Pass("truncation", coverage.WhyEnum),
	coverage.Pass("reasoning.*", coverage.WhyEnum),
	coverage.Pass("include.#", coverage.WhyEnum),
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
		{[]string{"testdata/coverage_responses.json"}, conv.KindResponses, responsesCoverage, "provider/openai responsesCoverage"},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			coverage.Check(t, New(), c.kind, coverage.Samples(t, c.files...), c.table, c.name)
		})
	}
}

// Reasons shared by the answer tables.
const (
	whyEcho        = "the request's own setting or text, echoed back by the provider (request fields are decided in the request tables)"
	whyLogprobs    = "log probabilities repeat the tokens of the text beside them, which is scanned; they are emptied whenever a layer changes or holds that text"
	whyProviderRun = "a tool the provider runs itself (web search, file search, code interpreter, image generation, remote MCP servers): its inputs and results pass uninspected; refuse these tools in requests (inputpolicy) where that matters (a request naming a remote MCP server, tools[type=mcp], is refused unless allow_unknown_parts names tool:mcp)"
	whyCitation    = "a citation the provider's own tool attached to the text (address or title of a source it read), not text the model wrote"
)

// responsesOutputCoverage decides every string of a Responses API answer
// (testdata/coverage_responses_output.json holds every output item type
// and field of the schema).
var responsesOutputCoverage = coverage.Table{
	coverage.Pass("id", coverage.WhyID),
	coverage.Pass("object", coverage.WhyEnum),
	coverage.Pass("status", coverage.WhyEnum),
	coverage.Pass("model", "names the model that answered"),
	coverage.Pass("incomplete_details.reason", coverage.WhyEnum),
	coverage.Pass("conversation.id", coverage.WhyID),
	coverage.Pass("previous_response_id", coverage.WhyID),
	coverage.Pass("instructions", whyEcho),
	coverage.Pass("prompt.**", whyEcho),
	coverage.Pass("prompt_cache_key", whyEcho),
	coverage.Pass("reasoning.*", whyEcho),
	coverage.Pass("safety_identifier", whyEcho),
	coverage.Pass("service_tier", whyEcho),
	coverage.Pass("text.**", whyEcho),
	coverage.Pass("tool_choice", whyEcho),
	coverage.Pass("tools.**", whyEcho),
	coverage.Pass("truncation", whyEcho),
	coverage.Pass("user", whyEcho),
	coverage.Pass("metadata.*", whyEcho),
	coverage.Pass("output.#.id", coverage.WhyID),
	coverage.Pass("output.#.call_id", coverage.WhyID),
	coverage.Pass("output.#.status", coverage.WhyEnum),
	coverage.Pass("output.#.type", coverage.WhyEnum),
	coverage.Pass("output.#[message].role", coverage.WhyEnum),
	coverage.Pass("output.#[message].content.#.type", coverage.WhyEnum),
	coverage.Scan("output.#[message].content.#[output_text].text", conv.SourceAssistant),
	coverage.Scan("output.#[message].content.#[refusal].refusal", conv.SourceAssistant),
	coverage.Pass("output.#[message].content.#[output_text].logprobs.**", whyLogprobs),
	coverage.Pass("output.#[message].content.#[output_text].annotations.#.type", coverage.WhyEnum),
	coverage.Pass("output.#[message].content.#[output_text].annotations.#.file_id", coverage.WhyID),
	coverage.Pass("output.#[message].content.#[output_text].annotations.#.container_id", coverage.WhyID),
	coverage.Pass("output.#[message].content.#[output_text].annotations.#.*", whyCitation),
	coverage.Pass("output.#[reasoning].encrypted_content", "encrypted by the provider: nobody but the provider can read it"),
	coverage.Pass("output.#[reasoning].summary.#.type", coverage.WhyEnum),
	coverage.Scan("output.#[reasoning].summary.#.text", conv.SourceAssistant),
	coverage.Pass("output.#[reasoning].content.#.type", coverage.WhyEnum),
	coverage.Scan("output.#[reasoning].content.#.text", conv.SourceAssistant),
	coverage.Pass("output.#[function_call].name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("output.#[function_call].arguments", coverage.ToolArguments),
	coverage.Pass("output.#[custom_tool_call].name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("output.#[custom_tool_call].input", coverage.ToolArguments),
	coverage.Pass("output.#[web_search_call].**", whyProviderRun),
	coverage.Pass("output.#[file_search_call].**", whyProviderRun),
	coverage.Pass("output.#[code_interpreter_call].**", whyProviderRun),
	coverage.Pass("output.#[image_generation_call].**", whyProviderRun),
	coverage.Pass("output.#[mcp_call].**", whyProviderRun),
	coverage.Pass("output.#[mcp_list_tools].**", whyProviderRun),
	coverage.Pass("output.#[mcp_approval_request].**", whyProviderRun),
	coverage.Pass("output.#[computer_call].**", "actions of the provider's computer-use tool, which the client carries out: not inspected; refuse the tool in requests (inputpolicy) where that matters"),
	coverage.Pass("output.#[local_shell_call].**", "a command of the provider's local shell tool, which the client runs: not inspected; refuse the tool in requests (inputpolicy) where that matters"),
}

func TestResponseCoverage(t *testing.T) {
	coverage.CheckResponse(t, New(), conv.KindResponses, coverage.Samples(t, "testdata/coverage_responses_output.json"), responsesOutputCoverage, "provider/openai responsesOutputCoverage")
}

// chatOutputCoverage decides every string of a chat completion answer
// (testdata/coverage_chat_output.json).
var chatOutputCoverage = coverage.Table{
	coverage.Pass("id", coverage.WhyID),
	coverage.Pass("object", coverage.WhyEnum),
	coverage.Pass("model", "names the model that answered"),
	coverage.Pass("system_fingerprint", coverage.WhyID),
	coverage.Pass("service_tier", whyEcho),
	coverage.Pass("choices.#.finish_reason", coverage.WhyEnum),
	coverage.Pass("choices.#.message.role", coverage.WhyEnum),
	coverage.Scan("choices.#.message.content", conv.SourceAssistant),
	coverage.Scan("choices.#.message.refusal", conv.SourceAssistant),
	coverage.Scan("choices.#.message.reasoning_content", conv.SourceAssistant),
	coverage.Scan("choices.#.message.reasoning", conv.SourceAssistant),
	coverage.Scan("choices.#.message.audio.transcript", conv.SourceAssistant),
	coverage.Pass("choices.#.message.audio.id", coverage.WhyID),
	coverage.Pass("choices.#.message.audio.data", "audio: the gateway does not transcribe it; its transcript, which says the same, is scanned"),
	coverage.Pass("choices.#.message.annotations.#.type", coverage.WhyEnum),
	coverage.Pass("choices.#.message.annotations.#.url_citation.*", whyCitation),
	coverage.Pass("choices.#.message.tool_calls.#.id", coverage.WhyID),
	coverage.Pass("choices.#.message.tool_calls.#.type", coverage.WhyEnum),
	coverage.Pass("choices.#.message.tool_calls.#.function.name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("choices.#.message.tool_calls.#.function.arguments", coverage.ToolArguments),
	coverage.Pass("choices.#.message.tool_calls.#.custom.name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("choices.#.message.tool_calls.#.custom.input", coverage.ToolArguments),
	coverage.Pass("choices.#.message.function_call.name", "the tool name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("choices.#.message.function_call.arguments", coverage.ToolArguments),
	coverage.Pass("choices.#.logprobs.**", whyLogprobs),
}

func TestChatResponseCoverage(t *testing.T) {
	coverage.CheckResponse(t, New(), conv.KindChat, coverage.Samples(t, "testdata/coverage_chat_output.json"), chatOutputCoverage, "provider/openai chatOutputCoverage")
}
