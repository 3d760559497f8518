package normalize

import "unicode"

// invisibleKind classifies a non-ASCII code point that Normalize removes (or,
// for KindFiller, turns into a space). It returns 0 for ordinary characters.
func invisibleKind(r rune) Kind {
	switch {
	case r < 0xA0:
		if r >= 0x80 {
			return KindControl // C1 controls (U+0085 is whitespace and handled first)
		}
		return 0
	case r == 0x00AD:
		return KindSoftHyphen
	case r < 0x034F:
		return 0
	case r == 0x034F: // combining grapheme joiner
		return KindFormat
	case r == 0x061C:
		return KindBidi
	case r == 0x115F, r == 0x1160:
		return KindFiller
	case r == 0x17B4, r == 0x17B5:
		return KindFormat
	case r >= 0x180B && r <= 0x180D, r == 0x180F:
		return KindVariationSelector
	case r == 0x180E:
		return KindZeroWidth
	case r >= 0x200B && r <= 0x200D:
		return KindZeroWidth
	case r == 0x200E, r == 0x200F:
		return KindBidi
	case r >= 0x202A && r <= 0x202E:
		return KindBidi
	case r >= 0x2060 && r <= 0x2064:
		return KindZeroWidth
	case r >= 0x2066 && r <= 0x2069:
		return KindBidi
	case r >= 0x2065 && r <= 0x206F:
		return KindFormat
	case r == 0x2800, r == 0x3164, r == 0xFFA0:
		return KindFiller
	case r >= 0xFE00 && r <= 0xFE0F:
		return KindVariationSelector
	case r == 0xFEFF:
		return KindZeroWidth
	case r >= 0x1BCA0 && r <= 0x1BCA3, r >= 0x1D173 && r <= 0x1D17A:
		return KindFormat
	case r >= 0xE0000 && r <= 0xE007F:
		return KindTag
	case r >= 0xE0100 && r <= 0xE01EF:
		return KindVariationSelector
	case r >= 0xE0080 && r <= 0xE0FFF:
		return KindFormat // reserved default-ignorable
	}
	// Remaining Cf code points (Unicode 15) lie in these blocks only;
	// TestCfCovered checks that against Go's tables for every rune.
	if (r >= 0x0600 && r <= 0x08E2) || (r >= 0xFFF9 && r <= 0xFFFB) || (r >= 0x110BD && r <= 0x1345F) {
		if unicode.Is(unicode.Cf, r) {
			return KindFormat
		}
	}
	return 0
}

// isMark reports combining marks (Mn, Me). Spacing marks (Mc) are kept:
// they are visible and carry meaning in Indic scripts.
func isMark(r rune) bool {
	if r < 0x0300 {
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me)
}

// isLineBreak reports characters that end a line.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// strippableBase reports letters of the Latin, Greek and Cyrillic scripts
// (the scripts whose diacritics the skeleton removes).
func strippableBase(r rune) bool {
	switch {
	case r < 0x0250:
		return true
	case r >= 0x0370 && r < 0x0530:
		return true
	case r >= 0x1D00 && r < 0x1DC0:
		return true
	case r >= 0x1E00 && r < 0x2000:
		return true
	case r >= 0x2C60 && r < 0x2C80, r >= 0xA640 && r < 0xA6A0, r >= 0xA720 && r < 0xA800, r >= 0xAB30 && r < 0xAB70:
		return true
	}
	return false
}

// foldRune is simple case folding implemented as ToLower(ToUpper(r)): per
// rune, so every output byte keeps an exact source offset. Besides the
// Unicode simple folding it merges characters whose uppercase is shared
// (ſ→s, ς→σ, dotless ı→i, İ→i), which is what a detector wants. The one
// expanding full folding that matters for Latin text, ß/ẞ→"ss", is done by
// the caller.
func foldRune(r rune) rune {
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}
