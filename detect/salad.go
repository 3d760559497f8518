package detect

import (
	_ "embed"
	"strings"

	"github.com/rampart-ai/rampart/detect/charlm"
	"github.com/rampart-ai/rampart/detect/model"
)

// saladVocab is the word list of tools/saladvocab: words of the benign
// train rows. A window of salad is full of words outside it.
//
//go:embed saladvocab.txt
var saladVocabText string

// saladPairs is the bit set of `go run ./tools/saladvocab -pairs`: pairs of adjacent
// content words of benign English text (the benign train rows and
// WordNet's glosses), hashed with PairHash.
//
//go:embed saladbigrams.bin
var saladPairs string

// PairTableBits is the size of the word-pair table in bits.
const PairTableBits = 1 << 22

// PairHash is the bit of the word pair (a, b) in the word-pair table
// (FNV-1a over "a b").
func PairHash(a, b string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * 1099511628211
	}
	h = (h ^ ' ') * 1099511628211
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * 1099511628211
	}
	return uint32(h^h>>32) & (PairTableBits - 1)
}

// knownPair reports whether the pair (a, b) of lower-case words is in the
// word-pair table (or may be: about one unseen pair in ten shares a bit).
func knownPair(a, b string) bool {
	h := PairHash(a, b)
	return len(saladPairs) == PairTableBits/8 && saladPairs[h/8]&(1<<(h%8)) != 0
}

// FunctionWord reports whether w (lower case) is an English function word.
func FunctionWord(w string) bool { return functionWords[w] }

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

// RuleWordSalad is the finding of a run of word salad (wordSaladScan).
const RuleWordSalad = "word-salad"

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
	":=": true, "+=": true, "|": true, "-=": true, "&&": true, "||": true, "{": true, "}": true, "};": true, "});": true, "<=": true, ">=": true}

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
	if last == ';' || strings.ContainsAny(t, "<>") || hasCodeMark(t) || latexCommand(t) || call(t) ||
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
		case "{{", "}}", "{%", "%}", "{#", "#}", "(", ")", "()", "{}", "),", ").", "];", "],", "},", "})", "}),", "}}}":
			return tokPlain // templates and code
		}
		return punctRun(t)
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

// punctRun classifies a token of marks only (no letters, no digits) that
// is not one of the common ones above. Runs that mix brackets with a
// backslash, a backtick, a quote or a question/exclamation mark ("?:[",
// "}`})", "\\({", "[\\"), or that close a bracket before opening one ("](",
// ")({"), are no writing and no code; runs of brackets alone ("({", "[{",
// "))))") occur in code and count half. The bracket must not be only a
// trailing ")" ("?)"): twoStrong's pre-filter skips such tokens.
func punctRun(t string) tokenKind {
	if strings.Trim(t, "/\\|_-") == "" {
		return tokPlain // ASCII art, paths
	}
	if q := strings.Count(t, "'"); q >= 2 && q%2 == 0 || strings.Count(t, "\"") == 2 {
		return tokPlain // string literals of code: '', '-',
	}
	brackets, opens, other := 0, 0, 0
	closeFirst := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch c {
		case '(', '[', '{':
			brackets++
			opens++
		case ')', ']', '}':
			if i == len(t)-1 && c == ')' {
				continue
			}
			brackets++
			if opens == 0 && i+1 < len(t) && strings.IndexAny(t[i+1:], "([{") >= 0 {
				closeFirst = true
			}
		case '\\', '`':
			brackets++
			other++
		case '?', '!', '\'', '"', '%', '~', '^', '$', '*', ';', ':', '+', '<', '>', '/':
			if i == len(t)-1 && c == '!' {
				continue
			}
			other++
		}
	}
	switch {
	case brackets == 0:
		return tokPlain
	case closeFirst || other > 0 && len(t) >= 2:
		return tokOdd
	case len(t) >= 2:
		return tokUnknown
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

// codeMarkPairs[c0] has bit c1 set for each code mark c0 c1 (every code
// mark is two bytes), so that hasCodeMark reads a token once instead of
// searching it for each mark.
var codeMarkPairs = func() (t [256][4]uint64) {
	for _, m := range codeMarks {
		if len(m) != 2 {
			panic("salad: code mark " + m + " is not two bytes")
		}
		t[m[0]][m[1]/64] |= 1 << (m[1] % 64)
	}
	return
}()

// hasCodeMark reports whether t contains one of the code marks.
func hasCodeMark(t string) bool {
	for i := 0; i+1 < len(t); i++ {
		if c := t[i+1]; codeMarkPairs[t[i]][c/64]&(1<<(c%64)) != 0 {
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
		if i < len(text) && text[i] == '|' && n == 0 {
			// a table row (a line that begins with a bar) is not scored
			for i < len(text) && text[i] != '\n' && text[i] != '\r' {
				i++
			}
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
		// one or two code-like tokens (a lone ";" or "->", not an
		// assignment) do not make a window code when it is full of salad:
		// optimised suffixes have them too (two more strong tokens are
		// wanted for each)
		codeOK := code == 0 || code <= 2 && assign == 0 && strong >= saladMinStrong+2*code
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

// Word salad: suffixes made of real words in an order no writer uses
// ("cathedral orbit pickle Sahara lovingly beneath coffee ..."), as DSN- and
// AutoPrompt-style searches over whole-word tokens leave them. English
// prose has a function word (the, of, to, and, is, you ...) every two or
// three words; a run of wordSaladRun dictionary words with at most one is a
// list, a headline or salad. It is salad when it follows a sentence on the
// same line (a request that has function words) with nothing that
// introduces a list (a colon, a question, "these words", "the following",
// tags or keywords) and it is not itself a list (commas between the words)
// or a title-cased headline. Other languages are not judged: most of their
// words are outside the (English) vocabulary.

const (
	wordSaladRun = 12 // words in a run
	wordSaladPre = 4  // words of the sentence before it
)

var functionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the a an of to in on at by for with from into onto about over under and or but nor so
		if then than as that this these those there here is are was were be been being am do does did done have has had
		will would can could shall should may might must not no yes i you he she it we they me him her us them my your his
		its our their mine yours what which who whom whose how when where why all any some each every both either neither
		one just also very more most only such own same other too up out off again once now please let lets
		de la el en los las le les des du un une el del al con por para que se es est et il di che da per ein eine der die
		das und ist nicht mit zu den dem von em um uma os na no do dos het een van ik je ze og och att som er
		yang dan di ke ini itu dengan untuk dari ve bir bu ile icin w z sie nie ze jest va cua la cac nhung duoc co khong trong cho`) {
		m[w] = true
	}
	return m
}()

// saladWord looks at one token: core is the span of the word in it (marks
// around it stripped), ok that it is one word of 2 to 20 ASCII letters,
// fn that it is a function word; comma, stop and colon say what mark
// ended it.
func saladWord(t string) (ca, cb int, ok, fn, comma, stop, colon, capital bool) {
	for ca < len(t) && wordLead[t[ca]] {
		ca++
	}
	cb = len(t)
	for cb > ca && wordTrail[t[cb-1]] {
		cb--
	}
	for k := cb; k < len(t); k++ {
		switch t[k] {
		case ',', ';':
			comma = true
		case '.', '!', '?':
			stop = true
		case ':':
			colon = true
		}
	}
	if cb-ca < 2 || cb-ca > 20 {
		return ca, cb, false, false, comma, stop, colon, false
	}
	var key uint64 // the lower-case word packed in 8 bytes (words of up to 7 letters)
	for i := ca; i < cb; i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z':
		default:
			return ca, cb, false, false, comma, stop, colon, false
		}
		key = key<<8 | uint64(c)
	}
	if cb-ca <= 7 { // no function word is longer
		fn = fnLookup(key)
	}
	return ca, cb, true, fn, comma, stop, colon, t[ca] >= 'A' && t[ca] <= 'Z'
}

// fnTable holds the function words packed as saladWord packs them, in an
// open-addressing table (a word's key is never 0).
var fnTable = func() (tab [1024]uint64) {
	for w := range functionWords {
		var key uint64
		for i := 0; i < len(w); i++ {
			key = key<<8 | uint64(w[i])
		}
		h := fnSlot(key)
		for tab[h] != 0 {
			h = (h + 1) % uint64(len(tab))
		}
		tab[h] = key
	}
	return
}()

func fnSlot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> 54 }

func fnLookup(key uint64) bool {
	for h := fnSlot(key); ; h = (h + 1) % uint64(len(fnTable)) {
		switch fnTable[h] {
		case key:
			return true
		case 0:
			return false
		}
	}
}

// wordLead and wordTrail are the marks saladWord strips around a word
// (ASCII only: a curly quote ends the word, which then is no word).
var wordLead, wordTrail = func() (l, r [256]bool) {
	for _, c := range []byte("(\"'*_") {
		l[c] = true
	}
	for _, c := range []byte(".,;:!?)\"'*_") {
		r[c] = true
	}
	return
}()

// wsTok is a word of a run wordSaladScan looks at: its span in the text,
// the span of its letters, and its marks.
type wsTok struct {
	a, b, ca, cb                    int
	fn, comma, stop, capital, known bool
}

// lowerWord writes the lower-case letters of w into buf.
func lowerWord(buf *[20]byte, w string) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)]
}

const (
	// wordSaladUnseen is how many of a run's word pairs (two content words
	// with no mark between them) must be absent from the table of benign
	// pairs
	wordSaladUnseen = 7
)

// wordSaladScan finds a run of word salad; it returns its byte span.
// Only a run that passes the cheap tests (few function words, no list,
// no headline, a sentence before it) has its words and pairs looked up.
func wordSaladScan(text string) (start, end int, ok bool) {
	var ring [wordSaladRun]wsTok
	n := 0                    // consecutive words in the ring (a mark or number resets it)
	nf, nc, ncap := 0, 0, 0   // in the last wordSaladRun words
	lineWords, lineFn := 0, 0 // words and function words on this line so far
	listed := false           // a list was introduced on this line
	i := 0
	for i < len(text) {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i < len(text) && (text[i] == '\n' || text[i] == '\r') {
			n, nf, nc, ncap, lineWords, lineFn, listed = 0, 0, 0, 0, 0, 0, false
			i++
			continue
		}
		if i >= len(text) {
			break
		}
		if listed {
			// nothing on this line can be salad any more (a list was
			// introduced): on to the line break, which resets the state
			k := strings.IndexAny(text[i:], "\n\r")
			if k < 0 {
				break
			}
			i += k
			continue
		}
		a := i
		for i < len(text) && !isSpaceByte(text[i]) {
			i++
		}
		ca, cb, isWord, fn, comma, stop, colon, capital := saladWord(text[a:i])
		if colon {
			listed = true // "...: a b c": a list follows
		}
		if !isWord {
			// a number or a mark ends a run
			n, nf, nc, ncap = 0, 0, 0, 0
			if strings.ContainsAny(text[a:i], ":=") || text[a:i] == "-" || text[a:i] == "—" {
				listed = true
			}
			continue
		}
		if !fn && cb-ca >= 4 && listWord(text[a+ca:a+cb]) {
			listed = true // "these words", "the following", "tags"
		}
		slot := n % wordSaladRun
		if n >= wordSaladRun {
			old := ring[slot]
			nf -= b2i(old.fn)
			nc -= b2i(old.comma || old.stop)
			ncap -= b2i(old.capital)
		}
		ring[slot] = wsTok{a: a, b: i, ca: a + ca, cb: a + cb, fn: fn, comma: comma, stop: stop, capital: capital}
		nf += b2i(fn)
		nc += b2i(comma || stop)
		ncap += b2i(capital)
		n++
		lineWords++
		lineFn += b2i(fn)
		if n < wordSaladRun || listed || nf > 1 || nc > 1 || 2*ncap > wordSaladRun {
			continue
		}
		before, fnBefore := lineWords-wordSaladRun, lineFn-nf
		if before < wordSaladPre || 4*fnBefore < before {
			continue
		}
		var win [wordSaladRun]wsTok
		for k := range win {
			win[k] = ring[(n+k)%wordSaladRun]
		}
		if saladRunOdd(text, win[:]) {
			return win[0].a, win[len(win)-1].b, true
		}
	}
	return 0, 0, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// saladRunOdd looks up the words of a run: nearly all must be known
// English words (so that another language is not judged) and most pairs
// of adjacent content words must be unknown.
func saladRunOdd(text string, win []wsTok) bool {
	var b1, b2 [20]byte
	known, unseen := 0, 0
	var prev []byte
	for k, t := range win {
		w := lowerWord(&b1, text[t.ca:t.cb])
		if _, ok := saladVocab[string(w)]; ok || t.fn || len(model.WordClasses(string(w))) > 0 {
			known++
		}
		if k > 0 && !t.fn && prev != nil && !win[k-1].comma && !win[k-1].stop && !knownPair(string(prev), string(w)) {
			unseen++
		}
		prev = nil
		if !t.fn {
			prev = append(b2[:0], w...)
		}
	}
	return 4*known >= 3*len(win) && unseen >= wordSaladUnseen
}

// listWord reports a word that introduces a list of words.
func listWord(w string) bool {
	var buf [20]byte
	switch string(lowerWord(&buf, w)) {
	case "words", "word", "these", "following", "list", "tags", "keywords", "keyword", "terms", "vocabulary", "items",
		"names", "spelling", "synonyms", "anagrams", "nouns", "verbs", "adjectives", "alphabetise", "alphabetize", "sort",
		"listing", "title", "titles", "product", "products", "hashtags", "seo", "labels", "ingredients", "menu":
		return true
	}
	return false
}

// Optimised suffixes by perplexity: the character n-gram models of benign
// prose and code (package charlm) score windows of 40 characters on one
// line; a window that neither model explains (mean surprisal far above
// benign text's) and that holds salad-like tokens (classifyToken: lone
// brackets, glued words, letters fused with marks) is symbol soup. This
// replaces the token-salad check's vocabulary and code veto with the two
// models: code explains itself, and so does prose with odd marks. Windows of other scripts, of accented
// Latin letters (another language) and of long unbroken tokens (hashes,
// base64, URLs) are not judged. The check is a suffix check: the window
// must come after a sentence of ordinary words on its line (the request
// the suffix is appended to).

// RuleOptimisedSuffix is the finding of a perplexity window.
const RuleOptimisedSuffix = "optimised-suffix"

// pplFeatures are what pplSuffixScan decides on.
type pplFeatures struct {
	bits      float64 // the window's surprisal, bits per character
	marks     int     // ASCII marks in the window, per cent of its characters
	leadWords int     // words of the first eight of the line before the window
	leadFn    int     // function words among them
	leadBytes int     // bytes from the line's start to the window
	accented  int     // non-ASCII letters of Latin scripts in the window
	odd       int     // salad-like tokens (classifyToken) of the window
}

// pplScan returns the highest-scoring window of text and its features.
func pplScan(text string, s *charlm.Scratch) (a, b int, f pplFeatures, ok bool) {
	m := charlm.Default()
	if m == nil {
		return 0, 0, f, false
	}
	r, ok := m.Scan(text, s, hasOddToken)
	if !ok {
		return 0, 0, f, false
	}
	a, b = r.Start, r.End
	f.bits = r.Bits
	n, marks := 0, 0
	for i := a; i < b; i++ {
		c := text[i]
		if c&0xC0 == 0x80 {
			continue
		}
		n++
		if c >= 0xC3 && c <= 0xC5 || c == 0xE1 && i+1 < b && (text[i+1] == 0xBA || text[i+1] == 0xBB) {
			f.accented++ // U+00C0–U+017F, Vietnamese U+1E80–U+1EFF
		}
		if c > ' ' && c < 0x7F && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			marks++
		}
	}
	f.marks = 100 * marks / max(1, n)
	ta, tb := a, b // the window's whole tokens
	for ta > 0 && !isSpaceByte(text[ta-1]) {
		ta--
	}
	for tb < len(text) && !isSpaceByte(text[tb]) {
		tb++
	}
	for i := ta; i < tb; {
		j := i
		for j < tb && !isSpaceByte(text[j]) {
			j++
		}
		if j > i && classifyToken(text[i:j]) == tokOdd {
			f.odd++
		}
		for i = j; i < tb && isSpaceByte(text[i]); i++ {
		}
	}
	ls := strings.LastIndexAny(text[:a], "\n\r") + 1
	f.leadBytes = a - ls
	for i, k := ls, 0; i < a && k < 8; k++ {
		for i < a && isSpaceByte(text[i]) {
			i++
		}
		j := i
		for j < a && !isSpaceByte(text[j]) {
			j++
		}
		if j == i {
			break
		}
		if _, _, isWord, fn, _, _, _, _ := saladWord(text[i:j]); isWord {
			f.leadWords++
			f.leadFn += b2i(fn)
		}
		i = j
	}
	return a, b, f, true
}

// hasOddToken reports whether a token of region (the part of a text the
// perplexity pass selected) is salad-like: pplDecide wants one, so a
// region without any is not scored.
func hasOddToken(region string) bool {
	for i := 0; i < len(region); {
		j := i
		for j < len(region) && !isSpaceByte(region[j]) {
			j++
		}
		if j > i && classifyToken(region[i:j]) == tokOdd {
			return true
		}
		for i = j; i < len(region) && isSpaceByte(region[i]); i++ {
		}
	}
	return false
}

// Thresholds of pplSuffixScan (chosen on the pool's benign train and dev
// rows, detect/testdata/salad_tuning.jsonl, generated suffixes and benign
// kinds (seed 1) and the hand-written samples of salad_ppl_test.go; see
// docs/DETECTION.md).
const (
	pplBits2 = 6.0 // a window with two salad-like tokens: this many bits per character
	pplBits1 = 7.0 // with one, and ...
	pplMarks = 10  // ... this share of marks (per cent)
	// pplMaxAccented is the number of accented Latin letters from which a
	// window is taken for a language other than English, not judged
	pplMaxAccented = 3
	// a sentence before the window: at least pplLeadWords words on its
	// line, pplLeadFn of the first eight function words, and pplLeadBytes
	// bytes
	pplLeadWords = 4
	pplLeadFn    = 2
	pplLeadBytes = 20
)

// pplSuffixScan reports a window of symbol or sub-word soup after a
// sentence (pplDecide) and its span and surprisal.
func pplSuffixScan(text string, s *charlm.Scratch) (a, b int, bits float64, ok bool) {
	a, b, f, ok := pplScan(text, s)
	if !ok || !pplDecide(f) {
		return 0, 0, 0, false
	}
	return a, b, f.bits, true
}

// pplDecide says whether a window's features make it an optimised suffix.
func pplDecide(f pplFeatures) bool {
	lead := f.leadWords >= pplLeadWords && f.leadFn >= pplLeadFn && f.leadBytes >= pplLeadBytes
	return lead && f.accented < pplMaxAccented && (f.bits >= pplBits2 && f.odd >= 2 || f.bits >= pplBits1 && f.odd >= 1 && f.marks >= pplMarks)
}
