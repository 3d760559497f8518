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
	register("eval", "measure the injection detector on labelled JSON-lines splits", runEval)
}

func runEval(env *Env) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	data := fs.String("data", "data/injection", "directory holding <split>.jsonl files")
	splits := fs.String("split", "dev,test", "comma-separated splits to evaluate")
	policy := fs.String("policy", "", "rampart config file whose layers.injection section sets thresholds")
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
		evalSplit(env.Stdout, sp, d, rows)
	}
	return 0
}

type evalCount struct{ n, flagged int }

func evalSplit(w io.Writer, name string, d *detect.Detector, rows []detect.Row) {
	var tp, fp, tn, fn int
	kinds := map[string]*evalCount{}
	labels := map[string]int{}
	scores := make([]float64, len(rows))
	for i, r := range rows {
		res := d.Scan(r.Text, detect.RoleForKind(r.Kind))
		scores[i] = res.Score
		flagged := res.Flagged || res.SpecialToken
		c := kinds[r.Kind]
		if c == nil {
			c = &evalCount{}
			kinds[r.Kind] = c
		}
		labels[r.Kind] = r.Label
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
	fmt.Fprintf(w, "  %-14s %5s %5s %8s\n", "kind", "label", "rows", "flagged")
	for _, k := range names {
		c := kinds[k]
		metric := "recall"
		if labels[k] == 0 {
			metric = "FPR"
		}
		fmt.Fprintf(w, "  %-14s %5d %5d %7.2f%% (%s)\n", k, labels[k], c.n, pct(c.flagged, c.n), metric)
	}
	fmt.Fprintln(w)
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
