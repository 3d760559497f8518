// Package gemini is the provider.Adapter for Google's Gemini API
// generateContent and streamGenerateContent (POST
// /v1beta/models/{model}:generateContent and :streamGenerateContent).
// Construct it with New; it is stateless and safe for concurrent use.
//
// Bodies are read with gjson and written back with sjson, as in the other
// adapters: only changed strings are replaced, every other byte stays.
// The model and whether the call streams are in the path, not the body:
// the gateway's route sets Conversation.Model and Stream after parsing.
//
// # Requests (ParseRequest, KindGenerateContent)
//
// The body checks of the other adapters apply (UTF-8, a JSON object, depth
// 64, arrays of at most 100,000 items, each field read spelled once, in its letter case, without
// escapes; violations are *provider.Error 400). A field rampart reads,
// spelled with its protobuf name (system_instruction, max_output_tokens,
// inline_data, ...: Google's parser takes that spelling too), is refused
// 400 (code invalid_key), so no text reaches the model under a name the
// adapter skips. contents (array) is
// required. Each content has a role ("" or user → SourceUser, model →
// SourceAssistant, function/tool → SourceTool) and parts; each part holds
// one data field:
//
//   - text → a segment of the role's source ("contents.N.parts.M.text");
//   - inlineData: data that decodes to text (whatever mimeType claims) is a
//     read-only SourceDocument segment and counted as Parts["file"]; other
//     data is counted as image, audio, video or file by mimeType;
//   - fileData (a file Google fetches): counted as Parts["file_data"];
//   - functionCall → Message.ToolCalls (ID, Name, Arguments = args JSON);
//   - functionResponse → its own conv.Message, Role tool, ToolCallID = id
//     (or the name when there is no id): every string inside response is a
//     SourceTool segment (untrusted tool output), read-only when a member
//     name on its path needs escaping; text parts inside are SourceTool
//     segments, inline data as above;
//   - executableCode.code → a segment of the role's source;
//     codeExecutionResult.output → a SourceTool message (sandbox output).
//
// thought, thoughtSignature, videoMetadata, partMetadata and
// mediaResolution qualify a part. A part member of any other name is a part
// type rampart does not know: conv.Unknown (refused unless allowed by
// name). systemInstruction (a content of text parts, or a string) →
// Conversation.System. tools[].functionDeclarations → Tools, and the
// declaration's text (name, description, schema prose) a read-only
// SourceToolDef segment; built-in tools (googleSearch, codeExecution,
// urlContext, ...) pass; another tool member is Unknown ("tool:<name>").
// generationConfig.maxOutputTokens → MaxTokens (written back when a layer
// lowers it); generationConfig.candidateCount → Answers; responseSchema /
// responseJsonSchema → read-only
// SourceToolDef text. toolConfig.functionCallingConfig.allowedFunctionNames:
// each must name a declared function (else 400). Other fields
// (safetySettings, the rest of toolConfig, cachedContent, ...) pass as sent.
//
// # Responses (ParseResponse)
//
// One Choice per candidate (Index = candidate index): text parts (thought
// summaries included), executableCode.code and codeExecutionResult.output
// → SourceAssistant segments; inlineData whose bytes are text (whatever
// mimeType claims) → a SourceAssistant segment at its data (EncodeResponse
// writes a changed text back base64-encoded), other inline data counted by
// kind; fileData.fileUri → a conv.SourceLink segment (counted as
// file_data) and fileData.displayName → a SourceAssistant segment;
// functionCall → ToolCalls. A part member the adapter does not
// know → Response.Unknown (the output guard blocks it unless allowed).
// finishReason → FinishReason. usageMetadata: PromptTokens =
// promptTokenCount + toolUsePromptTokenCount, CompletionTokens =
// candidatesTokenCount + thoughtsTokenCount, CachedPromptTokens =
// cachedContentTokenCount, TotalTokens = totalTokenCount (or the sum). A
// body with an "error" member, or malformed, is a 502.
//
// # Streams (ParseStreamEvent, EncodeStreamEvent)
//
// Each SSE data field is a GenerateContentResponse chunk (no event names).
// Text parts → Deltas (Choice = candidate index, channel "thinking" for
// thought parts); executableCode.code and codeExecutionResult.output →
// deltas of channels "code" and "code_result"; inlineData text and
// fileData.displayName → whole deltas of conv.ChannelFile, fileData.fileUri
// of conv.ChannelLink (not held back); unknown part members → StreamEvent.Unknown; each
// functionCall part →
// one whole ToolCallDelta (Index counts the candidate's calls in the
// stream, kept in StreamEvent.State);
// finishReason → FinishReason; usageMetadata → Usage. A chunk with an
// "error" member is relayed as the terminal event. The stream has no
// terminal event of its own: StreamEndsAtEOF tells the engine that the
// upstream closing it after a finishReason is its normal end.
//
// EncodeResponse and EncodeStreamEvent rewrite changed texts and delete the
// logprobsResult of each candidate whose text changed (its tokens repeat
// the original text); EncodeStreamEvent also deletes the parts of dropped
// function calls. A synthetic event is a chunk of parts of each delta's
// channel (one candidate per choice), with modelVersion, responseId and usageMetadata
// from the template chunk, and its finishReason when the template finished
// the candidate.
//
// # Errors
//
// ErrorBody is Google's {"error":{"code","message","status","details"}}
// with the canonical status name for the HTTP status and rampart's code in
// a google.rpc.ErrorInfo detail (reason, domain "rampart", metadata.param).
// StreamErrorEvent is "data: {"error":{...}}" without an event name: the
// google.golang.org/genai iterator yields it as a genai.APIError.
package gemini
