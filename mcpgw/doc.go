// Package mcpgw is rampart's Model Context Protocol gateway: it fronts MCP
// servers (the Streamable HTTP transport: JSON-RPC 2.0 over POST, answers
// as JSON or SSE, GET for the server stream, DELETE to end a session) at
// /mcp/<name> with the gateway's own identity, blocks, rate limits, audit
// and incident response, and checks what passes in both directions:
//
//   - tool, prompt and resource definitions (tools/list, prompts/list,
//     resources/list): scanned for tool poisoning (poison.yaml rules on the
//     normalised text, invisible or padded text, chat special tokens, and
//     the injection detector's rules at its untrusted threshold; its
//     classifier alone only at a score of 0.97 or more); poisoned entries
//     are withheld, or the whole answer refused, by policy;
//   - pinning: the first clean definition of each tool (SHA-256 of its
//     canonical JSON) is approved and stored; a different definition later
//     (a rug pull) is withheld until an administrator approves it
//     (`rampart mcp tools`, /admin/mcp/tools), and calls to a tool that is
//     not approved are refused;
//   - tool calls: the server's and the caller's allow and deny rules, the
//     pinned input schema, secrets and personal data in the arguments (the
//     output guard's recognisers; block or redact), URL hosts against an
//     allowlist;
//   - tool results, resource contents and prompt messages: scanned as
//     untrusted data by the injection detector (an injected answer becomes
//     a JSON-RPC error or a neutral isError block) and for secrets
//     (redacted), streamed answers event by event.
//
// The client's rampart key never reaches the MCP server; the server gets
// the credential configured for it. Every POST, GET and DELETE is one audit
// record (server, method and tool, decisions with findings, HMAC of the
// body); MCP findings never carry the text they matched.
package mcpgw
