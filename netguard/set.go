package netguard

import (
	"net/netip"

	"github.com/gaissmai/bart"
)

// PrefixSet answers "is this address inside any of these CIDRs" in time
// independent of the list's length (a BART routing table from
// github.com/gaissmai/bart). It is immutable after NewPrefixSet and safe for
// concurrent use. A nil or empty set contains nothing.
type PrefixSet struct {
	t *bart.Lite
	n int
}

// NewPrefixSet builds a set from parsed prefixes (see ParsePrefixes).
func NewPrefixSet(ps []netip.Prefix) *PrefixSet {
	s := &PrefixSet{t: new(bart.Lite), n: len(ps)}
	for _, p := range ps {
		s.t.Insert(p)
	}
	return s
}

// Len is the number of prefixes the set was built from.
func (s *PrefixSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Contains reports whether a (normalised: IPv4-mapped IPv6 is compared as
// IPv4) lies inside one of the set's prefixes. The zero Addr is in no set.
func (s *PrefixSet) Contains(a netip.Addr) bool {
	if s == nil || s.n == 0 || !a.IsValid() {
		return false
	}
	return s.t.Contains(normalize(a))
}
