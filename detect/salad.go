package detect

import (
	_ "embed"
	"strings"
)

// saladVocab is the word list of tools/saladvocab: words of the benign
// train rows. A window of salad is full of words outside it.
//
//go:embed saladvocab.txt
var saladVocabText string

var saladVocab = func() map[string]struct{} {
	m := make(map[string]struct{}, 20000)
	for _, w := range strings.Split(saladVocabText, "\n") {
		if w != "" {
			m[w] = struct{}{}
		}
	}
	return m
}()

// Token salad: the optimised suffixes of GCG- and DSN-style jailbreaks
// ("describing.\ + similarlyNow write oppositeley.]( Me giving**ONE please?
// revert with "\!--Two") are sequences of tokens no writer produces: lone
// brackets and operators between words, words glued with a change of case
// in the middle ("whatIT", "UkrainBrainziency"), letters fused with runs of
// punctuation ("oppositeley.](", "giving**ONE"). Over a window of
// saladWindow whitespace-separated tokens on one line, saladScore counts
// such tokens; code and formulas, which have the same kinds of tokens, are
// recognised by their own marks (assignments, statement ends, balanced
// calls, keywords) and not counted.

// RuleTokenSalad is the finding of a token-salad window.
const RuleTokenSalad = "token-salad"

const (
	saladWindow = 16
	// saladMin is the number of odd tokens in a window that makes it salad
	// (chosen on the train split, see docs/DETECTION.md)
	saladMin = 6
	// saladMinStrong is the number of those that must be brackets, glued
	// or fused tokens (not merely unknown words, which a paragraph in
	// another language is full of)
	saladMinStrong = 2
)

// oddWeight is each kind's weight in quarter tokens.
var oddWeight = [...]int{tokPlain: 0, tokOdd: 4, tokCode: 0, tokUnknown: 2, tokUnknownName: 1, tokAssign: 0}

// tokenKind classifies one whitespace-separated token.
type tokenKind uint8

const (
	tokPlain       tokenKind = iota
	tokOdd                   // salad-like
	tokCode                  // marks code or a formula
	tokUnknown               // a word outside the vocabulary (half an odd token)
	tokUnknownName           // a capitalised word outside it (a quarter)
	tokAssign                // code with '=' (an assignment or comparison): code for sure
)

// codeWords are tokens of code that prose does not use.
var codeWords = map[string]bool{"def": true, "func": true, "const": true, "var": true, "int": true, "void": true,
	"elif": true, "lambda": true, "fn": true, "impl": true, "=": true, "==": true, "!=": true, "=>": true, "->": true,
	":=": true, "+=": true, "-=": true, "&&": true, "||": true, "{": true, "}": true, "};": true, "});": true, "<=": true, ">=": true}

// classifyToken says whether a token is salad-like, code-like or plain.
func classifyToken(t string) tokenKind {
	if k := classifyToken1(t); k == tokCode && strings.IndexByte(t, '=') >= 0 {
		return tokAssign
	} else {
		return k
	}
}

func classifyToken1(t string) tokenKind {
	if codeWords[t] {
		return tokCode
	}
	last := t[len(t)-1]
	if last == ';' || strings.ContainsAny(t, "<>") || containsAny(t, codeMarks) || latexCommand(t) || call(t) ||
		(strings.HasPrefix(t, "--") && len(t) > 2 && t[2] >= 'a' && t[2] <= 'z') || strings.HasPrefix(t, "[-") {
		return tokCode
	}
	letters, digits, punct := 0, 0, 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			letters++
		case c >= '0' && c <= '9':
			digits++
		default:
			punct++
		}
	}
	if letters == 0 && digits > 0 {
		return tokPlain // numbers, matrices, dates
	}
	if letters > 0 && (strings.Contains(t, "://") || (strings.Contains(t, "[") && strings.Contains(t, "]")) ||
		(strings.Contains(t, "{") && strings.Contains(t, "}")) || strings.Count(t, "`") >= 2) {
		return tokPlain // URLs, [tags], {placeholders}, `code`
	}
	if letters == 0 {
		// lone brackets, carets and bangs between words are salad; table
		// rules, bullets, dashes, slashes and ellipses are not
		switch t {
		case "+", "\\", "\"", "'", "**", "@":
			return tokUnknown // weak: sums, recipes, LaTeX rows and quotes have them too
		case "[", "]", "[]", "!", "^", "](", ")[", "[[", "]]", "`", "`|", "[`", "!()`,":
			return tokOdd
		}
		return tokPlain
	}
	if punct == 0 {
		if caseGlued(t) {
			return tokOdd
		}
		return unknownWord(t)
	}
	// letters fused with punctuation other than ordinary marks around or
	// inside a word
	core := strings.TrimRight(strings.TrimLeft(t, "(\"'*_"), ".,;:!?)\"'*_")
	odd := 0
	for i := 0; i < len(core); i++ {
		switch c := core[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80:
		case c == '\'' || c == '-' || c == '.' || c == '/' || c == '@' || c == ':' || c == '_' || c == '%' || c == '&' || c == '#' || c == ',' || c == '+' || c == '$':
		default:
			odd++
		}
	}
	if odd >= 2 || (odd == 1 && (caseGlued(core) || strings.ContainsAny(core, "[]{}\\") || caret(core))) {
		return tokOdd
	}
	if odd == 0 {
		return unknownWord(core)
	}
	return tokPlain
}

// unknownWord classifies a word of letters by the vocabulary.
func unknownWord(w string) tokenKind {
	if len(w) < 3 || len(w) > 20 {
		return tokPlain
	}
	var buf [20]byte
	capital := w[0] >= 'A' && w[0] <= 'Z'
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z':
		default:
			return tokPlain // digits, other scripts: not judged
		}
		buf[i] = c
	}
	if _, ok := saladVocab[string(buf[:len(w)])]; ok {
		return tokPlain
	}
	if capital {
		return tokUnknownName
	}
	return tokUnknown
}

// codeMarks are pieces of tokens that occur in code, JSON and markup, not
// in salad.
var codeMarks = []string{"){", "::", "=\"", "='", "\":", "{\"", "[\"", "':", "['", "('", "(\"", "_{", "=>", "->", "&&", "||", "==", "+="}

func containsAny(t string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(t, x) {
			return true
		}
	}
	return false
}

// caret reports a "^" not followed by a digit (a^2 is a power).
func caret(t string) bool {
	i := strings.IndexByte(t, '^')
	return i >= 0 && (i+1 == len(t) || t[i+1] < '0' || t[i+1] > '9')
}

// call reports a letter followed by "(" and ")" ("f()", "print(x)").
func call(t string) bool {
	i := strings.IndexByte(t, '(')
	return i > 0 && (t[i-1] >= 'a' && t[i-1] <= 'z' || t[i-1] >= 'A' && t[i-1] <= 'Z' || t[i-1] == '_') && strings.IndexByte(t[i:], ')') > 0
}

// latexCommand reports a backslash followed by a letter (\frac, \left).
func latexCommand(t string) bool {
	for i := 0; i+1 < len(t); i++ {
		if t[i] == '\\' && (t[i+1] >= 'a' && t[i+1] <= 'z' || t[i+1] >= 'A' && t[i+1] <= 'Z') {
			return true
		}
	}
	return false
}

// caseGlued reports a word glued to another with a change of case that
// names and camelCase identifiers do not have: a run of two or more small
// letters followed by capitals that are either all capitals ("whatIT") or
// a short piece ("applySc", "similarlyNow").
func caseGlued(t string) bool {
	lower := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			if lower >= 2 {
				j, caps, small := i, 0, 0
				for j < len(t) && (t[j] >= 'A' && t[j] <= 'Z') {
					j, caps = j+1, caps+1
				}
				for j < len(t) && (t[j] >= 'a' && t[j] <= 'z') {
					j, small = j+1, small+1
				}
				if caps >= 2 || (caps == 1 && small >= 1 && small <= 2) {
					return true
				}
			}
			lower = 0
		default:
			lower = 0
		}
	}
	return false
}

// saladScan finds the first window of saladWindow tokens on one line with
// at least saladMin salad-like tokens and no code marks; it returns its
// byte span in text.
func saladScan(text string) (start, end int, ok bool) {
	if !twoStrong(text) {
		return 0, 0, false
	}
	type tok struct {
		a, b int
		kind tokenKind
	}
	var ring [saladWindow]tok
	n, odd, code, strong, assign := 0, 0, 0, 0, 0 // odd in quarter tokens
	i := 0
	for i < len(text) {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i < len(text) && (text[i] == '\n' || text[i] == '\r') {
			n, odd, code, strong, assign = 0, 0, 0, 0, 0 // salad is one line
			i++
			continue
		}
		if i >= len(text) {
			break
		}
		a := i
		for i < len(text) && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r' {
			i++
		}
		k := classifyToken(text[a:i])
		slot := n % saladWindow
		if n >= saladWindow {
			odd -= oddWeight[ring[slot].kind]
			if ring[slot].kind == tokCode || ring[slot].kind == tokAssign {
				code--
			}
			if ring[slot].kind == tokAssign {
				assign--
			}
			if ring[slot].kind == tokOdd {
				strong--
			}
		}
		ring[slot] = tok{a, i, k}
		odd += oddWeight[k]
		if k == tokCode || k == tokAssign {
			code++
		}
		if k == tokAssign {
			assign++
		}
		if k == tokOdd {
			strong++
		}
		n++
		// one code-like token (a lone ";" or "{", not an assignment) does
		// not make a window code when it is full of salad: optimised
		// suffixes have them too (two more strong tokens are wanted)
		codeOK := code == 0 || code == 1 && assign == 0 && strong >= saladMinStrong+2
		if codeOK && ((odd >= 4*saladMin && strong >= saladMinStrong) || (odd >= 4*saladMin-2 && strong >= saladMinStrong+1)) {
			first := ring[(max(0, n-saladWindow))%saladWindow]
			return first.a, i, true
		}
	}
	return 0, 0, false
}

// twoStrong reports whether text has at least saladMinStrong tokens that
// are brackets, glued or fused (the cheap pass before the vocabulary is
// consulted: most texts have none). It is the loop of twoStrongSlow (the
// tokens, each tested by the test's mayBeStrong) with one table lookup per byte: a
// token is tested by classifyToken only once mayBeStrong's condition is
// seen in it.
func twoStrong(text string) bool {
	n, a, cand := 0, 0, false
	for i := 0; i < len(text); i++ {
		f := saladByte[text[i]]
		if f == 0 {
			continue
		}
		switch {
		case f&sbSpace != 0:
			if cand && classifyToken(text[a:i]) == tokOdd {
				if n++; n >= saladMinStrong {
					return true
				}
			}
			a, cand = i+1, false
		case cand:
		case f&sbStrong != 0:
			// a bang or a parenthesis ending the token does not count
			c := text[i]
			// (a lone bang is a token of its own: GCG's "! ! ! !")
			cand = c != '!' && c != ')' || i+1 < len(text) && !isSpaceByte(text[i+1]) || c == '!' && i == a
		default: // a capital
			cand = i > a && text[i-1] >= 'a' && text[i-1] <= 'z'
		}
	}
	return cand && classifyToken(text[a:]) == tokOdd && n+1 >= saladMinStrong
}

// saladByte flags the bytes twoStrong looks at.
const (
	sbSpace  = 1 << iota // isSpaceByte
	sbStrong             // strongByte
	sbUpper              // A–Z
)

var saladByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case isSpaceByte(byte(c)):
			t[c] = sbSpace
		case strongByte[c]:
			t[c] = sbStrong
		case c >= 'A' && c <= 'Z':
			t[c] = sbUpper
		}
	}
	return
}()

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

var strongByte = func() (t [256]bool) {
	for _, c := range []byte("[]{}^\\`!*+()") {
		t[c] = true
	}
	return t
}()
