// Command piibench generates rampart's seeded synthetic PII benchmark and
// scores PII findings against it, per entity (a finding counts when it
// overlaps a gold span of the same entity):
//
//	go run ./tools/piibench -seed 2 -n 2000                  # generate, scan in-process, score
//	go run ./tools/piibench gen -seed 2 -n 2000 > gold.jsonl  # the labelled texts
//	rampart scan --direction output --jsonl < gold.jsonl > pred.jsonl
//	go run ./tools/piibench score gold.jsonl pred.jsonl       # the same figures from the CLI's findings
//
// The in-process run builds the scanner exactly as `rampart scan` does
// (embedded default policy, or -policy FILE). -errors N prints N missed
// and N wrong spans per entity.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/pii/piigen"
	"github.com/rampart-ai/rampart/detect/scan"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	mode := "run"
	if len(args) > 0 && (args[0] == "gen" || args[0] == "score") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("piibench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Int64("seed", 2, "generator seed")
	n := fs.Int("n", 2000, "number of texts")
	policy := fs.String("policy", "", "rampart config file (default: the embedded defaults)")
	nerr := fs.Int("errors", 0, "print up to N misses and false positives per entity")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch mode {
	case "gen":
		w := bufio.NewWriter(stdout)
		enc := json.NewEncoder(w)
		for _, ex := range piigen.Generate(*seed, *n) {
			if err := enc.Encode(ex); err != nil {
				return 1
			}
		}
		if err := w.Flush(); err != nil {
			return 1
		}
		return 0
	case "score":
		if fs.NArg() != 2 {
			fmt.Fprintln(stderr, "usage: piibench score GOLD.jsonl PRED.jsonl")
			return 2
		}
		gold, err := readJSONL[piigen.Example](fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		pred, err := readJSONL[scan.Result](fs.Arg(1))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if len(gold) != len(pred) {
			fmt.Fprintf(stderr, "%d gold lines, %d predictions\n", len(gold), len(pred))
			return 1
		}
		report(stdout, gold, pred, *nerr)
		return 0
	}
	cfg, err := config.Load(*policy)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	sc, err := scan.FromConfig(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	gold := piigen.Generate(*seed, *n)
	pred := make([]scan.Result, len(gold))
	for i, ex := range gold {
		pred[i] = sc.Scan(scan.Item{Text: ex.Text}, scan.Output)
	}
	report(stdout, gold, pred, *nerr)
	return 0
}

func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, len(out)+1, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

type counts struct{ gold, found, pred, correct int }

// report prints precision and recall per entity. Only entities that the
// generator labels are scored; findings of other kinds (secrets, links)
// are ignored.
func report(w io.Writer, gold []piigen.Example, pred []scan.Result, nerr int) {
	labelled := map[string]bool{}
	for _, ex := range gold {
		for _, s := range ex.Spans {
			labelled[s.Entity] = true
		}
	}
	cs := map[string]*counts{}
	get := func(e string) *counts {
		if cs[e] == nil {
			cs[e] = &counts{}
		}
		return cs[e]
	}
	misses := map[string][]string{}
	wrong := map[string][]string{}
	for i, ex := range gold {
		runes := []rune(ex.Text)
		for _, s := range ex.Spans {
			c := get(s.Entity)
			c.gold++
			hit := false
			for _, f := range pred[i].Findings {
				if f.Entity == s.Entity && f.Start < s.End && s.Start < f.End {
					hit = true
				}
			}
			if hit {
				c.found++
			} else if len(misses[s.Entity]) < nerr {
				misses[s.Entity] = append(misses[s.Entity], fmt.Sprintf("%q in %q", s.Value, ex.Text))
			}
		}
		for _, f := range pred[i].Findings {
			if !labelled[f.Entity] {
				continue
			}
			c := get(f.Entity)
			c.pred++
			ok := false
			for _, s := range ex.Spans {
				if f.Entity == s.Entity && f.Start < s.End && s.Start < f.End {
					ok = true
				}
			}
			if ok {
				c.correct++
			} else if len(wrong[f.Entity]) < nerr {
				v := ""
				if f.Start >= 0 && f.End <= len(runes) && f.Start < f.End {
					v = string(runes[f.Start:f.End])
				}
				wrong[f.Entity] = append(wrong[f.Entity], fmt.Sprintf("%q in %q", v, ex.Text))
			}
		}
	}
	var es []string
	for e := range cs {
		es = append(es, e)
	}
	sort.Strings(es)
	fmt.Fprintf(w, "%-16s %6s %6s %9s %6s\n", "entity", "gold", "pred", "precision", "recall")
	for _, e := range es {
		c := cs[e]
		p, r := 1.0, 1.0
		if c.pred > 0 {
			p = float64(c.correct) / float64(c.pred)
		}
		if c.gold > 0 {
			r = float64(c.found) / float64(c.gold)
		}
		fmt.Fprintf(w, "%-16s %6d %6d %9.3f %6.3f\n", e, c.gold, c.pred, p, r)
	}
	for _, e := range es {
		for _, m := range misses[e] {
			fmt.Fprintf(w, "MISS %s %s\n", e, m)
		}
		for _, m := range wrong[e] {
			fmt.Fprintf(w, "FP   %s %s\n", e, m)
		}
	}
}
