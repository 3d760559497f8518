package normalize

import (
	"unicode/utf8"
)

// Decoding methods reported in Decoded.Method.
const (
	MethodBase64    = "base64"
	MethodBase64URL = "base64url"
	MethodBase32    = "base32"
	MethodHex       = "hex"
	MethodURL       = "url"
	MethodROT13     = "rot13"
	MethodReverse   = "reverse"
	MethodLeet      = "leet"   // 1→i
	MethodLeetL     = "leet-l" // 1→l (only when a leet word contains 1)
)

// Defaults for Limits fields left at zero.
const (
	DefaultMaxDepth      = 3
	DefaultMaxOutput     = 256 << 10
	DefaultMinOutput     = 4 << 10
	DefaultMaxCandidates = 64
	DefaultMaxWholeText  = 16 << 10
	DefaultMinRun        = 16
)

// Limits bounds Decode. The zero value means the defaults.
type Limits struct {
	// MaxDepth bounds recursion: a payload decoded from the input has depth
	// 1, one decoded from that payload depth 2, … (default 3).
	MaxDepth int
	// MaxOutput bounds the total bytes of all Decoded.Text (default
	// 4×len(input), at least DefaultMinOutput, at most DefaultMaxOutput).
	MaxOutput int
	// MaxCandidates bounds the number of results (default 64). Decode
	// attempts (runs that passed the cheap pre-check) are bounded separately
	// by 1024 per call.
	MaxCandidates int
	// MaxWholeText is the largest text (bytes) for which whole-text variants
	// (ROT13, reversed, leetspeak) are produced (default 16 KiB).
	MaxWholeText int
	// MinRun is the shortest encoded run considered for base64, base32 and
	// hex, in characters (default 16: most English words are shorter, and
	// shorter payloads carry too little to matter).
	MinRun int
	// NoROT13, NoReverse, NoLeet disable the whole-text variants.
	NoROT13, NoReverse, NoLeet bool
	// NestedWholeTextOnly skips the whole-text variants of the input itself
	// (a caller that first checks cheaply whether they are worth producing
	// makes them itself); payloads decoded from the input still get them.
	NestedWholeTextOnly bool
}

func (l Limits) withDefaults(inputLen int) Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = 4 * inputLen
		if l.MaxOutput < DefaultMinOutput {
			l.MaxOutput = DefaultMinOutput
		}
		if l.MaxOutput > DefaultMaxOutput {
			l.MaxOutput = DefaultMaxOutput
		}
	}
	if l.MaxCandidates <= 0 {
		l.MaxCandidates = DefaultMaxCandidates
	}
	if l.MaxWholeText <= 0 {
		l.MaxWholeText = DefaultMaxWholeText
	}
	if l.MinRun <= 0 {
		l.MinRun = DefaultMinRun
	}
	return l
}

// Decoded is one decoded variant of (part of) the input.
type Decoded struct {
	// Method is the last decoding step (one of the Method* constants).
	Method string
	// Path is the chain of steps from the input, e.g. "base64>rot13".
	Path string
	// Text is the decoded text (valid UTF-8).
	Text string
	// Start, End: the span of the original input, in code points, that the
	// outermost encoded run covers (whole-text variants cover everything).
	Start, End int
	// Depth is 1 for a variant of the input itself, 2 for a variant of a
	// depth-1 result, and so on.
	Depth int
}

// decodeJob is a text waiting to be scanned for encoded payloads.
type decodeJob struct {
	text       string
	path       string
	start, end int // span in the top-level input (code points); -1: compute from text
	depth      int // depth of text itself (0 = input)
	whole      bool
}

type decoder struct {
	lim      Limits
	out      []Decoded
	budget   int
	attempts int
	queue    []decodeJob
}

// Decode finds encoded payloads in s and returns their decoded forms so
// scanners can run on them too. Encoded runs (base64 std/URL with or without
// padding, base32, hex, %XX) are located with a cheap byte scan first; only
// runs of plausible length and alphabet are decoded, and a result is kept
// only when it is valid UTF-8 and mostly printable text — English words
// that happen to be valid base64 or hex therefore produce nothing.
// Whole-text variants (ROT13, reversed, leetspeak) are produced for texts of
// at most Limits.MaxWholeText bytes with enough letters (leetspeak only when
// digits or symbols are mixed into words), and never from another
// whole-text variant. Every result at depth < MaxDepth is scanned again,
// breadth first, within the output and candidate budgets. Decode never
// panics, whatever s holds.
func Decode(s string, lim Limits) []Decoded {
	d := decoder{lim: lim.withDefaults(len(s))}
	d.budget = d.lim.MaxOutput
	d.queue = append(d.queue, decodeJob{text: s, start: -1, end: -1})
	for qi := 0; qi < len(d.queue); qi++ {
		if d.budget <= 0 || d.attempts >= maxAttempts || len(d.out) >= d.lim.MaxCandidates {
			break
		}
		d.scan(d.queue[qi])
	}
	return d.out
}

// emit records a result and queues it for further decoding.
func (d *decoder) emit(job decodeJob, method, text string, start, end int, whole bool) bool {
	if len(d.out) >= d.lim.MaxCandidates {
		return false
	}
	if len(text) > d.budget {
		d.budget = 0
		return false
	}
	if text == job.text {
		return false
	}
	for i := range d.out { // duplicates (same text from two routes)
		if d.out[i].Text == text {
			return false
		}
	}
	d.budget -= len(text)
	path := method
	if job.path != "" {
		path = job.path + ">" + method
	}
	res := Decoded{Method: method, Path: path, Text: text, Start: start, End: end, Depth: job.depth + 1}
	d.out = append(d.out, res)
	if res.Depth < d.lim.MaxDepth {
		d.queue = append(d.queue, decodeJob{text: text, path: path, start: start, end: end, depth: res.Depth, whole: whole})
	}
	return true
}

// try counts one decode attempt; false when the budget is exhausted.
func (d *decoder) try() bool {
	if d.attempts >= maxAttempts || len(d.out) >= d.lim.MaxCandidates || d.budget <= 0 {
		return false
	}
	d.attempts++
	return true
}

// spanOf maps a byte span of job.text to a span of the top-level input.
type runeCounter struct {
	s      string
	byteAt int
	runeAt int
}

func (c *runeCounter) at(b int) int {
	if b < c.byteAt {
		c.byteAt, c.runeAt = 0, 0
	}
	c.runeAt += utf8.RuneCountInString(c.s[c.byteAt:b])
	c.byteAt = b
	return c.runeAt
}

func (d *decoder) scan(job decodeJob) {
	rc := runeCounter{s: job.text}
	span := func(a, b int) (int, int) {
		if job.start >= 0 {
			return job.start, job.end
		}
		return rc.at(a), rc.at(b)
	}
	d.scanRuns(job, span)
	d.scanHexSeq(job, span)
	d.scanURL(job, span)
	if !job.whole && len(job.text) <= d.lim.MaxWholeText && (job.depth > 0 || !d.lim.NestedWholeTextOnly) {
		d.wholeText(job, span)
	}
}
