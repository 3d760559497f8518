package tokens

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer"
)

// Encoding names.
const (
	CL100K = "cl100k_base"
	O200K  = "o200k_base"
)

// Chunking bounds (bytes); see the package comment.
const (
	chunkTarget = 256  // cut at the first exact boundary after this many bytes
	chunkHard   = 1024 // cut here even without an exact boundary
	wsRunMax    = 64   // cut whitespace runs longer than this
)

// o200kPrefixes are model-name prefixes of the o200k_base family.
var o200kPrefixes = []string{
	"gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss",
	"o1", "o3", "o4",
}

// EncodingFor returns the encoding used to count tokens for model. A
// provider prefix ("openai/gpt-4o", "azure/...") is ignored. Unknown models
// get cl100k_base.
func EncodingFor(model string) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		model = model[i+1:]
	}
	model = strings.ToLower(model)
	for _, p := range o200kPrefixes {
		if strings.HasPrefix(model, p) {
			return O200K
		}
	}
	return CL100K
}

type loaded struct {
	codec tokenizer.Codec
	err   error
	took  time.Duration
}

var encodings = map[string]func() loaded{
	CL100K: sync.OnceValue(func() loaded { return load(tokenizer.Cl100kBase) }),
	O200K:  sync.OnceValue(func() loaded { return load(tokenizer.O200kBase) }),
}

func load(e tokenizer.Encoding) loaded {
	start := time.Now()
	c, err := tokenizer.Get(e)
	return loaded{codec: c, err: err, took: time.Since(start)}
}

func get(encoding string) (loaded, error) {
	f, ok := encodings[encoding]
	if !ok {
		return loaded{}, fmt.Errorf("tokens: unknown encoding %q (want %s or %s)", encoding, CL100K, O200K)
	}
	l := f()
	if l.err != nil {
		return loaded{}, fmt.Errorf("tokens: loading %s: %w", encoding, l.err)
	}
	return l, nil
}

// Preload builds the encoding used for model now (instead of on the first
// Count) and reports how long the build took; layers call it from Provision
// so that the first request does not pay for it and a failure shows at
// start-up. Calling it again is free and reports the first build's time.
func Preload(model string) (time.Duration, error) {
	l, err := get(EncodingFor(model))
	if err != nil {
		return 0, err
	}
	return l.took, nil
}

// Count returns the number of tokens text has for model (see EncodingFor).
// It never fails: should the embedded vocabulary be unusable (which Preload
// would have reported at start-up), it returns len(text), an upper bound for
// byte-level BPE, so that limits err on the strict side.
func Count(model, text string) int {
	n, err := CountEncoding(EncodingFor(model), text)
	if err != nil {
		return len(text)
	}
	return n
}

// CountEncoding counts the tokens of text with the named encoding.
func CountEncoding(encoding, text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	l, err := get(encoding)
	if err != nil {
		return 0, err
	}
	total := 0
	for len(text) > 0 {
		n := nextChunk(text)
		chunk := text[:n]
		if strings.IndexByte(chunk, 0x7f) >= 0 {
			// tiktoken-go/tokenizer v0.10.0's compiled split regexp skips
			// U+007F (DEL), so DEL would count as nothing. U+001F has the
			// same pre-token class (not space, letter or digit) and length,
			// and like DEL is a single-byte token: count it instead.
			chunk = strings.ReplaceAll(chunk, "\x7f", "\x1f")
		}
		c, err := l.codec.Count(chunk)
		if err != nil {
			return 0, fmt.Errorf("tokens: %w", err)
		}
		total += c
		text = text[n:]
	}
	return total, nil
}

// UpperBound is a free upper bound on the token count of text under any
// byte-level BPE encoding: every token covers at least one byte. Callers
// skip counting when UpperBound(text) is within their limit.
func UpperBound(text string) int { return len(text) }

// nextChunk returns the length of the next chunk of s to tokenize on its
// own: at most chunkHard bytes (rounded to a rune boundary), preferably
// ending at an exact boundary once chunkTarget bytes are reached, and never
// containing more than wsRunMax bytes of one whitespace run.
func nextChunk(s string) int {
	wsRun := 0
	prevSpace := false // previous rune is whitespace
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		isSpace := unicode.IsSpace(r)
		if isSpace {
			wsRun += size
			if wsRun > wsRunMax {
				return i // i > 0: one rune is shorter than wsRunMax
			}
		} else {
			wsRun = 0
		}
		// Exact boundary: a single ' ' after a non-space and before a
		// non-space. tiktoken's pieces never end in a space unless they are
		// all whitespace, and its split matches only forwards, so the piece
		// starting at this space is the same whether or not the text before
		// it is present.
		if i >= chunkTarget && r == ' ' && !prevSpace && i+1 < len(s) {
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if !unicode.IsSpace(next) {
				return i
			}
		}
		if i+size > chunkHard && i > 0 {
			return i
		}
		prevSpace = isSpace
		i += size
	}
	return len(s)
}
