package topics

import (
	"math"
	"slices"
	"unicode"
	"unicode/utf8"
)

// stopTable is an open-addressing set of the FNV-1a hashes of stopwords,
// which are dropped before forming n-grams: they carry no topic. (A map
// lookup per word cost more than the rest of the similarity check.)
var stopTable [256]uint64

func isStop(h uint64) bool {
	for i := h; ; i++ {
		switch stopTable[i&255] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// FNV-1a 64-bit parameters (hashWord).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func init() {
	for _, w := range []string{"a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at",
		"for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this",
		"that", "these", "those", "i", "me", "my", "you", "your", "we", "our", "he", "she", "they",
		"them", "do", "does", "did", "can", "could", "would", "should", "will", "please", "so", "than",
		"then", "there", "what", "how", "about", "some", "any", "just"} {
		h := hashWord(fnvOffset, w)
		i := h
		for stopTable[i&255] != 0 {
			i++
		}
		stopTable[i&255] = h
	}
}

// features are the sorted, unique hashes of a text's word unigrams and
// bigrams (stopwords dropped). Text must already be normalised.
type features []uint64

type word struct{ start, end int } // byte span in the normalised text

// asciiWord marks ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	return t
}()

// words splits s into runs of letters and digits.
func words(s string, dst []word) []word {
	start := -1
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			if asciiWord[c] {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				dst = append(dst, word{start, i})
				start = -1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = append(dst, word{start, i})
			start = -1
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, word{start, len(s)})
	}
	return dst
}

// hashWord continues an FNV-1a hash h over w.
// hashWordOr is hashWord(fnvOffset, w) with every byte of w ORed with
// mask: with 0x20, the hash of an ASCII word of letters and digits folded
// to lowercase.
func hashWordOr(w string, mask byte) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i] | mask)
		h *= fnvPrime
	}
	return h
}

func hashWord(h uint64, w string) uint64 {
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i])
		h *= fnvPrime
	}
	return h
}

// appendFeatures adds the n-gram hashes of s's words ws to dst, sorted
// and unique.
func appendFeatures(dst features, s string, ws []word) features {
	prev := uint64(0)
	havePrev := false
	for _, w := range ws {
		t := s[w.start:w.end]
		h := hashWord(fnvOffset, t)
		if isStop(h) {
			continue
		}
		dst = append(dst, h)
		if havePrev {
			dst = append(dst, hashWord(prev*31+0x9e3779b97f4a7c15, t)) // bigram
		}
		prev, havePrev = h, true
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// cosine is |a∩b| / sqrt(|a|·|b|) for sorted unique sets.
func cosine(a, b features) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(n) / math.Sqrt(float64(len(a))*float64(len(b)))
}
