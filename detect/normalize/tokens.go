package normalize

import (
	"strings"
	"unicode/utf8"
)

// Span is a chat-template special token found in a string.
type Span struct {
	// Start, End: code-point offsets in the searched string (End exclusive).
	Start, End int
	// ByteStart, ByteEnd: byte offsets of the same span.
	ByteStart, ByteEnd int
	// Token is the canonical lower-case ASCII form, e.g. "<|im_start|>".
	Token string
	// Known: the token is in the built-in list of model control tokens
	// (false for other well-formed <|name|> tokens).
	Known bool
	// Ambiguous: the token is also ordinary markup (<s>, </s> are HTML);
	// scanners should weigh it lower.
	Ambiguous bool
}

// maxTokenName bounds the name inside <|…|> and […] tokens, in bytes.
const maxTokenName = 64

// knownPipeTokens are names used inside <|…|> by common chat templates
// (ChatML, Llama 3, Phi, Granite, gpt-oss harmony, DeepSeek, FIM).
var knownPipeTokens = map[string]bool{
	"im_start": true, "im_end": true, "im_sep": true, "endoftext": true, "endofprompt": true,
	"system": true, "user": true, "assistant": true, "tool": true, "end": true,
	"begin_of_text": true, "end_of_text": true, "start_header_id": true, "end_header_id": true,
	"eot_id": true, "eom_id": true, "python_tag": true, "finetune_right_pad_id": true,
	"start": true, "message": true, "channel": true, "return": true, "call": true, "constrain": true,
	"start_of_role": true, "end_of_role": true, "tool_call": true,
	"fim_prefix": true, "fim_middle": true, "fim_suffix": true, "fim_pad": true,
	"pad": true, "begin▁of▁sentence": true, "end▁of▁sentence": true,
}

// knownAngleTokens are <name> tokens (Llama 2, Gemma). Ambiguous ones are
// also HTML.
var knownAngleTokens = map[string]bool{ // value: ambiguous
	"s": true, "/s": true,
	"start_of_turn": false, "end_of_turn": false, "bos": false, "eos": false,
}

// knownBracketTokens are [NAME] tokens (Llama 2, Mistral).
var knownBracketTokens = map[string]bool{
	"inst": true, "/inst": true,
	"system_prompt": true, "/system_prompt": true,
	"available_tools": true, "/available_tools": true,
	"tool_calls": true, "tool_results": true, "/tool_results": true,
}

// delimiter code points: ASCII and their fullwidth forms (DeepSeek's real
// tokens use U+FF5C inside ASCII angle brackets).
func isLT(r rune) bool   { return r == '<' || r == '＜' }
func isGT(r rune) bool   { return r == '>' || r == '＞' }
func isPipe(r rune) bool { return r == '|' || r == '｜' }

// hasTokenStart is a cheap pre-check for FindSpecialTokens.
func hasTokenStart(s string) bool {
	return strings.IndexByte(s, '<') >= 0 || strings.IndexByte(s, '[') >= 0 ||
		strings.Contains(s, "＜")
}

// hasByte reports whether one of the eight ASCII bytes in w is b. (A byte
// equal to b is a zero byte of x; a borrow can set the high bit of a byte
// above a zero one, never without one.)
func hasByte(w uint64, b byte) bool {
	x := w ^ lsb*uint64(b)
	return (x-lsb)&^x&msb != 0
}

// FindSpecialTokens returns the chat-template control tokens in s, in order,
// non-overlapping: <|name|> (any name of letters, digits, _ . - ▁, known or
// not), <<SYS>>, <</SYS>>, [INST], [/INST] and other Mistral [NAME] tokens,
// <s>, </s>, <start_of_turn>, <end_of_turn>, <bos>, <eos>. Matching is
// case-insensitive and accepts fullwidth ＜ ｜ ＞, so it works on both raw
// and Normalize'd text. Markdown markers such as "### Instruction:" are not
// tokens and are left to rules.
func FindSpecialTokens(s string) []Span {
	if !hasTokenStart(s) {
		return nil
	}
	var out []Span
	rpos := 0
	for i := 0; i < len(s); {
		// Eight ASCII bytes none of which is '<' or '[' are eight code
		// points that begin no token: skip them at once.
		for i+8 <= len(s) {
			w := load64(s[i:])
			if w&msb != 0 || hasByte(w, '<') || hasByte(w, '[') {
				break
			}
			i += 8
			rpos += 8
		}
		if i == len(s) {
			break
		}
		r, sz := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRuneInString(s[i:])
		}
		if isLT(r) || r == '[' {
			if sp, ok := matchToken(s, i); ok {
				sp.Start = rpos
				sp.End = rpos + utf8.RuneCountInString(s[i:sp.ByteEnd])
				out = append(out, sp)
				rpos = sp.End
				i = sp.ByteEnd
				continue
			}
		}
		i += sz
		rpos++
	}
	return out
}

// matchToken tries to match a token starting at byte i of s.
func matchToken(s string, i int) (Span, bool) {
	r, sz := utf8.DecodeRuneInString(s[i:])
	j := i + sz
	if r == '[' {
		end := strings.IndexByte(s[j:min(len(s), j+maxTokenName+1)], ']')
		if end <= 0 {
			return Span{}, false
		}
		name := strings.ToLower(s[j : j+end])
		if !knownBracketTokens[name] {
			return Span{}, false
		}
		return Span{ByteStart: i, ByteEnd: j + end + 1, Token: "[" + name + "]", Known: true}, true
	}
	// r is < or ＜
	if j >= len(s) {
		return Span{}, false
	}
	r2, sz2 := utf8.DecodeRuneInString(s[j:])
	switch {
	case isPipe(r2): // <|name|>
		k := j + sz2
		nameStart := k
		for k < len(s) && k-nameStart <= maxTokenName {
			c, csz := utf8.DecodeRuneInString(s[k:])
			if isPipe(c) {
				break
			}
			if !isNameRune(c) {
				return Span{}, false
			}
			k += csz
		}
		if k >= len(s) || k == nameStart || k-nameStart > maxTokenName {
			return Span{}, false
		}
		name := s[nameStart:k]
		first, _ := utf8.DecodeRuneInString(name)
		if !isASCIILetter(first) {
			return Span{}, false
		}
		_, psz := utf8.DecodeRuneInString(s[k:])
		k += psz
		if k >= len(s) {
			return Span{}, false
		}
		c, csz := utf8.DecodeRuneInString(s[k:])
		if !isGT(c) {
			return Span{}, false
		}
		name = strings.ToLower(name)
		return Span{ByteStart: i, ByteEnd: k + csz, Token: "<|" + name + "|>", Known: knownPipeTokens[name] || strings.HasPrefix(name, "reserved_special_token")}, true
	case isLT(r2): // <<SYS>> or <</SYS>>
		k := j + sz2
		for _, w := range [...]string{"sys", "/sys"} {
			if len(s)-k >= len(w) && strings.EqualFold(s[k:k+len(w)], w) {
				m := k + len(w)
				if g1, n1 := utf8.DecodeRuneInString(s[m:]); isGT(g1) {
					if g2, n2 := utf8.DecodeRuneInString(s[m+n1:]); isGT(g2) {
						return Span{ByteStart: i, ByteEnd: m + n1 + n2, Token: "<<" + w + ">>", Known: true}, true
					}
				}
			}
		}
		return Span{}, false
	default: // <name>
		k := j
		for k < len(s) && k-j <= 16 {
			c, csz := utf8.DecodeRuneInString(s[k:])
			if isGT(c) {
				name := strings.ToLower(s[j:k])
				amb, ok := knownAngleTokens[name]
				if !ok {
					return Span{}, false
				}
				return Span{ByteStart: i, ByteEnd: k + csz, Token: "<" + name + ">", Known: true, Ambiguous: amb}, true
			}
			if !(isNameRune(c) || c == '/') {
				return Span{}, false
			}
			k += csz
		}
		return Span{}, false
	}
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

func isNameRune(r rune) bool {
	return isASCIILetter(r) || '0' <= r && r <= '9' || r == '_' || r == '-' || r == '.' || r == '▁'
}

// NeutralizeSpecialTokens breaks every token FindSpecialTokens reports by
// inserting an ASCII space after its opening delimiter and before its
// closing one ("<|im_start|>" → "< |im_start| >", "[INST]" → "[ INST ]",
// "<<SYS>>" → "< <SYS> >"). A visible ASCII space is used rather than an
// invisible joiner (which Normalize strips, re-forming the token) or a
// look-alike such as ‹ (which the confusables skeleton maps back to <): the
// result survives normalisation and no tokenizer maps it to a control
// token. It reports whether anything changed; s is returned unchanged (and
// not copied) when there is no token.
func NeutralizeSpecialTokens(s string) (string, bool) {
	spans := FindSpecialTokens(s)
	if len(spans) == 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 2*len(spans))
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp.ByteStart])
		tok := s[sp.ByteStart:sp.ByteEnd]
		_, first := utf8.DecodeRuneInString(tok)
		_, last := utf8.DecodeLastRuneInString(tok)
		b.WriteString(tok[:first])
		b.WriteByte(' ')
		b.WriteString(tok[first : len(tok)-last])
		b.WriteByte(' ')
		b.WriteString(tok[len(tok)-last:])
		prev = sp.ByteEnd
	}
	b.WriteString(s[prev:])
	return b.String(), true
}

// reportSpecialTokens adds a KindSpecialToken finding for each token in
// t.Norm, mapped back to the original.
func (t *Text) reportSpecialTokens() {
	for _, sp := range FindSpecialTokens(t.Norm) {
		s, e := t.OrigSpan(sp.ByteStart, sp.ByteEnd)
		t.addFinding(Finding{Kind: KindSpecialToken, Start: s, End: e, Count: 1, Decoded: sp.Token})
	}
}
