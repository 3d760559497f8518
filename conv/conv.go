// Package conv is rampart's provider-neutral view of an LLM exchange: the
// normalised conversation that every security layer reads and may modify.
//
// Provider adapters (package provider/...) translate OpenAI and Anthropic JSON
// into these types and write modified text back, so that no layer ever parses
// provider JSON itself. A layer changes text by assigning Segment.Text; the
// adapter notices the change (Segment.Changed) and rewrites only that place in
// the original JSON, leaving every other field untouched.
package conv

import "encoding/json"

// Role is the chat role of a message as the provider names it.
type Role string

const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Source says where a piece of text comes from, which decides how much it is
// trusted. Documents and tool output are untrusted data: instructions inside
// them are indirect injections.
type Source string

const (
	SourceSystem    Source = "system"    // system or developer prompt
	SourceUser      Source = "user"      // text the end user typed
	SourceAssistant Source = "assistant" // model output (also earlier turns)
	SourceDocument  Source = "document"  // retrieved or attached document marked by the client
	SourceTool      Source = "tool"      // tool / function results
	// SourceLink is an address in an answer that the client fetches or
	// shows as a file (Gemini fileData.fileUri): the output guard checks
	// its host against the link allowlist.
	SourceLink Source = "link"
	// SourceToolDef is text of a tool the client declares to the model
	// (name, description, the strings of its JSON Schema) or of a schema
	// the answer must follow: untrusted data, since tool definitions come
	// from tool registries and third-party (MCP) servers.
	SourceToolDef Source = "tool_definition"
)

// Segment is one contiguous piece of text inside a message.
type Segment struct {
	// Text is the current text. Layers may assign it to modify the request
	// or response; the adapter writes it back into the provider JSON.
	Text string
	// Source is the trust origin of the text.
	Source Source
	// Path locates the text inside the provider JSON (a gjson/sjson path such
	// as "messages.2.content.1.text"). Set by adapters; layers must not change it.
	Path string
	// Signed marks text a signature in the answer covers (an Anthropic
	// thinking block): rewriting it breaks the signature, and the
	// provider refuses the next turn that sends the block back. The
	// output guard does not rewrite it (see its signed_text policy).
	Signed bool

	orig string
}

// NewSegment is used by adapters to create a segment whose original text is
// remembered, so that Changed can tell whether a layer modified it.
func NewSegment(text string, src Source, path string) Segment {
	return Segment{Text: text, Source: src, Path: path, orig: text}
}

// Changed reports whether a layer modified the text since the adapter created it.
func (s *Segment) Changed() bool { return s.Text != s.orig }

// Original is the text as the adapter first saw it.
func (s *Segment) Original() string { return s.orig }

// ToolCall is a call the model made (or, in the request, made earlier).
type ToolCall struct {
	ID        string
	Name      string
	Arguments string // JSON text as the provider sent it
	// Path locates the call in the provider JSON (set by adapters).
	Path string
}

// Tool is a tool/function the client declared to the model.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // JSON Schema, as declared
}

// Message is one chat message.
type Message struct {
	Role       Role
	Name       string
	Segments   []Segment
	ToolCalls  []ToolCall
	ToolCallID string // for role tool: the call it answers
	// Parts counts non-text content parts by type ("image_url", "input_audio",
	// "image", "document", ...) so that policy can allow or refuse them.
	Parts map[string]int
}

// Text joins the message's segments with newlines (allocates; for scanners
// that want one string).
func (m *Message) Text() string {
	switch len(m.Segments) {
	case 0:
		return ""
	case 1:
		return m.Segments[0].Text
	}
	n := 0
	for i := range m.Segments {
		n += len(m.Segments[i].Text) + 1
	}
	b := make([]byte, 0, n)
	for i := range m.Segments {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, m.Segments[i].Text...)
	}
	return string(b)
}

// UnknownPart is a content part of a type the adapter does not know.
type UnknownPart struct {
	Type string
	Path string // location in the provider JSON
}

// Kind is the kind of API call.
type Kind string

const (
	KindChat       Kind = "chat"       // OpenAI chat completions, Anthropic messages
	KindCompletion Kind = "completion" // OpenAI legacy completions (prompt text)
	KindEmbedding  Kind = "embedding"  // OpenAI embeddings (input text)
	KindModels     Kind = "models"     // model listing, no content
	KindResponses  Kind = "responses"  // OpenAI Responses API (input items, instructions)
	// KindCountTokens (Anthropic messages/count_tokens) and KindModeration
	// (OpenAI moderations) generate no text: adapters read only the model,
	// and the body goes upstream as sent (see docs/THREAT_MODEL.md).
	KindCountTokens Kind = "count_tokens"
	KindModeration  Kind = "moderation"
	// KindGenerateContent is Google's Gemini API generateContent and
	// streamGenerateContent: the model is named in the path, not the
	// body, so the route sets Conversation.Model (and Stream).
	KindGenerateContent Kind = "generate_content"
)

// Usage is token accounting as the upstream reported it (or as counted).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedPromptTokens is the part of PromptTokens the provider read
	// from its prompt cache (OpenAI prompt_tokens_details.cached_tokens,
	// Anthropic cache_read_input_tokens), priced lower.
	CachedPromptTokens int
}

// Conversation is the normalised request.
type Conversation struct {
	Kind     Kind
	Provider string // "openai", "anthropic" or "gemini"
	Model    string
	Stream   bool
	// System holds a top-level system prompt where the provider has one
	// (Anthropic "system"); OpenAI system messages stay in Messages.
	System   []Segment
	Messages []Message
	Tools    []Tool
	// ReadOnly holds text the model reads that adapters do not write back,
	// so layers inspect it but cannot change it: tool and function
	// definitions and structured-output schemas (SourceToolDef), message
	// and participant names, document titles and sources, the decoded
	// text of attached text files. EachSegment does not visit it; Path
	// locates it in the provider JSON.
	ReadOnly []Segment
	// Unknown lists content parts the adapter forwards but does not know
	// (a type added to the API later): nothing in them is inspected, so
	// policy refuses them unless allowed by name.
	Unknown []UnknownPart
	// MaxTokens is the cap on output tokens the client asked for
	// (max_tokens / max_completion_tokens), 0 when absent. A layer may
	// change it (lower it, or set it where absent); the adapter then writes
	// the new value into the provider JSON. Adapters set it with
	// InitMaxTokens.
	MaxTokens int
	// Answers is how many answers the client asked for in one request
	// (OpenAI n, a legacy completion's best_of, Gemini candidateCount), 0
	// when absent (one). Each answer may be MaxTokens long, so output caps
	// hold for MaxTokens times Answers.
	Answers int
	// IncludeUsage reports whether the client asked for usage in the stream.
	IncludeUsage bool
	// WantUsage is set by a layer that needs the upstream's token usage of
	// a stream whose client did not ask for it (IncludeUsage false). The
	// adapter then asks the upstream for usage (OpenAI
	// stream_options.include_usage); the layer that set it drops the
	// usage-only event the client did not ask for (StreamEvent.Drop).
	WantUsage bool

	origMaxTokens int
}

// InitMaxTokens is used by adapters to set MaxTokens as parsed, so that
// MaxTokensChanged can tell whether a layer changed it.
func (c *Conversation) InitMaxTokens(n int) {
	c.MaxTokens, c.origMaxTokens = n, n
}

// MaxTokensChanged reports whether a layer changed MaxTokens since the
// adapter parsed it.
func (c *Conversation) MaxTokensChanged() bool { return c.MaxTokens != c.origMaxTokens }

// EachSegment calls fn for every segment of the conversation (system first,
// then messages in order) with a pointer that may be used to modify it.
func (c *Conversation) EachSegment(fn func(msgIndex int, role Role, s *Segment)) {
	for i := range c.System {
		fn(-1, RoleSystem, &c.System[i])
	}
	for mi := range c.Messages {
		m := &c.Messages[mi]
		for si := range m.Segments {
			fn(mi, m.Role, &m.Segments[si])
		}
	}
}

// UserTurnBefore is the text of the last user message before message
// index mi (all of it, "" when there is none): the request that data at mi
// answers.
func (c *Conversation) UserTurnBefore(mi int) string {
	for i := min(mi, len(c.Messages)) - 1; i >= 0; i-- {
		if m := &c.Messages[i]; m.Role == RoleUser {
			return m.Text()
		}
	}
	return ""
}

// Snapshot is what layers may change in a request, as Conversation.Snapshot
// captured it.
type Snapshot struct {
	texts     []string
	maxTokens int
	wantUsage bool
}

// Snapshot captures every segment's current text and the request settings
// layers may change (MaxTokens, WantUsage), so that Restore can undo what a
// monitor-mode layer changed.
func (c *Conversation) Snapshot() Snapshot {
	snap := Snapshot{maxTokens: c.MaxTokens, wantUsage: c.WantUsage}
	c.EachSegment(func(_ int, _ Role, s *Segment) { snap.texts = append(snap.texts, s.Text) })
	return snap
}

// Restore sets every segment's text and the request settings back to a
// Snapshot taken earlier.
func (c *Conversation) Restore(snap Snapshot) {
	i := 0
	c.EachSegment(func(_ int, _ Role, s *Segment) {
		if i < len(snap.texts) {
			s.Text = snap.texts[i]
		}
		i++
	})
	c.MaxTokens, c.WantUsage = snap.maxTokens, snap.wantUsage
}

// Choice is one output of the model in a whole (non-streamed) response.
type Choice struct {
	Index        int
	Message      Message // Role assistant; Segments hold the answer text
	FinishReason string
}

// Response is the normalised whole response.
type Response struct {
	Model   string
	Choices []Choice
	Usage   *Usage
	// Unknown lists parts of the answer of a type the adapter does not
	// know (a type added to the API later): nothing in them is inspected,
	// so policy blocks the answer unless allowed by name.
	Unknown []UnknownPart
}

// Channels of answer text that arrive whole in one stream event and are
// not held back (see Delta.Channel): ChannelFile is the decoded text of a
// file the model returned (Gemini inlineData whose bytes are text; the
// adapter encodes a changed text back to base64) or its label (Gemini
// fileData.displayName), ChannelLink an address
// the model returned for the client to fetch (Gemini fileData.fileUri).
const (
	ChannelFile = "file"
	ChannelLink = "link"
)

// Delta is new text for one choice in one stream event.
type Delta struct {
	Choice int
	// Text is the text this event adds. Layers may change it, including to
	// hold text back (shorten it) and release it in a later event.
	Text string
	// Path locates the text in the event's JSON (set by adapters).
	Path string
	// Channel names the text channel of the answer this delta belongs to:
	// "" for the answer text, "refusal", "reasoning" (OpenAI-compatible
	// reasoning_content / reasoning) or "thinking" (Anthropic). Layers
	// that hold text back keep one state per choice and channel, and
	// release it into a delta of the same channel (adapters encode a
	// synthetic event's deltas in their channel).
	Channel string
	// Signed: as Segment.Signed (Anthropic thinking_delta).
	Signed bool
	orig   string
}

// NewDelta is used by adapters to create a delta whose original text is remembered.
func NewDelta(choice int, text, path string) Delta {
	return Delta{Choice: choice, Text: text, Path: path, orig: text}
}

// Changed reports whether a layer modified the delta text.
func (d *Delta) Changed() bool { return d.Text != d.orig }

// ToolCallDelta is a piece of a streamed tool call.
type ToolCallDelta struct {
	Choice         int
	Index          int    // position of the call in the choice's tool_calls
	ID             string // set on the first delta of a call
	Name           string // set on the first delta of a call
	ArgumentsDelta string
	// Path locates ArgumentsDelta in the event's JSON (set by adapters
	// that can rewrite it). A layer may shorten ArgumentsDelta (hold the
	// rest back) and release held arguments in a later delta of the same
	// call or in a synthetic event, only when Path is set; without it the
	// arguments can only pass, or the call be dropped or the stream stopped.
	Path string
	// Drop, set by a layer, removes this delta from the event.
	Drop bool
	orig string
}

// NewToolCallDelta is used by adapters to create a tool-call delta whose
// original arguments are remembered (see ArgumentsChanged).
func NewToolCallDelta(td ToolCallDelta) ToolCallDelta {
	td.orig = td.ArgumentsDelta
	return td
}

// ArgumentsChanged reports whether a layer changed ArgumentsDelta.
func (d *ToolCallDelta) ArgumentsChanged() bool { return d.ArgumentsDelta != d.orig }

// StreamEvent is one server-sent event of a streamed response, as parsed by
// the adapter. Layers read and modify Deltas; the adapter re-encodes the
// event only when something changed.
type StreamEvent struct {
	// Seq is the 0-based index of this event in the stream.
	Seq int
	// Name is the SSE "event:" field ("" for OpenAI).
	Name string
	// Data is the raw SSE data payload.
	Data []byte
	// Deltas are the text additions this event carries.
	Deltas []Delta
	// ToolCalls are streamed tool call pieces in this event.
	ToolCalls []ToolCallDelta
	// FinishReason is set on the event that ends a choice (per choice index).
	FinishReason map[int]string
	// Usage is set when the event carries token usage.
	Usage *Usage
	// Done marks the terminal event ("data: [DONE]" or message_stop).
	Done bool
	// Synthetic is true for events created by the engine (e.g. to flush
	// text held back by a layer at the end of the stream).
	Synthetic bool
	// Drop, set by a layer, removes the whole event from what the client
	// sees (its usage still counts). Only for events that carry no text,
	// tool call or finish reason, such as the usage-only chunk a layer asked
	// the upstream for (Conversation.WantUsage); never for the terminal event.
	Drop bool
	// EndsText, set by the adapter, marks an event that closes a run of
	// streamed text (the Responses API's response.output_text.done): text
	// layers hold back is released in a synthetic event before it.
	EndsText bool
	// Reencode, set by the adapter, asks the engine to pass the event to
	// EncodeStreamEvent after the layers ran even when nothing in it
	// changed: the adapter keeps per-stream state from it (the text actually
	// sent), or rewrites it from that state (events that repeat earlier
	// pieces whole, such as response.completed).
	Reencode bool
	// Unknown lists parts of this event of a type the adapter does not
	// know (see Response.Unknown).
	Unknown []UnknownPart
	// State is the adapter's per-stream state. The engine carries it from
	// event to event of one stream (and into synthetic events); layers must
	// not touch it.
	State any
}

// Changed reports whether any layer modified the event.
func (e *StreamEvent) Changed() bool {
	for i := range e.Deltas {
		if e.Deltas[i].Changed() {
			return true
		}
	}
	for i := range e.ToolCalls {
		if e.ToolCalls[i].Drop || e.ToolCalls[i].ArgumentsChanged() {
			return true
		}
	}
	return false
}
