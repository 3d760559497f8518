package outputguard

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/engine"
)

// leakNorm is how system prompts and answers are compared: the input
// normaliser's folding (case, NFKC, homoglyphs, diacritics, invisible
// characters removed), so that zero-width characters inside words or
// look-alike letters do not hide a copy.
var leakNorm = normalize.Options{}

func leakNormal(s string) string { return normalize.Normalize(s, leakNorm).Norm }

// verbatimRun is how many consecutive system-prompt n-grams (about
// verbatimRun+ngram-1 words copied in order) make a leak likely: the
// answer then only needs a quarter of the threshold's share to be cut.
const verbatimRun = 8

// ngram is the word n-gram size used for system-prompt containment.
const ngram = 8

// maxLeakGrams bounds the n-grams kept per request.
const maxLeakGrams = 1 << 16

var seed = maphash.MakeSeed()

// leakIndex holds the word 8-grams of a request's system prompt and, while
// an answer streams, which of them the answer has repeated so far.
type leakIndex struct {
	grams     map[uint64]int // gram -> index
	hit       []bool         // grams seen in this answer
	seen      int
	threshold float64
	fired     bool
	best      int // the longest run of consecutive matched grams
	// hist, when set, is the share of this prompt sent to the same key
	// in earlier answers of the window (see leakHistory).
	hist *leakEntry
	// redisKey names hist in the shared history (leakShare); marked are the
	// grams this transaction added, written there at its end.
	redisKey string
	marked   []int
	// whole answers commit their n-grams to hist only when they pass
	deferHist bool
	pend      []int
	// r reads the answer (streamed or whole); enc collects and decodes
	// the base64 and hex runs of a streamed answer (see feedEncoded).
	r        gramReader
	enc      encodedRun
	variants variantReaders
	// leetGrams are the prompt's n-grams compared in leetspeak classes
	// (leetFold) -> the index of the plain n-gram at the same position.
	leetGrams map[uint64]int
	// revGrams are the prompt's n-grams as reversed text reads them (the
	// words in reverse order, each spelled backwards) -> the index of the
	// plain n-gram (see readRev).
	revGrams map[uint64]int
}

// gramReader is a reading position in one text: the last ngram-1 word
// hashes, the word being read and the run of consecutive prompt n-grams.
type gramReader struct {
	window []uint64
	word   []byte
	run    int
	trail  int // readLeet: '!'/'+' ending the word read so far
}

// newLeakIndex returns nil when the request has no system prompt of at
// least cfg.MinWords words.
func newLeakIndex(c *conv.Conversation, cfg LeakConfig) *leakIndex {
	var words, leet, rev []uint64
	add := func(text string) {
		n := leakNormal(text)
		forWords(n, plainFold, func(w []byte) bool {
			words = append(words, maphash.Bytes(seed, w))
			return len(words) < maxLeakGrams
		})
		// the prompt written backwards, normalised as an answer is (the
		// skeleton folds letter pairs, "rn" to "m", in reading order)
		var back []uint64
		forWords(leakNormal(reverseString(text)), plainFold, func(w []byte) bool {
			back = append(back, maphash.Bytes(seed, w))
			return len(back) < maxLeakGrams
		})
		slices.Reverse(back)
		rev = append(rev, back...)
		forWords(n, leetWordFold, func(w []byte) bool {
			leet = append(leet, maphash.Bytes(seed, w))
			return len(leet) < maxLeakGrams
		})
	}
	for i := range c.System {
		add(c.System[i].Text)
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		if m.Role == conv.RoleSystem || m.Role == conv.RoleDeveloper {
			for j := range m.Segments {
				add(m.Segments[j].Text)
			}
		}
	}
	if len(words) < cfg.MinWords || len(words) < ngram {
		return nil
	}
	lk := &leakIndex{grams: make(map[uint64]int, len(words)), threshold: cfg.Threshold}
	for i := 0; i+ngram <= len(words); i++ {
		h := gramHash(words[i : i+ngram])
		if _, ok := lk.grams[h]; !ok {
			lk.grams[h] = len(lk.grams)
		}
	}
	lk.hit = make([]bool, len(lk.grams))
	if len(rev) == len(words) {
		// reversed text reads gram i's words last to first, each reversed
		// (rev[i] is the backwards spelling of word i)
		lk.revGrams = make(map[uint64]int, len(words))
		g := make([]uint64, ngram)
		for i := 0; i+ngram <= len(rev); i++ {
			for k := range g {
				g[k] = rev[i+ngram-1-k]
			}
			if _, ok := lk.revGrams[gramHash(g)]; !ok {
				lk.revGrams[gramHash(g)] = lk.grams[gramHash(words[i:i+ngram])]
			}
		}
	}
	if len(leet) == len(words) {
		// the same words (leetWords splits where forWords does for prose):
		// position i's leet n-gram stands for position i's plain one
		lk.leetGrams = make(map[uint64]int, len(words))
		for i := 0; i+ngram <= len(leet); i++ {
			if _, ok := lk.leetGrams[gramHash(leet[i:i+ngram])]; !ok {
				lk.leetGrams[gramHash(leet[i:i+ngram])] = lk.grams[gramHash(words[i:i+ngram])]
			}
		}
	}
	return lk
}

func gramHash(ws []uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, w := range ws {
		h ^= w
		h *= 1099511628211
	}
	return h
}

// plainFold is a word character of text lower-cased (letters and
// digits), or 0.
func plainFold(r rune) rune {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return unicode.ToLower(r)
	}
	return 0
}

// forWords calls fn with each word of text, its characters mapped by fold
// (plainFold, leetWordFold; 0 ends a word).
func forWords(text string, fold func(rune) rune, fn func(w []byte) bool) {
	var buf [64]byte
	w := buf[:0]
	for _, r := range text {
		if f := fold(r); f != 0 {
			if len(w) < 60 {
				w = utf8.AppendRune(w, f)
			}
			continue
		}
		if len(w) > 0 {
			if !fn(w) {
				return
			}
			w = w[:0]
		}
	}
	if len(w) > 0 {
		fn(w)
	}
}

// feed adds answer text (streamed or whole) and reports whether a leak
// became likely (once): see judge.
func (lk *leakIndex) feed(text string, final bool) bool {
	lk.read(&lk.r, text, final)
	return lk.judge()
}

// read counts the prompt n-grams text repeats, reading on from r.
func (lk *leakIndex) read(r *gramReader, text string, final bool) {
	lk.readNorm(r, leakNormal(text), final)
}

// readNorm is read on text already normalised (leakNormal).
func (lk *leakIndex) readNorm(r *gramReader, norm string, final bool) {
	lk.readIn(r, lk.grams, norm, final)
}

// readIn counts the n-grams of grams (the prompt's, in one form) that
// norm repeats, reading on from r.
func (lk *leakIndex) readIn(r *gramReader, grams map[uint64]int, norm string, final bool) {
	push := func(w []byte) { lk.push(r, grams, w) }
	for _, c := range norm {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			if len(r.word) < 60 {
				r.word = utf8.AppendRune(r.word, unicode.ToLower(c))
			}
			continue
		}
		if len(r.word) > 0 {
			push(r.word)
			r.word = r.word[:0]
		}
	}
	if final && len(r.word) > 0 {
		push(r.word)
		r.word = r.word[:0]
	}
}

// reverseString spells s backwards.
func reverseString(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// readRev counts the prompt's n-grams that norm (normalised answer text)
// repeats written backwards ("tpmorp metsys ruoy"), compared with
// lk.revGrams, reading on from r.
func (lk *leakIndex) readRev(r *gramReader, norm string, final bool) {
	if lk.revGrams != nil {
		lk.readIn(r, lk.revGrams, norm, final)
	}
}

// push adds word w to reader r's window and counts the n-gram it ends
// when grams (the prompt's n-grams, in the reader's form) holds it.
func (lk *leakIndex) push(r *gramReader, grams map[uint64]int, w []byte) {
	r.window = append(r.window, maphash.Bytes(seed, w))
	if len(r.window) > ngram {
		r.window = r.window[1:]
	}
	if len(r.window) == ngram {
		if i, ok := grams[gramHash(r.window)]; ok {
			lk.count(r, i)
		} else {
			r.run = 0
		}
	}
}

// count records that reader r read the prompt's n-gram i.
func (lk *leakIndex) count(r *gramReader, i int) {
	r.run++
	lk.best = max(lk.best, r.run)
	if !lk.hit[i] {
		lk.hit[i] = true
		lk.seen++
		if lk.hist != nil && lk.deferHist {
			if !lk.hist.has(i) {
				lk.pend = append(lk.pend, i)
			}
		} else if lk.hist != nil {
			lk.markHist(i)
		}
	}
}

// judge reports whether a leak became likely (once): the share of
// system-prompt n-grams this answer repeated, together with those earlier
// answers to the same key sent (hist), reached the threshold, or a quarter
// of it when the answer copies the prompt verbatim (verbatimRun
// consecutive n-grams).
func (lk *leakIndex) judge() bool {
	if lk.fired || len(lk.grams) == 0 {
		return false
	}
	if lk.seen > 0 && lk.share() >= lk.threshold || lk.best >= verbatimRun && float64(lk.seen)/float64(len(lk.grams)) >= lk.threshold/4 {
		lk.fired = true
		return true
	}
	return false
}

// encodedRun is the base64, base32 or hex run a streamed answer is in
// the middle of: its characters (line breaks dropped, at most
// maxEncodedRun), how many are decoded, and the reader of the decoded
// text; child is the run inside the decoded text (an encoding nested in
// another: base64 of base64), down to maxNest levels.
type encodedRun struct {
	buf    []byte
	done   int
	hex    bool // decoded as hex so far
	b32    bool // decoded as base32 so far
	failed bool // not text: decoding stopped
	r      gramReader
	child  *encodedRun
	depth  int
	// joins are where line breaks inside the run were skipped (at most
	// maxJoins): a run that does not decode is read again from the first
	joins []int
	// carry is a decoded character cut at the end of the last chunk
	carry []byte
}

// maxJoins bounds the line breaks remembered per run.
const maxJoins = 8

// maxEncodedRun bounds the encoded run decoded per answer.
const maxEncodedRun = 256 << 10

// minEncodedRun is the shortest run decoded (shorter ones are words).
const minEncodedRun = 24

// maxNest is how many encodings inside each other a stream is decoded
// through (a run inside the text a run decodes to, ...).
const maxNest = 2

func isEncodedByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '-' || b == '_' || b == '='
}

// isBase32 reports whether s is made of base32's alphabet (RFC 4648:
// A-Z, 2-7, '=' padding).
func isBase32(s []byte) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' || c == '=') {
			return false
		}
	}
	return true
}

// feedEncoded decodes the base64, base32 and hex runs of streamed answer
// text as they grow (in whole groups of 4 characters, 8 for base32, 2 for
// hex) and counts the prompt n-grams the decoded text repeats, as feed
// does for plain text, also through a second encoding inside the first:
// a system prompt streamed encoded is judged while it streams. A run may
// be wrapped over lines. It reports whether a leak became likely.
func (lk *leakIndex) feedEncoded(text string, final bool) bool {
	lk.feedRun(&lk.enc, text, final)
	return lk.judge()
}

// feedRun reads text (answer text, or the decoded text of the run one
// level up) into the encoded run e.
func (lk *leakIndex) feedRun(e *encodedRun, text string, final bool) {
	for i := 0; i < len(text); i++ {
		b := text[i]
		if isEncodedByte(b) {
			if len(e.buf) < maxEncodedRun {
				e.buf = append(e.buf, b)
			}
			continue
		}
		if (b == '\n' || b == '\r') && len(e.buf) > 0 && i+1 < len(text) && isEncodedByte(text[i+1]) {
			if len(e.joins) < maxJoins {
				e.joins = append(e.joins, len(e.buf))
			}
			continue // a wrapped run goes on
		}
		if len(e.buf) > 0 {
			lk.decodeRun(e, true)
			*e = encodedRun{buf: e.buf[:0], depth: e.depth}
		}
	}
	if len(e.buf) > 0 {
		lk.decodeRun(e, final)
	}
}

// decodeRun decodes what is new in the run e (all of it when the run
// ended) and reads it, plainly and through e's child run.
func (lk *leakIndex) decodeRun(e *encodedRun, end bool) {
	if e.failed || len(e.buf) < minEncodedRun {
		return
	}
	restart := func() { e.done, e.r, e.child = 0, gramReader{}, nil }
	if e.done == 0 {
		e.hex = isHex(string(e.buf))
		e.b32 = !e.hex && isBase32(e.buf)
	} else if e.hex && !isHex(string(e.buf[e.done:])) {
		// what looked like hex goes on otherwise: read it again
		e.hex, e.b32 = false, isBase32(e.buf)
		restart()
	} else if e.b32 && !isBase32(e.buf[e.done:]) {
		e.b32 = false // base64 after all
		restart()
	}
	n := len(e.buf)
	group := 4
	if e.b32 {
		group = 8
	}
	if !end {
		n -= n % group // whole groups (hex: pairs)
	}
	if n <= e.done {
		return
	}
	chunk := string(e.buf[e.done:n])
	var raw []byte
	var err error
	switch {
	case e.hex:
		if len(chunk)%2 == 1 {
			chunk = chunk[:len(chunk)-1]
		}
		raw, err = hex.DecodeString(chunk)
	case e.b32:
		chunk = strings.TrimRight(chunk, "=")
		switch len(chunk) % 8 { // lengths no base32 text ends with
		case 1, 3, 6:
			chunk = chunk[:len(chunk)-1]
		}
		raw, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(chunk)
	default:
		chunk = strings.TrimRight(chunk, "=")
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
		}
		enc := base64.RawStdEncoding
		if strings.ContainsAny(chunk, "-_") {
			enc = base64.RawURLEncoding
		}
		raw, err = enc.DecodeString(chunk)
	}
	e.done = n
	if err == nil && len(e.carry) > 0 {
		raw = append(append([]byte(nil), e.carry...), raw...)
	}
	e.carry = e.carry[:0]
	if err == nil && !end {
		// a character cut at the chunk's end is read with the next chunk
		for k := 1; k < utf8.UTFMax && k <= len(raw); k++ {
			if utf8.RuneStart(raw[len(raw)-k]) {
				if !utf8.FullRune(raw[len(raw)-k:]) {
					e.carry = append(e.carry, raw[len(raw)-k:]...)
					raw = raw[:len(raw)-k]
				}
				break
			}
		}
	}
	if err != nil || !mostlyText(raw) {
		if len(e.joins) > 0 {
			// the run may be glued to a word of the line before ("%4",
			// "x=="): read it again from the next line
			j := e.joins[0]
			js := e.joins[1:]
			for k := range js {
				js[k] -= j
			}
			*e = encodedRun{buf: e.buf[:copy(e.buf, e.buf[j:])], joins: js, depth: e.depth}
			lk.decodeRun(e, end)
			return
		}
		e.failed = true
		return
	}
	lk.read(&e.r, string(raw), end)
	if e.depth < maxNest {
		if e.child == nil {
			e.child = &encodedRun{depth: e.depth + 1}
		}
		lk.feedRun(e.child, string(raw), end)
	}
}

// mostlyText reports whether b reads as text: at most one byte in 16 a
// control character other than white space or a byte that begins no valid
// UTF-8 character.
func mostlyText(b []byte) bool {
	bad := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			// a byte that begins no valid character: bytes decoded out of
			// step (decodeRun keeps a character cut by a chunk's end)
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				bad++
			}
			i += n
			continue
		}
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f {
			bad++
		}
		i++
	}
	return bad*16 <= len(b)
}

// share is the share of the prompt's n-grams sent: in this answer, or to
// the same key within the window.
func (lk *leakIndex) share() float64 {
	n := lk.seen
	if lk.hist != nil {
		// earlier answers' grams and this answer's not yet committed
		n = max(n, lk.hist.count()+len(lk.pend))
	}
	return float64(n) / float64(len(lk.grams))
}

// checkDecoded feeds the decoded forms (base64, hex, ...) of a whole
// answer, each as a text of its own.
func (lk *leakIndex) checkDecoded(text string) bool {
	for _, d := range normalize.Decode(text, normalize.Limits{}) {
		var r gramReader
		lk.read(&r, d.Text, true)
		if lk.judge() {
			return true
		}
	}
	return false
}

// leakHistory remembers, per key and system prompt, which of the prompt's
// n-grams answers have already sent within a window, so that a prompt
// leaked in parts over several answers (each under the threshold) is
// caught. It holds at most maxLeakEntries entries (the oldest go first).
type leakHistory struct {
	mu      sync.Mutex
	window  time.Duration
	entries map[string]*leakEntry
}

const maxLeakEntries = 4096

type leakEntry struct {
	mu   sync.Mutex
	bits []uint64
	n    int
	last time.Time
}

// markHist records gram i in the history and, when the history is shared,
// remembers it for the write at the end of the transaction.
func (lk *leakIndex) markHist(i int) {
	lk.hist.mark(i)
	if lk.redisKey != "" && len(lk.marked) < maxLeakGrams {
		lk.marked = append(lk.marked, i)
	}
}

func (e *leakEntry) mark(i int) {
	e.mu.Lock()
	if w, b := i/64, uint64(1)<<(i%64); e.bits[w]&b == 0 {
		e.bits[w] |= b
		e.n++
	}
	e.mu.Unlock()
}

func (e *leakEntry) has(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bits[i/64]&(uint64(1)<<(i%64)) != 0
}

func (e *leakEntry) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// get returns the entry of key for a prompt of n grams, starting a new one
// when there is none or the last answer is older than the window.
func (h *leakHistory) get(key string, n int, now time.Time) *leakEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entries[key]
	if e == nil || now.Sub(e.last) > h.window || len(e.bits) != (n+63)/64 {
		if e == nil && len(h.entries) >= maxLeakEntries {
			oldest := ""
			var t time.Time
			for k, v := range h.entries {
				if oldest == "" || v.last.Before(t) {
					oldest, t = k, v.last
				}
			}
			delete(h.entries, oldest)
		}
		e = &leakEntry{bits: make([]uint64, (n+63)/64)}
		h.entries[key] = e
	}
	e.last = now
	return e
}

// promptKey names a system prompt (its n-gram set) within the history.
func (lk *leakIndex) promptKey() uint64 {
	var x uint64
	for g := range lk.grams {
		x ^= g * 0x9E3779B97F4A7C15
	}
	return x
}

// check feeds a whole answer text and returns a finding when it leaks.
func (lk *leakIndex) check(text string, choice int) (engine.Finding, bool) {
	lk.deferHist, lk.pend = true, lk.pend[:0]
	defer func() { lk.deferHist = false }()
	u, _ := unescapeLeak(text, true)
	if !lk.feed(u, true) && !lk.checkDecoded(text) && (u == text || !lk.checkDecoded(u)) {
		for _, i := range lk.pend {
			lk.markHist(i)
		}
		return engine.Finding{}, false
	}
	return lk.finding(choice), true
}

func (lk *leakIndex) finding(choice int) engine.Finding {
	return engine.Finding{Layer: Name, Rule: "leak.system_prompt", Severity: engine.SeverityHigh,
		Score: lk.share(), Message: choice, Entity: "SYSTEM_PROMPT",
		Text: "answer repeats the system prompt"}
}
