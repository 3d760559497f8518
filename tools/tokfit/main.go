// Command tokfit fits the weights of detect/tokens.Estimate and measures
// its error. It counts every text of the fitting corpus exactly (tiktoken's
// cl100k_base and o200k_base, detect/tokens.CountEncoding), fits the
// per-feature weights by least squares on the relative error, and prints
// them with the error of the current Estimate on each evaluation corpus.
//
//	go run ./tools/tokfit -fit data/injection/train.jsonl \
//	    -eval data/injection/dev.jsonl -eval-files 'docs/*.md' -eval-files '*/*.go'
//
// Never pass the test split: it is kept for the detector's final figures.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/tokens"
)

type sample struct {
	text  string
	exact [2]int // cl100k, o200k
	f     [tokens.NumFeatures]float64
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	fit := flag.String("fit", "", "JSONL corpus (a \"text\" field per line) to fit the weights on")
	var evals, files multi
	flag.Var(&evals, "eval", "JSONL corpus to measure the error on (repeatable)")
	flag.Var(&files, "eval-files", "glob of files, each one text, to measure the error on (repeatable)")
	flag.Parse()
	if *fit != "" {
		s, err := loadJSONL(*fit)
		if err != nil {
			fail(err)
		}
		for enc := 0; enc < 2; enc++ {
			w := solve(s, enc)
			fmt.Printf("fitted on %s (%d texts), %s: %s\n", *fit, len(s), []string{tokens.CL100K, tokens.O200K}[enc], fmtWeights(w))
		}
		w := solve(s, -1)
		fmt.Printf("fitted on %s, both encodings: %s\n", *fit, fmtWeights(w))
		report(*fit+" (fit)", s)
	}
	for _, e := range evals {
		s, err := loadJSONL(e)
		if err != nil {
			fail(err)
		}
		report(e, s)
	}
	for _, g := range files {
		paths, err := filepath.Glob(g)
		if err != nil {
			fail(err)
		}
		var s []sample
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				fail(err)
			}
			s = append(s, newSample(string(b)))
		}
		report(g, s)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tokfit:", err)
	os.Exit(1)
}

func newSample(text string) sample {
	s := sample{text: text, f: tokens.Features(text)}
	for i, enc := range []string{tokens.CL100K, tokens.O200K} {
		n, err := tokens.CountEncoding(enc, text)
		if err != nil {
			fail(err)
		}
		s.exact[i] = n
	}
	return s
}

func loadJSONL(path string) ([]sample, error) {
	rows, err := detect.ReadRows(path)
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, r := range rows {
		if r.Text != "" {
			out = append(out, newSample(r.Text))
		}
	}
	return out, nil
}

// solve fits weights minimising Σ((w·f − exact)/exact)² for one encoding
// (enc 0 or 1) or both (−1), by the normal equations.
func solve(s []sample, enc int) [tokens.NumFeatures]float64 {
	const n = tokens.NumFeatures
	var a [n][n + 1]float64
	for _, x := range s {
		for e := 0; e < 2; e++ {
			if enc >= 0 && e != enc {
				continue
			}
			y := float64(x.exact[e])
			if y == 0 {
				continue
			}
			wt := 1 / (y * y)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					a[i][j] += wt * x.f[i] * x.f[j]
				}
				a[i][n] += wt * x.f[i] * y
			}
		}
	}
	for i := 0; i < n; i++ {
		a[i][i] += 1e-9 // a feature absent from the corpus gets weight 0
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := 0; r < n; r++ {
			if r == c || a[c][c] == 0 {
				continue
			}
			k := a[r][c] / a[c][c]
			for j := c; j <= n; j++ {
				a[r][j] -= k * a[c][j]
			}
		}
	}
	var w [n]float64
	for i := 0; i < n; i++ {
		if a[i][i] != 0 {
			w[i] = a[i][n] / a[i][i]
		}
	}
	return w
}

func fmtWeights(w [tokens.NumFeatures]float64) string {
	names := []string{"words", "longTail", "digits", "punct", "punctRuns", "breaks", "spaceRuns", "cjk", "otherRune", "upperInner", "switches"}
	var b strings.Builder
	for i, v := range w {
		fmt.Fprintf(&b, "%s=%.3f ", names[i], v)
	}
	return b.String()
}

// model names a model of each encoding, for Estimate.
var model = [2]string{"gpt-4", "gpt-4o"}

// report prints the current Estimate's error on s: per text (relative,
// for texts of at least 20 tokens) and over the whole corpus; and, for
// comparison, the error of the rule of thumb bytes/4.
func report(name string, s []sample) {
	for e, enc := range []string{tokens.CL100K, tokens.O200K} {
		reportOne(name, enc, s, e, func(text string) int { return tokens.Estimate(model[e], text) })
	}
	reportOne(name+" [bytes/4]", tokens.CL100K, s, 0, func(text string) int { return (len(text) + 3) / 4 })
}

func reportOne(name, enc string, s []sample, e int, estimate func(string) int) {
	{
		var errs []float64
		var sumEst, sumExact, short int
		for _, x := range s {
			est := estimate(x.text)
			sumEst += est
			sumExact += x.exact[e]
			if x.exact[e] < 20 {
				short++
				continue
			}
			errs = append(errs, float64(est-x.exact[e])/float64(x.exact[e]))
		}
		sort.Float64s(errs)
		abs := make([]float64, len(errs))
		var mean float64
		for i, v := range errs {
			abs[i] = math.Abs(v)
			mean += abs[i]
		}
		sort.Float64s(abs)
		q := func(p float64) float64 {
			if len(abs) == 0 {
				return 0
			}
			return 100 * abs[min(len(abs)-1, int(p*float64(len(abs))))]
		}
		lo, hi := 0.0, 0.0
		if len(errs) > 0 {
			lo, hi, mean = 100*errs[0], 100*errs[len(errs)-1], 100*mean/float64(len(errs))
		}
		fmt.Printf("%s, %s: %d texts (%d under 20 tokens left out of the per-text figures); total %d tokens, estimate %+.1f%%; "+
			"per text |error| mean %.1f%%, p50 %.1f%%, p90 %.1f%%, p99 %.1f%%, max %.1f%% (range %+.1f%% … %+.1f%%)\n",
			name, enc, len(s), short, sumExact, 100*float64(sumEst-sumExact)/float64(max(sumExact, 1)),
			mean, q(0.5), q(0.9), q(0.99), abs[len(abs)-1]*100, lo, hi)
	}
}
