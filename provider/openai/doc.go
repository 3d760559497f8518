// Package openai is the provider.Adapter for the OpenAI API (chat
// completions, legacy completions, embeddings, models). Construct it with
// New; it is stateless and safe for concurrent use.
//
// Bodies are read with gjson and written back with sjson: only the strings of
// changed segments are replaced, every other byte (unknown fields included)
// stays as it was, and an unchanged body is returned as the same slice.
//
// # Requests (ParseRequest)
//
// Every body must be valid UTF-8, a JSON object, nest at most 64 deep, have
// no array over 100,000 items, and spell each field rampart reads once, in its
// documented letter case and without escape sequences (so no other parser can read a different value).
// Violations are *provider.Error with Status 400 and a Code such as
// invalid_json, invalid_encoding, too_deep, invalid_type, missing_field,
// invalid_value, duplicate_key, invalid_key, too_many_items. Kinds this
// adapter does not handle give Status 404, code unsupported_route.
//
// KindChat (/v1/chat/completions): model (string, required), messages
// (array, required), stream, stream_options.include_usage → IncludeUsage,
// max_completion_tokens or max_tokens (the larger of both) → MaxTokens, n →
// Answers, tools (type function or custom: name, description, parameters)
// and the legacy functions → Tools; a tool of another type is kept with its
// type as Name.
// Each message needs a string role:
//
//	system, developer → SourceSystem    user → SourceUser
//	assistant         → SourceAssistant tool, function → SourceTool
//
// content is a string (segment "messages.N.content") or an array of parts:
// text parts become segments "messages.N.content.M.text", refusal parts
// "messages.N.content.M.refusal"; every other part type (image_url,
// input_audio, file, ...) is counted in Message.Parts by type. content may
// be null or absent only for assistant messages. Assistant tool_calls
// (function: name, arguments string; custom: name, input) and function_call
// become Message.ToolCalls with Path "messages.N.tool_calls.K[.function]";
// an assistant refusal string is a segment "messages.N.refusal".
// tool_call_id and name are copied.
//
// Client-marked documents: a text part carrying "x_rampart_source":
// "document" is untrusted retrieved or attached text; its segment has
// SourceDocument. Only the value "document" and only on text parts is
// accepted. EncodeRequest removes every x_rampart_source member before the
// request goes upstream (the API would refuse the unknown field).
//
// KindCompletion (/v1/completions): prompt (string or array of strings →
// user segments "prompt" / "prompt.N") and suffix ("suffix") in one user
// message; max_tokens → MaxTokens, the larger of n and best_of → Answers.
// KindEmbedding (/v1/embeddings): input likewise ("input" /
// "input.N"). Token-id inputs (array of integers or of integer arrays) carry
// no text: they are accepted, produce no segments, and set
// Message.Parts["tokens"] so that policy can refuse them. KindModels has no
// body.
//
// # Responses (ParseResponse)
//
// Chat: choices[].message content and refusal → SourceAssistant segments
// ("choices.N.message.content"), tool_calls / function_call → ToolCalls,
// finish_reason, index. Completions: "choices.N.text". Embeddings: Usage
// only. usage: prompt_tokens, completion_tokens, total_tokens. A malformed
// upstream body is *provider.Error with Status 502, code
// bad_upstream_response.
//
// # Streams (ParseStreamEvent, EncodeStreamEvent)
//
// The SSE event name is not used. "[DONE]" sets Done. A chunk's
// choices[].delta.content → Delta (Choice = index, Path
// "choices.N.delta.content"); legacy completion chunks "choices.N.text";
// delta.tool_calls[] → ToolCallDelta (index, id, function.name,
// function.arguments) and the legacy delta.function_call → ToolCallDelta
// index 0; finish_reason → FinishReason[index]; usage → Usage. Refusal
// deltas are not exposed as Deltas (holding text back and re-inserting it
// must not move answer text into the refusal field). A chunk with a
// top-level "error" passes through with nothing to inspect.
//
// EncodeStreamEvent returns ev.Data itself when nothing changed, rewrites
// changed delta texts, and deletes tool-call deltas marked Drop from their
// tool_calls array (the array goes when it would be empty; a dropped
// function_call is deleted). A synthetic event (Synthetic, or no data) is
// built as {"id","object":"chat.completion.chunk","created","model",
// "choices":[{"index","delta":{"content"},"logprobs":null,
// "finish_reason":null}]}, one choice per Delta.Choice with its texts
// joined. The adapter keeps no per-stream state: if the engine sets
// ev.Data of the synthetic event to an earlier upstream chunk, id, created,
// model and system_fingerprint are copied from it (the openai-go
// ChatCompletionAccumulator drops chunks whose id differs), and a
// "text_completion" chunk yields a legacy completion chunk
// ({"index","text"}); without it they are ""/0.
//
// # Errors
//
// ErrorBody: {"error":{"message","type","param","code"}}, param and code null
// when empty, type by status: 400, 413 and other 4xx invalid_request_error;
// 401 authentication_error; 403 permission_error; 404 not_found_error; 429
// rate_limit_exceeded; 500 server_error; other 5xx api_error.
// StreamErrorEvent: "event: error\ndata: {"error":{...,"type":"server_error"}}\n\n";
// the openai-go SDK's stream (packages/ssestream) ends Next with a
// *StreamError on any data with a top-level "error", whatever the event name.
package openai
