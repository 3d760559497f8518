package detect

import (
	"crypto/sha256"
	"hash/fnv"
	"sort"
	"strings"
	"unicode"
)

// Honest splits. Rows that share a long phrase (an 8-word shingle: the
// same payload in two carriers, two variants of one jailbreak template, a
// document and its injected copy) are near-duplicates; if they straddle
// train and test, the test figures measure memory, not generalisation.
// GroupSplits puts such rows in one group and every group in one split;
// LeakingShingles is the check (TestSplitsDoNotLeak runs it on
// data/injection).

// ShingleWords is the shingle length in words.
const ShingleWords = 8

// Shingles returns the distinct hashes of the ShingleWords-word windows of
// text, with words taken as runs of letters and digits, lower-cased (so
// punctuation, spacing and case do not hide a shared phrase). A text of
// fewer words has one shingle: all of its words.
func Shingles(text string) []uint64 {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) == 0 {
		return nil
	}
	n := len(words) - ShingleWords + 1
	if n < 1 {
		n = 1
	}
	seen := make(map[uint64]struct{}, n)
	out := make([]uint64, 0, n)
	for i := 0; i < n; i++ {
		h := fnv.New64a()
		for j := i; j < i+ShingleWords && j < len(words); j++ {
			h.Write([]byte(words[j]))
			h.Write([]byte{0})
		}
		s := h.Sum64()
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out
}

// SplitConfig tunes GroupSplits.
type SplitConfig struct {
	// MaxGroup bounds a group's size while shingles join rows: a link that
	// would make a larger group is not taken (the payloads of indirect
	// injections are shared across carriers, and carriers across payloads,
	// so unbounded joining makes one group of a third of the pool).
	// resolveLeaks then removes what the groups leave shared.
	MaxGroup int
	// Dev and Test are the shares of rows given to them.
	Dev, Test float64
	// MaxExclude: see resolveLeaks.
	MaxExclude float64
}

// DefaultSplitConfig is the configuration data/injection was split with.
func DefaultSplitConfig() SplitConfig {
	return SplitConfig{MaxGroup: 150, Dev: 0.1, Test: 0.1, MaxExclude: 1}
}

// Split names.
const (
	SplitTrain = "train"
	SplitDev   = "dev"
	SplitTest  = "test"
)

// GroupSplits assigns every row a split (train, dev, test or excluded) so
// that no shingle is shared by two of train, dev and test. Rows are joined
// into near-duplicate groups (NearDupGroups); groups go to splits
// stratified by kind (assignGroups); then the shingles a group still shares
// with other splits are resolved (resolveLeaks). It is deterministic for a
// given list of rows.
func GroupSplits(rows []Row, cfg SplitConfig) []string {
	g := nearDup(rows, cfg.MaxGroup)
	split := assignGroups(rows, g.find, g.rep, g.key, cfg)
	resolveLeaks(rows, g.sh, g.owners, g.find, split, cfg)
	return split
}

// NearDupGroups returns a group number per row: rows are joined through
// shared shingles, rarest shingle first (a phrase shared by two rows is
// stronger evidence of a near-duplicate than one shared by fifty), as long
// as a group stays within maxGroup rows. Cross-validation folds are made of
// these groups.
func NearDupGroups(rows []Row, maxGroup int) []int {
	g := nearDup(rows, maxGroup)
	out := make([]int, len(rows))
	for i := range out {
		out[i] = int(g.rep[g.find(int32(i))])
	}
	return out
}

type dupGroups struct {
	sh     [][]uint64
	owners map[uint64][]int32
	find   func(int32) int32
	rep    []int32 // per root: the member with the smallest key
	key    [][32]byte
}

func nearDup(rows []Row, maxGroup int) *dupGroups {
	n := len(rows)
	sh := make([][]uint64, n)
	owners := map[uint64][]int32{}
	for i, r := range rows {
		sh[i] = Shingles(r.Text)
		for _, s := range sh[i] {
			owners[s] = append(owners[s], int32(i))
		}
	}
	// shingles shared by 2+ rows, rarest first, ties by hash
	type link struct {
		s   uint64
		cnt int
	}
	var links []link
	for s, o := range owners {
		if len(o) > 1 {
			links = append(links, link{s, len(o)})
		}
	}
	sort.Slice(links, func(a, b int) bool {
		if links[a].cnt != links[b].cnt {
			return links[a].cnt < links[b].cnt
		}
		return links[a].s < links[b].s
	})
	parent := make([]int32, n)
	size := make([]int32, n)
	for i := range parent {
		parent[i], size[i] = int32(i), 1
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	// A row's identity for ordering is its text's hash.
	key := make([][32]byte, n)
	for i, r := range rows {
		key[i] = sha256.Sum256([]byte(r.Text))
	}
	less := func(a, b int32) bool { return string(key[a][:]) < string(key[b][:]) }
	for _, l := range links {
		o := append([]int32(nil), owners[l.s]...)
		sort.Slice(o, func(a, b int) bool { return less(o[a], o[b]) })
		for _, j := range o[1:] {
			a, b := find(o[0]), find(j)
			if a == b || int(size[a]+size[b]) > maxGroup {
				continue
			}
			if less(b, a) {
				a, b = b, a
			}
			parent[b] = a
			size[a] += size[b]
		}
	}
	rep := make([]int32, n)
	for i := range rep {
		rep[i] = -1
	}
	for i := int32(0); i < int32(n); i++ {
		r := find(i)
		if rep[r] < 0 || less(i, rep[r]) {
			rep[r] = i
		}
	}
	return &dupGroups{sh: sh, owners: owners, find: find, rep: rep, key: key}
}

// Leak is a shingle shared by rows of two splits.
type Leak struct {
	A, B int // row indices in the two slices given to LeakingShingles
}

// LeakingShingles returns the pairs of rows (one of a, one of b) that share
// a shingle, at most limit of them.
func LeakingShingles(a, b []Row, limit int) []Leak {
	idx := map[uint64]int{}
	for i, r := range a {
		for _, s := range Shingles(r.Text) {
			if _, ok := idx[s]; !ok {
				idx[s] = i
			}
		}
	}
	var out []Leak
	for j, r := range b {
		for _, s := range Shingles(r.Text) {
			if i, ok := idx[s]; ok {
				out = append(out, Leak{i, j})
				if len(out) >= limit {
					return out
				}
				break
			}
		}
	}
	return out
}

// assignGroups gives each group a split, stratified by the group's most
// common kind: within a stratum, groups in order of size (largest first,
// ties by the hash of their representative) go to the split furthest below
// its share of the stratum's rows, so that large template families do not
// make the split sizes a lottery.
func assignGroups(rows []Row, find func(int32) int32, rep []int32, key [][32]byte, cfg SplitConfig) []string {
	n := len(rows)
	members := map[int32][]int32{}
	for i := int32(0); i < int32(n); i++ {
		r := find(i)
		members[r] = append(members[r], i)
	}
	type group struct {
		root    int32
		size    int
		stratum string
		order   string
	}
	var groups []group
	for r, m := range members {
		kc := map[string]int{}
		for _, i := range m {
			kc[rows[i].Kind]++
		}
		best := ""
		for k, c := range kc {
			if best == "" || c > kc[best] || (c == kc[best] && k < best) {
				best = k
			}
		}
		h := sha256.Sum256(append([]byte("split:"), key[rep[r]][:]...))
		groups = append(groups, group{r, len(m), best, string(h[:])})
	}
	sort.Slice(groups, func(a, b int) bool {
		ga, gb := groups[a], groups[b]
		if ga.stratum != gb.stratum {
			return ga.stratum < gb.stratum
		}
		if ga.size != gb.size {
			return ga.size > gb.size
		}
		return ga.order < gb.order
	})
	names := []string{SplitTrain, SplitDev, SplitTest}
	share := []float64{1 - cfg.Dev - cfg.Test, cfg.Dev, cfg.Test}
	split := make([]string, n)
	var cnt [3]int
	total := 0
	stratum := ""
	for _, g := range groups {
		if g.stratum != stratum {
			stratum, cnt, total = g.stratum, [3]int{}, 0
		}
		total += g.size
		bs, bd := 0, -1e18
		for s := range names {
			if d := share[s]*float64(total) - float64(cnt[s]); d > bd {
				bs, bd = s, d
			}
		}
		cnt[bs] += g.size
		for _, i := range members[g.root] {
			split[i] = names[bs]
		}
	}
	return split
}

// SplitExcluded marks a row GroupSplits leaves out of every split.
const SplitExcluded = "excluded"

// resolveLeaks removes every shingle shared across splits. Groups of dev
// and test are visited largest first; a group whose rows share shingles
// with rows of other splits either takes those rows out of every split
// (when they are at most MaxExclude times as many as the group: a clean
// carrier and the copies of its payload elsewhere) or, when that would
// cost more, moves to train itself (a template family). Repeats until no
// shingle is shared.
func resolveLeaks(rows []Row, sh [][]uint64, owners map[uint64][]int32, find func(int32) int32, split []string, cfg SplitConfig) {
	n := len(rows)
	members := map[int32][]int32{}
	var roots []int32
	for i := int32(0); i < int32(n); i++ {
		r := find(i)
		if members[r] == nil {
			roots = append(roots, r)
		}
		members[r] = append(members[r], i)
	}
	sort.Slice(roots, func(a, b int) bool {
		if la, lb := len(members[roots[a]]), len(members[roots[b]]); la != lb {
			return la > lb
		}
		return roots[a] < roots[b]
	})
	for changed := true; changed; {
		changed = false
		for _, r := range roots {
			m := members[r]
			sp := ""
			for _, i := range m {
				if split[i] != SplitExcluded && split[i] != SplitTrain {
					sp = split[i]
				}
			}
			if sp == "" {
				continue
			}
			conf := map[int32]bool{}
			for _, i := range m {
				if split[i] != sp {
					continue
				}
				for _, s := range sh[i] {
					for _, j := range owners[s] {
						if split[j] != sp && split[j] != SplitExcluded {
							conf[j] = true
						}
					}
				}
			}
			if len(conf) == 0 {
				continue
			}
			changed = true
			if float64(len(conf)) <= cfg.MaxExclude*float64(len(m)) {
				for j := range conf {
					split[j] = SplitExcluded
				}
				continue
			}
			for _, i := range m {
				if split[i] == sp {
					split[i] = SplitTrain
				}
			}
		}
	}
}
