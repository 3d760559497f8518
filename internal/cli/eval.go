package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rampart-ai/rampart/detect"
)

func init() {
	register("eval", "measure the injection detector on labelled JSON-lines splits or a file of your own", runEval)
}

func runEval(env *Env) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	data := fs.String("data", "data/injection", "directory holding <split>.jsonl files")
	splits := fs.String("split", "dev,test", "comma-separated splits to evaluate")
	policy := fs.String("policy", "", "rampart config file whose layers.injection section sets thresholds")
	file := fs.String("file", "", "evaluate this JSON-lines file instead of the splits: one object per line with text, label (1 attack, 0 not), optional role (user, system, assistant, document, tool) and optional kind")
	bySource := fs.Bool("by-source", false, "also print the flag rate per source repository and label (the source field's owner/repo of the carrier)")
	worst := fs.Int("worst", 5, "with --file: how many of the worst misses and false alarms to print")
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	opt, err := scanOptions(*policy)
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart eval:", err)
		return 2
	}
	d, err := detect.New(opt)
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart eval:", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "thresholds: user %.4f, untrusted (document/tool) %.4f; rows of kind document and indirect are scanned as role document\n\n",
		d.Threshold(detect.RoleUser), d.Threshold(detect.RoleDocument))
	if *file != "" {
		rows, err := detect.ReadRows(*file)
		if err != nil {
			fmt.Fprintln(env.Stderr, "rampart eval:", err)
			return 1
		}
		for i, r := range rows {
			if _, err := detect.ParseRole(r.Role); err != nil {
				fmt.Fprintf(env.Stderr, "rampart eval: line %d: %v\n", i+1, err)
				return 2
			}
		}
		res := evalSplit(env.Stdout, filepath.Base(*file), d, rows)
		if *bySource {
			printBySource(env.Stdout, rows, res)
		}
		printWorst(env.Stdout, rows, res, *worst)
		return 0
	}
	for _, sp := range strings.Split(*splits, ",") {
		sp = strings.TrimSpace(sp)
		if sp == "" {
			continue
		}
		rows, err := detect.ReadRows(filepath.Join(*data, sp+".jsonl"))
		if err != nil {
			fmt.Fprintln(env.Stderr, "rampart eval:", err)
			return 1
		}
		res := evalSplit(env.Stdout, sp, d, rows)
		if *bySource {
			printBySource(env.Stdout, rows, res)
		}
	}
	return 0
}

type evalCount struct{ n, flagged int }

// rowRole is the role a row is scanned as: its role field, else by kind.
func rowRole(r detect.Row) detect.Role {
	if r.Role != "" {
		if role, err := detect.ParseRole(r.Role); err == nil {
			return role
		}
	}
	return detect.RoleForKind(r.Kind)
}

// rowKind is the kind a row is counted under: its kind field, else its
// role and label.
func rowKind(r detect.Row) string {
	if r.Kind != "" {
		return r.Kind
	}
	what := "benign"
	if r.Label == 1 {
		what = "attack"
	}
	return string(rowRole(r)) + "/" + what
}

func evalSplit(w io.Writer, name string, d *detect.Detector, rows []detect.Row) []detect.Result {
	results := make([]detect.Result, len(rows))
	var tp, fp, tn, fn int
	kinds := map[string]*evalCount{}
	labels := map[string]int{}
	scores := make([]float64, len(rows))
	for i, r := range rows {
		res := d.Scan(r.Text, rowRole(r))
		results[i] = res
		scores[i] = res.Score
		flagged := res.Flagged || res.SpecialToken
		kind := rowKind(r)
		c := kinds[kind]
		if c == nil {
			c = &evalCount{}
			kinds[kind] = c
		}
		labels[kind] = r.Label
		c.n++
		if flagged {
			c.flagged++
		}
		switch {
		case r.Label == 1 && flagged:
			tp++
		case r.Label == 1:
			fn++
		case flagged:
			fp++
		default:
			tn++
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	fmt.Fprintf(w, "split %s: %d rows\n", name, len(rows))
	fmt.Fprintf(w, "  accuracy %.2f%%  precision %.2f%%  recall %.2f%%  FPR %.2f%%  ROC AUC %.4f\n",
		pct(tp+tn, len(rows)), pct(tp, tp+fp), pct(tp, tp+fn), pct(fp, fp+tn), rocAUC(rows, scores))
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if labels[names[i]] != labels[names[j]] {
			return labels[names[i]] > labels[names[j]]
		}
		return names[i] < names[j]
	})
	fmt.Fprintf(w, "  %-16s %5s %5s %8s\n", "kind", "label", "rows", "flagged")
	for _, k := range names {
		c := kinds[k]
		metric := "recall"
		if labels[k] == 0 {
			metric = "FPR"
		}
		fmt.Fprintf(w, "  %-16s %5d %5d %7.2f%% (%s)\n", k, labels[k], c.n, pct(c.flagged, c.n), metric)
	}
	fmt.Fprintln(w)
	return results
}

// printBySource prints the flag rate per source repository (of the
// carrier, for combined rows) and label.
func printBySource(w io.Writer, rows []detect.Row, res []detect.Result) {
	type key struct {
		src   string
		label int
	}
	cnt := map[key]*evalCount{}
	for i, r := range rows {
		src := r.Source
		if j := strings.IndexAny(src, ":+"); j >= 0 {
			src = src[:j]
		}
		if src == "" {
			src = "(none)"
		}
		k := key{src, r.Label}
		if cnt[k] == nil {
			cnt[k] = &evalCount{}
		}
		cnt[k].n++
		if res[i].Flagged || res[i].SpecialToken {
			cnt[k].flagged++
		}
	}
	keys := make([]key, 0, len(cnt))
	for k := range cnt {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].label != keys[b].label {
			return keys[a].label > keys[b].label
		}
		return keys[a].src < keys[b].src
	})
	fmt.Fprintf(w, "  %-40s %5s %5s %8s\n", "source", "label", "rows", "flagged")
	for _, k := range keys {
		c := cnt[k]
		fmt.Fprintf(w, "  %-40s %5d %5d %7.2f%%\n", k.src, k.label, c.n, 100*float64(c.flagged)/float64(c.n))
	}
	fmt.Fprintln(w)
}

// printWorst prints the n missed attacks with the lowest scores and the n
// flagged non-attacks with the highest, with their line numbers and the
// start of their text.
func printWorst(w io.Writer, rows []detect.Row, res []detect.Result, n int) {
	var miss, fa []int
	for i, r := range rows {
		flagged := res[i].Flagged || res[i].SpecialToken
		switch {
		case r.Label == 1 && !flagged:
			miss = append(miss, i)
		case r.Label == 0 && flagged:
			fa = append(fa, i)
		}
	}
	sort.SliceStable(miss, func(a, b int) bool { return res[miss[a]].Score < res[miss[b]].Score })
	sort.SliceStable(fa, func(a, b int) bool { return res[fa[a]].Score > res[fa[b]].Score })
	show := func(title string, idx []int) {
		fmt.Fprintf(w, "%s (%d):\n", title, len(idx))
		for _, i := range idx[:min(n, len(idx))] {
			fmt.Fprintf(w, "  line %d  %-14s score %.3f (threshold %.3f)  %q\n", i+1, rowKind(rows[i]), res[i].Score, res[i].Threshold, excerpt(rows[i].Text, 100))
		}
	}
	show("worst misses (attacks not flagged, lowest score first)", miss)
	show("worst false alarms (non-attacks flagged, highest score first)", fa)
}

// excerpt is the first n runes of s on one line.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// rocAUC is the probability that a random attack scores above a random
// non-attack (ties count half).
func rocAUC(rows []detect.Row, scores []float64) float64 {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // 1-based average rank of the tie group
		for k := i; k < j; k++ {
			if rows[idx[k]].Label == 1 {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
