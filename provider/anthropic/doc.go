// Package anthropic is the provider.Adapter for the Anthropic Messages API
// (/v1/messages, and /v1/models which has no body). Construct it with New;
// it is stateless and safe for concurrent use.
//
// Bodies are read with gjson and written back with sjson: only the strings of
// changed segments are replaced, every other byte (unknown fields included)
// stays as it was, and an unchanged body is returned as the same slice.
//
// # Requests (ParseRequest, KindChat)
//
// Every body must be valid UTF-8, a JSON object, nest at most 64 deep, have
// no array over 100,000 items, and spell each field rampart reads once, in its
// documented letter case and without escape sequences. Violations are *provider.Error with Status 400
// (codes invalid_json, invalid_encoding, too_deep, invalid_type,
// missing_field, invalid_value, duplicate_key, invalid_key,
// too_many_items); other kinds give 404 unsupported_route.
//
// model (string), max_tokens (integer) and messages (array) are required;
// stream → Stream (and IncludeUsage, as Anthropic streams always carry
// usage); tools[] (name, description, input_schema) → Tools. system is a
// string (Conversation.System segment "system") or an array of text blocks
// ("system.N.text"), SourceSystem.
//
// Each message has role user (SourceUser) or assistant (SourceAssistant)
// and content that is a string ("messages.N.content") or an array of blocks:
//
//   - text → segment "messages.N.content.M.text" with the role's source;
//   - document with source.type "text" → SourceDocument segment
//     "...content.M.source.data"; source.type "content" → SourceDocument
//     segments for its string or text blocks; the document's context →
//     SourceDocument segment; other sources (base64 PDF, url, file) are
//     counted in Parts["document"];
//   - tool_use / server_tool_use → Message.ToolCalls (ID, Name, Arguments =
//     the input object's JSON text, Path "messages.N.content.M");
//   - tool_result → its own conv.Message with Role tool, ToolCallID =
//     tool_use_id and SourceTool segments for its string or text-block
//     content (documents inside as above, images counted in Parts). These
//     messages come before the message holding the rest of that turn, which
//     is omitted when nothing else is in it; so conv message indexes need not
//     equal JSON indexes, but every segment Path points into the JSON;
//   - every other block (image, thinking, redacted_thinking, search_result,
//     ...) is counted in Message.Parts by type.
//
// # Responses (ParseResponse)
//
// One Choice (index 0): content[] text → SourceAssistant segments
// "content.M.text", tool_use / server_tool_use → ToolCalls, other blocks
// counted in Parts; stop_reason → FinishReason. Usage: PromptTokens =
// input_tokens + cache_creation_input_tokens + cache_read_input_tokens,
// CompletionTokens = output_tokens, TotalTokens their sum. A malformed body
// is *provider.Error with Status 502, code bad_upstream_response.
//
// # Streams (ParseStreamEvent, EncodeStreamEvent)
//
// Events are dispatched on the data's "type" (as the SDKs do); a non-empty
// SSE name that disagrees is an error (502). message_start → Usage (of
// message.usage); content_block_start: a tool_use block → ToolCallDelta
// (Index = block index, ID, Name), a text block with initial text → Delta
// "content_block.text"; content_block_delta: text_delta → Delta (Choice 0,
// Path "delta.text"), input_json_delta → ToolCallDelta (Index = block index,
// ArgumentsDelta = partial_json); message_delta → FinishReason[0] =
// stop_reason and Usage (output_tokens is cumulative); message_stop → Done.
// ping, error, content_block_stop and unknown events pass through.
//
// EncodeStreamEvent returns ev.Data itself when nothing changed and rewrites
// changed delta texts. A dropped tool-call delta cannot be removed without
// breaking block indexes, so a dropped input_json_delta gets an empty
// partial_json and a dropped tool_use content_block_start becomes an empty
// text block (the SDK accumulators accept both). A synthetic event
// (Synthetic, or no data) becomes {"type":"content_block_delta","index":I,
// "delta":{"type":"text_delta","text":...}} with the Delta texts joined, and
// ev.Name is set to "content_block_delta". The adapter keeps no per-stream
// state: I is the "index" of ev.Data when the engine sets it to an earlier
// upstream event of the current text block, else 0; the engine must emit the
// synthetic event before that block's content_block_stop.
//
// # Errors
//
// ErrorBody: {"type":"error","error":{"type","message"}} plus "code" and
// "param" members when not empty; type by status: 401 authentication_error,
// 402 billing_error, 403 permission_error, 404 not_found_error, 413
// request_too_large, 429 rate_limit_error, 503/529 overloaded_error, 504
// timeout_error, other 5xx api_error, other 4xx invalid_request_error.
// StreamErrorEvent: "event: error\ndata: {"type":"error","error":{"type":
// "api_error",...}}\n\n"; the anthropic-sdk-go stream ends with an error on
// any event named "error".
package anthropic
