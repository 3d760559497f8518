// Package engine runs rampart's security chain around one LLM API call.
//
// One Engine owns the client's http.ResponseWriter for the whole
// transaction; layers never wrap handlers. For each request the engine
//
//  1. assigns a request id (sent as X-Request-Id on every answer, errors
//     included), reads the body (bounded: 413 past Options.MaxBodyBytes) and
//     parses it with the route's provider adapter, which rejects malformed
//     JSON, wrong types, invalid UTF-8 and deep nesting (a 4xx in the
//     provider's error shape, never a 5xx);
//  2. runs the request phase of every layer in chain order, and re-encodes
//     the body only if a layer changed a segment;
//  3. calls the upstream (Engine.Handler) or the wrapped handler
//     (Engine.Middleware) with that body;
//  4. for a 2xx text/event-stream answer, parses server-sent events one at a
//     time, runs the stream phase on each, re-encodes only changed events,
//     and writes and flushes each event at once. Before the event that ends
//     a run of streamed text — one with a finish reason, Anthropic's
//     content_block_stop, or the terminal event ("data: [DONE]", Anthropic's
//     message_stop) — it calls every stream layer's OnStreamEnd with a
//     synthetic event and emits that event if it carries text, so held-back
//     text reaches the client before the stream says it is finished.
//     OnStreamEnd runs at least once per stream (also when the upstream
//     closes without a terminal event), and again only if more text followed
//     (e.g. several choices, or Anthropic text blocks around a tool call). Any other 2xx answer is read whole (bounded by
//     Options.MaxResponseBytes, else 502) and passes the response phase. A
//     non-2xx upstream answer passes through with its status;
//  5. always runs the finish phase, then hands the transaction to the
//     Recorder exactly once and reports it to the Observer once.
//
// A conv.StreamEvent, its Data and its slices are valid only during the layer
// call that receives them; the engine reuses them for the next event.
//
// # Modes and failures
//
// A layer in monitor mode is called like any other, but what it changed is
// undone (conv.Conversation.Snapshot/Restore, delta texts for stream events)
// and a block is recorded as a would-be block (Outcome.Monitor) without
// being applied; a monitor-mode layer's internal failure never blocks. A
// layer that returns an error or panics (panics are recovered in every
// call) blocks the transaction with 503 and code "layer_unavailable" when
// its failure mode is closed, the default, and is only recorded when open.
//
// A layer that inspects whole responses must also inspect streams (New
// rejects a ResponseLayer that is not a StreamLayer), so a client cannot
// skip an output check by asking for stream: true.
//
// # Errors sent to clients
//
// Errors use the route's provider shape (provider.Adapter.ErrorBody): for
// OpenAI routes
//
//	{"error":{"message":"...","type":"...","param":null,"code":"..."}}
//
// and for Anthropic's /v1/messages
//
//	{"type":"error","error":{"type":"...","message":"..."}}
//
// # Mid-stream errors
//
// Once a stream has started the status line is already sent, so a block by
// a stream layer, a failing layer (fail closed), an upstream read error or
// timeout, or an upstream stream that ends without its terminal event is
// reported in-band: the engine writes the adapter's StreamErrorEvent,
//
//	event: error
//	data: {"error":{"message":"...","type":"...","param":null,"code":"..."}}
//
// for OpenAI routes and
//
//	event: error
//	data: {"type":"error","error":{"type":"...","message":"..."}}
//
// for Anthropic, then ends the response WITHOUT the terminal "data: [DONE]"
// (or message_stop) and cancels the upstream call. SDKs report this as an
// error; a client that only watches for [DONE] sees a truncated stream,
// never a complete-looking one. The error's code is the layer's
// Decision.Code for a block, "layer_unavailable" for a failed layer,
// "upstream_timeout" or "upstream_error" for upstream trouble.
//
// # Tracing
//
// With an OpenTelemetry tracer provider (Options.TracerProvider, or one
// installed globally) the engine makes a server span per transaction
// (continuing the client's W3C trace context, or a span already in the
// request context), a child span per layer phase call (allowed stream
// events summarised into one span per layer), and a client span for the
// upstream call whose trace context replaces the client's traceparent on
// the upstream request. Spans carry names, ids, actions and codes, never
// content (see trace.go for the attributes). Without a provider the engine
// makes no spans and the traced paths cost one nil check each.
package engine
