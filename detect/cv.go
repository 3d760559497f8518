package detect

import (
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"strings"

	"github.com/rampart-ai/rampart/detect/model"
	"github.com/rampart-ai/rampart/detect/rules"
)

func foldOf(key string, k int) int {
	h := fnv.New32a()
	io.WriteString(h, key)
	return int(h.Sum32() % uint32(k))
}

// scoredRow is an out-of-fold calibrated score.
type scoredRow struct {
	score  float64
	label  float64
	kind   string
	source string
}

// CrossValidate estimates the whole training procedure (model, stacker and
// thresholds, all fitted inside the training folds only) by group k-fold
// cross-validation over rows, and writes recall / FPR per kind at the
// thresholds each fold chose. The dev and test splits are not involved.
func CrossValidate(w io.Writer, rows []Row, cfg TrainConfig, k int, logf func(string, ...any)) error {
	return CrossValidateBy(w, rows, FoldKeys(rows), cfg, k, logf)
}

// SourceKeys returns each row's source as its cross-validation group:
// folds then hold out whole collections (every row of a public dataset
// together), the nearest this pool has to "attack families and carriers
// nobody trained on".
func SourceKeys(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		// "owner/repo:path": the repository is the collection
		out[i], _, _ = strings.Cut(r.Source, ":")
	}
	return out
}

// CrossValidateBy is CrossValidate with the groups keys (one per row;
// rows with one key share a fold).
func CrossValidateBy(w io.Writer, rows []Row, keys []string, cfg TrainConfig, k int, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	type cnt struct{ n, flagged int }
	kinds := map[string]*cnt{}
	labels := map[string]float64{}
	var all []scoredRow
	// threshold targets tried on each fold's inner pools (user-role and
	// document negatives), and what they give on the held-out fold
	targets := []struct {
		untrusted bool
		q         float64
	}{{false, 0.01}, {false, 0.015}, {false, 0.02}, {false, 0.03},
		{true, 0.03}, {true, 0.02}, {true, 0.015}, {true, 0.01}, {true, 0.0075}, {true, 0.005}}
	type tgtCnt struct{ neg, fp, pos, tp int }
	tgtFold := make([][]tgtCnt, k)
	for f := 0; f < k; f++ {
		var in, out []Row
		for i, r := range rows {
			if foldOf(keys[i], k) == f {
				out = append(out, r)
			} else {
				in = append(in, r)
			}
		}
		m, pools, err := trainPools(in, nil, cfg, nil)
		if err != nil {
			return err
		}
		rs, err := rules.Default()
		if err != nil {
			return err
		}
		d, err := NewWith(m, rs, Options{})
		if err != nil {
			return err
		}
		for _, r := range out {
			res := d.Scan(r.Text, RoleForKind(r.Kind))
			fl := res.Flagged || res.SpecialToken
			c := kinds[r.Kind]
			if c == nil {
				c = &cnt{}
				kinds[r.Kind] = c
			}
			c.n++
			if fl {
				c.flagged++
			}
			labels[r.Kind] = float64(r.Label)
			all = append(all, scoredRow{res.Score, float64(r.Label), r.Kind, r.Source})
		}
		tgtFold[f] = make([]tgtCnt, len(targets))
		for ti, tg := range targets {
			mq, err := model.Unmarshal(m.Marshal())
			if err != nil {
				return err
			}
			role := RoleUser
			if tg.untrusted {
				role = RoleDocument
				mq.UntrustedThreshold = float32(thresholdAt(append([]float64(nil), pools.doc...), tg.q))
			} else {
				mq.UserThreshold = float32(thresholdAt(append([]float64(nil), pools.user...), tg.q))
			}
			dq, err := NewWith(mq, rs, Options{})
			if err != nil {
				return err
			}
			for _, r := range out {
				if RoleForKind(r.Kind).Untrusted() != tg.untrusted || r.Kind == "harmful" {
					continue
				}
				res := dq.Scan(r.Text, role)
				fl := res.Flagged || res.SpecialToken
				c := &tgtFold[f][ti]
				if r.Label == 1 {
					c.pos++
					if fl {
						c.tp++
					}
				} else {
					c.neg++
					if fl {
						c.fp++
					}
				}
			}
		}
		logf("cv fold %d/%d: thresholds user %.3f untrusted %.3f", f+1, k, m.UserThreshold, m.UntrustedThreshold)
	}
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	var tp, pos int
	for _, n := range names {
		c := kinds[n]
		what := "FPR"
		if labels[n] == 1 {
			what = "recall"
			tp += c.flagged
			pos += c.n
		}
		fmt.Fprintf(w, "  %-14s %5d  %6.2f%% (%s)\n", n, c.n, 100*float64(c.flagged)/float64(c.n), what)
	}
	fmt.Fprintf(w, "  attack recall %.2f%%  ROC AUC user %.4f  untrusted %.4f\n", 100*float64(tp)/float64(max(pos, 1)),
		auc(all, false), auc(all, true))
	fmt.Fprintf(w, "  pooled out-of-fold scores: user recall at 1%% FPR %.2f%%, document recall at 3%% FPR %.2f%%\n",
		100*recallAt(all, false, 0.01), 100*recallAt(all, true, 0.03))
	fmt.Fprintf(w, "  threshold at a target FPR of each fold's inner pool -> held-out folds (all checks; harmful left out):\n")
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	for ti, tg := range targets {
		var c tgtCnt
		for f := range tgtFold {
			c.neg += tgtFold[f][ti].neg
			c.fp += tgtFold[f][ti].fp
			c.pos += tgtFold[f][ti].pos
			c.tp += tgtFold[f][ti].tp
		}
		role := "user    "
		if tg.untrusted {
			role = "document"
		}
		fmt.Fprintf(w, "    %s target %5.2f%%: FPR %6.2f%% of %d, recall %6.2f%% of %d; FPR per fold", role, 100*tg.q, pct(c.fp, c.neg), c.neg, pct(c.tp, c.pos), c.pos)
		for f := range tgtFold {
			fmt.Fprintf(w, " %.1f%%", pct(tgtFold[f][ti].fp, tgtFold[f][ti].neg))
		}
		fmt.Fprintln(w)
	}
	equalFPR(w, all)
	return nil
}

// equalFPR writes, at the pooled thresholds of recallAt (1% of user-role
// negatives, 3% of documents), the recall of each attack kind and the
// false-positive rate of each kind of negatives, and of each kind and
// source repository.
func equalFPR(w io.Writer, rows []scoredRow) {
	thr := map[bool]float64{}
	for _, u := range []bool{false, true} {
		fpr := 0.01
		if u {
			fpr = 0.03
		}
		var neg []float64
		for _, r := range rows {
			if RoleForKind(r.kind).Untrusted() == u && r.kind != "harmful" && r.label == 0 {
				neg = append(neg, r.score)
			}
		}
		thr[u] = thresholdAt(neg, fpr)
	}
	type cnt struct{ n, hit int }
	byKind, bySource := map[string]*cnt{}, map[string]*cnt{}
	add := func(m map[string]*cnt, k string, hit bool) {
		c := m[k]
		if c == nil {
			c = &cnt{}
			m[k] = c
		}
		c.n++
		if hit {
			c.hit++
		}
	}
	for _, r := range rows {
		hit := r.score >= thr[RoleForKind(r.kind).Untrusted()]
		add(byKind, r.kind, hit)
		if r.label == 0 {
			repo, _, _ := strings.Cut(r.source, ":")
			add(bySource, r.kind+" "+repo, hit)
		}
	}
	fmt.Fprintf(w, "  at equal FPR (user threshold %.4f, document %.4f):\n", thr[false], thr[true])
	for _, m := range []map[string]*cnt{byKind, bySource} {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c := m[n]
			fmt.Fprintf(w, "    %-60s %5d  %6.2f%%\n", n, c.n, 100*float64(c.hit)/float64(c.n))
		}
	}
}

// recallAt is the recall of the pooled out-of-fold scores of one role
// (harmful requests left out) at the threshold that flags at most fpr of
// its negatives: models compared at equal false-positive rate.
func recallAt(rows []scoredRow, untrusted bool, fpr float64) float64 {
	var neg []float64
	for _, r := range rows {
		if RoleForKind(r.kind).Untrusted() == untrusted && r.kind != "harmful" && r.label == 0 {
			neg = append(neg, r.score)
		}
	}
	t := thresholdAt(neg, fpr)
	var tp, n int
	for _, r := range rows {
		if RoleForKind(r.kind).Untrusted() == untrusted && r.label == 1 {
			n++
			if r.score >= t {
				tp++
			}
		}
	}
	return float64(tp) / float64(max(n, 1))
}

// FoldKeys returns the cross-validation group of each row: rows of one
// near-duplicate group (NearDupGroups, groups of at most 150 rows) share a
// key and so a fold. Unlike the splits, folds are not purged of the
// shingles that larger families (one payload in many carriers) share
// across groups.
func FoldKeys(rows []Row) []string {
	g := NearDupGroups(rows, DefaultSplitConfig().MaxGroup)
	out := make([]string, len(rows))
	for i := range rows {
		out[i] = rows[g[i]].Text
	}
	return out
}

// auc is the ROC AUC of the out-of-fold scores of user-role rows (excluding
// harmful requests) or of untrusted rows.
func auc(rows []scoredRow, untrusted bool) float64 {
	var pos, neg []float64
	for _, r := range rows {
		if RoleForKind(r.kind).Untrusted() != untrusted || r.kind == "harmful" {
			continue
		}
		if r.label == 1 {
			pos = append(pos, r.score)
		} else {
			neg = append(neg, r.score)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return 0
	}
	sort.Float64s(neg)
	var s float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(neg, p)
		hi := sort.Search(len(neg), func(i int) bool { return neg[i] > p })
		s += float64(lo) + 0.5*float64(hi-lo)
	}
	return s / float64(len(pos)*len(neg))
}
