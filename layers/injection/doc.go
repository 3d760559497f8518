// Package injection is rampart's prompt-injection and jailbreak layer.
//
// In the request phase it scans every text segment of every message with
// the detector of package detect: user text against the user threshold, and
// documents and tool results (conv.SourceDocument, conv.SourceTool) as
// untrusted data against their own threshold, because an indirect injection
// reads like a plain instruction inside data. System and assistant text is
// not scanned unless the config says so. A segment scoring at or above its
// threshold, or holding chat-template control tokens, makes the layer block
// the request (400, code "prompt_injection_detected") or flag it, as
// configured. Findings name the rule, the score, the message index and the
// span in code points; they never carry the text.
package injection
