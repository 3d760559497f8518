// Package inputpolicy is rampart's size, shape and role layer. Before a
// request goes upstream it enforces:
//
//   - size limits: characters in total and per message, prompt tokens
//     (counted with the embedded tiktoken vocabularies of detect/tokens,
//     only when the text is long enough to possibly exceed the limit),
//     number of messages, number and size of tool definitions — an oversize
//     request is refused with an OpenAI-shaped error (400
//     context_length_exceeded, message_too_large, ... or 413), never
//     silently truncated unless on_oversize is "truncate";
//   - content types: which non-text parts (images, audio, files) a policy
//     allows;
//   - roles: whether clients may send system/developer messages (allowed by
//     default), and the tenant's own system prompt (prepended or replacing);
//   - fake role markers in user, document and tool text ("### system:",
//     "<|system|>", "System:" at a line start, JSON "role":"system"),
//     flagged or blocked with a rule id and a code-point span.
//
// The tenant system prompt is written into the first existing system
// segment: the conversation contract lets layers change segment text but
// not add messages, so a request without any system segment cannot carry
// it; system_prompt_missing decides whether such a request is flagged (the
// default) or refused (clients then send a system message, which may be
// empty). No contract change is needed.
//
// Role-marker normalisation is shared with later layers (topics) through
// layers/internal/normtext; OnFinish releases it.
//
// Named policies (Config.Policies) are chosen by the identity layer's
// Identity.Policy; unset fields inherit the base policy.
package inputpolicy
