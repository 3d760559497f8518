package outputguard

import (
	"strings"

	"encoding/base64"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/redact"
)

// Secrets reformatted to pass a pattern match: JSON \u escapes, a key
// split by spaces, newlines or dots every few characters, a key inside
// base64 or hex. The secret rules run again on a normalised form of the
// text (unescaped, split runs joined) and on the decoded base64 and hex
// runs of it; what they find there is mapped back to the span of the
// original text it came from, so that it is redacted or blocked like a
// secret written plainly.

// mapped is a normalised text whose every byte remembers the span of the
// original text it came from.
type mapped struct {
	b          []byte
	start, end []int // original span of b[i]
}

func (m *mapped) add(s string, from, to int) {
	for i := 0; i < len(s); i++ {
		m.b = append(m.b, s[i])
		m.start = append(m.start, from)
		m.end = append(m.end, to)
	}
}

// span is the original span of m.b[a:b].
func (m *mapped) span(a, b int) (int, int) { return m.start[a], m.end[b-1] }

// unescape decodes JSON string escapes (\uXXXX, \n, \/, ...) in text,
// and again in the result while it still holds escapes, up to 3 levels (a
// secret written with \u escapes inside a JSON string inside tool-call
// arguments is escaped twice). ok is false when text has none.
func unescape(text string) (mapped, bool) {
	var m mapped
	m.add(text, 0, 0)
	for i := range m.start {
		m.start[i], m.end[i] = i, i+1
	}
	found := false
	for level := 0; level < 3; level++ {
		next, ok := unescapeOnce(m)
		if !ok {
			break
		}
		m, found = next, true
	}
	return m, found
}

// unescapeOnce decodes one level of JSON string escapes in src, keeping
// each decoded byte's original span.
func unescapeOnce(src mapped) (mapped, bool) {
	text := src.b
	var m mapped
	found := false
	add := func(s string, a, b int) {
		for k := 0; k < len(s); k++ {
			m.b = append(m.b, s[k])
			m.start = append(m.start, src.start[a])
			m.end = append(m.end, src.end[b-1])
		}
	}
	for i := 0; i < len(text); {
		if text[i] == '\\' && i+1 < len(text) {
			switch c := text[i+1]; c {
			case 'u':
				if i+6 <= len(text) {
					if v, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 32); err == nil {
						var buf [4]byte
						n := utf8.EncodeRune(buf[:], rune(v))
						add(string(buf[:n]), i, i+6)
						i += 6
						found = true
						continue
					}
				}
			case 'n', 't', 'r', '/', '"', '\\':
				r := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '/': "/", '"': `"`, '\\': `\`}[c]
				add(r, i, i+2)
				i += 2
				found = true
				continue
			}
		}
		add(string(text[i:i+1]), i, i+1)
		i++
	}
	return m, found
}

func isChunkByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-'
}

func isSplitSep(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '.' || c == '|' || c == ','
}

// maxRun bounds the chunks of one split run that are joined.
const maxRun = 48

// joinContext is how many bytes before a run (its line and the line
// before) go in front of each joined candidate.
const joinContext = 64

// joinRuns finds runs of at least three equal-length chunks (2 to 8 token
// characters each, one to three separator bytes between them, the last
// chunk possibly shorter) and returns candidates, one per line: the
// chunks of the run joined from its first chunk, or from the token just
// before it (a key's prefix, "sk-proj-"), to each of its chunks from the
// third on, since the run may go on into ordinary words. ok is false when
// there is no run.
func joinRuns(src mapped) (mapped, bool) {
	type tok struct{ a, b int }
	var toks []tok
	for i := 0; i < len(src.b); {
		j := i
		for j < len(src.b) && isChunkByte(src.b[j]) {
			j++
		}
		if j > i {
			toks = append(toks, tok{i, j})
			i = j
			continue
		}
		k := i
		for k < len(src.b) && isSplitSep(src.b[k]) {
			k++
		}
		if k == i {
			k++ // another byte: ends any run
			toks = append(toks, tok{-1, -1})
		}
		i = k
	}
	var out mapped
	budget := 4*len(src.b) + 4096
	near := func(k int) bool { return toks[k].a >= 0 && toks[k-1].a >= 0 && toks[k].a-toks[k-1].b <= 3 }
	for i := 0; i < len(toks); {
		n := toks[i].b - toks[i].a
		if toks[i].a < 0 || n < 2 || n > 8 {
			i++
			continue
		}
		j := i + 1
		for j < len(toks) && j-i < maxRun && near(j) && toks[j].b-toks[j].a == n {
			j++
		}
		if j < len(toks) && j-i < maxRun && near(j) && toks[j].b-toks[j].a < n {
			j++ // a shorter last chunk
		}
		if j-i < 3 {
			i++
			continue
		}
		starts := []int{i}
		if i > 0 && near(i) {
			starts = append(starts, i-1)
		}
		for _, st := range starts {
			// up to joinContext bytes before the run go first, on one line
			// (the run's own line and the one before it): a rule that needs
			// a context word ("aws_secret_access_key = ") sees it
			ca, lines := toks[st].a, 0
			for ca > 0 && toks[st].a-ca < joinContext {
				if src.b[ca-1] == '\n' {
					if lines++; lines > 1 {
						break
					}
				}
				ca--
			}
			for e := i + 3; e <= j && len(out.b) < budget; e++ {
				for p := ca; p < toks[st].a; p++ {
					c := src.b[p]
					if c == '\r' || c == '\n' {
						c = ' '
					}
					out.b = append(out.b, c)
					out.start = append(out.start, src.start[p])
					out.end = append(out.end, src.end[p])
				}
				for k := st; k < e; k++ {
					for p := toks[k].a; p < toks[k].b; p++ {
						out.b = append(out.b, src.b[p])
						out.start = append(out.start, src.start[p])
						out.end = append(out.end, src.end[p])
					}
				}
				out.add("\n", 0, 0)
			}
		}
		i = j
	}
	return out, len(out.b) > 0
}

// encodedRuns finds base64 and hex runs long enough to hold a key.
func encodedRuns(b []byte, fn func(a, z int)) {
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && (b[j] >= 'a' && b[j] <= 'z' || b[j] >= 'A' && b[j] <= 'Z' || b[j] >= '0' && b[j] <= '9' || b[j] == '+' || b[j] == '/' || b[j] == '_' || b[j] == '-') {
			j++
		}
		for j < len(b) && j-i < 4096 && b[j] == '=' {
			j++
		}
		if j-i >= 24 {
			fn(i, j)
		}
		if j == i {
			j++
		}
		i = j
	}
}

// decodeRun decodes a base64 (standard or URL alphabet, padded or not) or
// hex run to printable text.
func decodeRun(s string) (string, bool) {
	var raw []byte
	var err error
	if len(s)%2 == 0 && isHex(s) {
		raw, err = hex.DecodeString(s)
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if raw, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil || !utf8.Valid(raw) {
		return "", false
	}
	for _, c := range raw {
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f {
			return "", false
		}
	}
	return string(raw), true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// reformattedSecrets finds secrets that only show once text is
// normalised or decoded, as hits on the original text; spans already
// covered by plain hits are skipped.
func (l *Layer) reformattedSecrets(text string, plain []hit, output bool) []hit {
	var hs []hit
	seen := func(a, b int) bool {
		for _, h := range plain {
			if h.kind == "secret" && h.Start <= a && h.End >= b {
				return true
			}
		}
		for _, h := range hs {
			if h.Start <= a && h.End >= b {
				return true
			}
		}
		return false
	}
	add := func(rule, entity string, a, b int, how string) {
		if seen(a, b) {
			return
		}
		act := l.action(entity, true, output)
		if act == ActOff {
			return
		}
		hs = append(hs, hit{Span: redact.Span{Entity: entity, Start: a, End: b, Score: 1}, action: act,
			rule: "secret." + rule + "." + how, kind: "secret"})
	}
	// cheap passes first: most answers have no escape, no split run and
	// no encoded run, and then nothing is built
	hasEsc := strings.IndexByte(text, '\\') >= 0
	hasRun, hasEnc := shapes(text)
	if !hasEsc && !hasRun && !hasEnc {
		return nil
	}
	m, unesc := unescape(text)
	scan := func(v mapped, how string) {
		for _, s := range l.secrets.Scan(string(v.b)) {
			a, b := v.span(s.Start, s.End)
			add(s.Rule, s.Entity, a, b, how)
		}
	}
	if unesc {
		scan(m, "unescaped")
	}
	if hasRun || unesc {
		if j, ok := joinRuns(m); ok {
			scan(j, "joined")
		}
	}
	if !hasEnc && !unesc {
		return hs
	}
	// decode base64 and hex runs (of the normalised text) and rescan
	decoded := 0
	encodedRuns(m.b, func(a, z int) {
		if decoded > len(text) {
			return
		}
		dec, ok := decodeRun(string(m.b[a:z]))
		if !ok {
			return
		}
		decoded += len(dec)
		for _, s := range l.secrets.Scan(dec) {
			oa, ob := m.span(a, z)
			add(s.Rule, s.Entity, oa, ob, "decoded")
		}
	})
	return hs
}

// shapes reports, in one pass without allocating, whether text may hold a
// split run (three chunks of 2 to 8 token characters of equal length,
// separated by one to three separator bytes, one of them with a digit, an
// upper-case letter or a key character: a key split in pieces; three
// four-letter words of prose are not one) and an encoded run (24 or more
// base64 characters): the preconditions of joinRuns and encodedRuns.
func shapes(text string) (run, enc bool) {
	prevLen, same, seps := 0, 0, 0
	keyed := false // a chunk of the current run is key-like
	for i := 0; i < len(text); {
		j := i
		k := false
		for j < len(text) && isChunkByte(text[j]) {
			c := text[j]
			k = k || c < 'a' || c > 'z'
			j++
		}
		if n := j - i; n > 0 {
			if n >= 24 {
				enc = true
			}
			switch {
			case n >= 2 && n <= 8 && n == prevLen && seps <= 3:
				same++
				keyed = keyed || k
			case n >= 2 && n <= 8:
				same, keyed = 1, k
			default:
				same, keyed = 0, false
			}
			if same >= 3 && keyed {
				run = true
			}
			if run && enc {
				return
			}
			prevLen, seps, i = n, 0, j
			continue
		}
		if isSplitSep(text[i]) {
			seps++
		} else {
			prevLen, same, seps = 0, 0, 0
		}
		i++
	}
	return
}
