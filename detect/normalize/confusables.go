package normalize

import "sort"

// confusable is one entry of the generated table: a non-ASCII code point
// whose TR39 confusable prototype is printable ASCII.
type confusable struct {
	r     rune
	proto string
}

// lookupConfusable returns the ASCII prototype of r, if the generated table
// has one. confusablesTable is sorted by rune.
func lookupConfusable(r rune) (string, bool) {
	if r < confusablesMin || r > confusablesMax {
		return "", false
	}
	i := sort.Search(len(confusablesTable), func(i int) bool { return confusablesTable[i].r >= r })
	if i < len(confusablesTable) && confusablesTable[i].r == r {
		return confusablesTable[i].proto, true
	}
	return "", false
}

// Skeleton returns the ASCII prototype the normaliser substitutes for r
// (after NFKC and case folding), and whether there is one. Exposed for
// scanners that build their own homoglyph-aware patterns.
func Skeleton(r rune) (string, bool) { return lookupConfusable(r) }
