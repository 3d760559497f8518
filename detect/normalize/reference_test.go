package normalize

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file keeps a frozen copy of the ASCII fast path as it was before the
// offsets became lazy (eager per-byte starts/ends arrays), and of
// NormalizeInto and OrigSpan around it. diff_test.go compares the
// production code against it. The non-ASCII path's driver (refUnicodePath:
// one asciiByte call per ASCII byte, before asciiRun) and the special-token
// scan (refFindSpecialTokens: one rune at a time, before the byte skip) are
// frozen here too; the per-segment code below them is shared.

type refText struct {
	Text
	rstarts, rends []int32
}

func refNormalize(s string, opt Options) *refText {
	r := new(refText)
	t := &r.Text
	t.reset(s, opt)
	maxIn := opt.MaxInput
	if maxIn <= 0 {
		maxIn = DefaultMaxInput
	}
	cut := -1
	if len(s) > maxIn {
		c := maxIn
		for c > 0 && !utf8.RuneStart(s[c]) {
			c--
		}
		s = s[:c]
		cut = c
	}
	if refIsPlainASCII(s) {
		r.refASCIIPath(s)
	} else {
		t.prepareEager(len(s))
		t.refUnicodePath(s)
		r.rstarts, r.rends = t.starts, t.ends
	}
	if cut >= 0 && !t.Truncated {
		t.Truncated = true
		t.addFinding(Finding{Kind: KindTruncated, Start: t.origRunes, End: t.origRunes, Count: 1})
	}
	t.Norm = string(t.buf)
	t.flushTags()
	if !opt.NoSpecialTokens && hasTokenStart(t.Norm) {
		for _, sp := range refFindSpecialTokens(t.Norm) {
			s, e := t.OrigSpan(sp.ByteStart, sp.ByteEnd)
			t.addFinding(Finding{Kind: KindSpecialToken, Start: s, End: e, Count: 1, Decoded: sp.Token})
		}
	}
	return r
}

// refUnicodePath is unicodePath with every ASCII byte not followed by
// non-ASCII handled by asciiByte, one at a time.
func (t *Text) refUnicodePath(s string) {
	var it norm.Iter
	rpos := 0
	i := 0
	for i < len(s) && !t.Truncated {
		c := s[i]
		if c < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
			t.asciiByte(c, rpos)
			i++
			rpos++
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		it.InitString(norm.NFKC, s[i:j])
		for !it.Done() && !t.Truncated {
			p := it.Pos()
			seg := it.Next()
			q := it.Pos()
			n := utf8.RuneCountInString(s[i+p : i+q])
			if n == 0 {
				t.segment(seg, rpos, rpos+1)
				continue
			}
			t.segment(seg, rpos, rpos+n)
			rpos += n
		}
		i = j
	}
	if t.Truncated {
		rpos = utf8.RuneCountInString(s)
	}
	t.origRunes = rpos
}

// refFindSpecialTokens is FindSpecialTokens decoding every code point.
func refFindSpecialTokens(s string) []Span {
	if !hasTokenStart(s) {
		return nil
	}
	var out []Span
	rpos := 0
	for i := 0; i < len(s); {
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

func refIsPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (r *refText) refASCIIPath(s string) {
	t := &r.Text
	t.origRunes = len(s)
	if t.maxOut < len(s) || len(s) > 1<<30 {
		t.prepareEager(len(s))
		for i := 0; i < len(s); i++ {
			if !t.asciiByte(s[i], i) {
				break
			}
		}
		r.rstarts, r.rends = t.starts, t.ends
		return
	}
	buf, st, en := make([]byte, len(s)), make([]int32, len(s)), make([]int32, len(s))
	fold := !t.opt.KeepCase
	keepNL := t.opt.KeepNewlines
	n := 0
	inWS := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7F {
			switch c {
			case ' ', '\t', '\n', '\r', '\v', '\f':
				nl := keepNL && c != ' ' && c != '\t'
				if inWS {
					en[n-1] = int32(i + 1)
					if nl {
						buf[n-1] = '\n'
					}
					continue
				}
				buf[n], st[n], en[n] = ' ', int32(i), int32(i+1)
				if nl {
					buf[n] = '\n'
				}
				n++
				inWS = true
			default:
				t.Stats.Removed++
				t.addFinding(Finding{Kind: KindControl, Start: i, End: i + 1, Count: 1})
			}
			continue
		}
		if fold && c-'A' < 26 {
			c += 'a' - 'A'
		}
		buf[n], st[n], en[n] = c, int32(i), int32(i+1)
		n++
		inWS = false
	}
	t.buf, r.rstarts, r.rends = buf[:n], st[:n], en[:n]
	t.lazy, t.starts, t.ends = false, r.rstarts, r.rends // for reportSpecialTokens
	t.inWS = inWS
}

func (r *refText) refOrigSpan(normStart, normEnd int) (start, end int) {
	n := len(r.Norm)
	if normStart < 0 {
		normStart = 0
	}
	if normStart > n {
		normStart = n
	}
	if normEnd > n {
		normEnd = n
	}
	if normEnd < normStart {
		normEnd = normStart
	}
	if normStart == n {
		if n == 0 {
			return 0, 0
		}
		e := int(r.rends[n-1])
		return e, e
	}
	start = int(r.rstarts[normStart])
	if normEnd == normStart {
		return start, start
	}
	end = int(r.rends[normEnd-1])
	if end < start {
		end = start
	}
	return start, end
}

func (r *refText) refOrigRuneSpan(a, b int) (int, int) {
	return r.refOrigSpan(runeToByte(r.Norm, a), runeToByte(r.Norm, b))
}
