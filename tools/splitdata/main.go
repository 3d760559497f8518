// Command splitdata copies the shared injection pool into data/injection
// with honest splits:
//
//	go run ./tools/splitdata -src ../shared/datasets/injection
//
// The pool's rows (its train, dev and test files together) are regrouped by
// detect.GroupSplits: rows sharing an 8-word shingle are one group, and a
// group never straddles train, dev and test. Lines are copied byte for byte,
// in the pool's order (its train rows, then dev, then test). The pool's
// licence texts are copied to data/injection/LICENSES. It prints the counts
// per split and kind and how many rows changed split.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/rampart-ai/rampart/detect"
)

func main() {
	src := flag.String("src", "../shared/datasets/injection", "pool directory (train.jsonl, dev.jsonl, test.jsonl)")
	dst := flag.String("dst", "data/injection", "output directory")
	flag.Parse()
	if err := run(*src, *dst); err != nil {
		fmt.Fprintln(os.Stderr, "splitdata:", err)
		os.Exit(1)
	}
}

func run(src, dst string) error {
	var rows []detect.Row
	var lines [][]byte
	var orig []string
	for _, sp := range []string{detect.SplitTrain, detect.SplitDev, detect.SplitTest} {
		b, err := os.ReadFile(filepath.Join(src, sp+".jsonl"))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			var r detect.Row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("%s: %w", sp, err)
			}
			rows = append(rows, r)
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
			orig = append(orig, sp)
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	split := detect.GroupSplits(rows, detect.DefaultSplitConfig())
	out := map[string]*bytes.Buffer{}
	type key struct{ split, kind string }
	counts := map[key]int{}
	moved := map[[2]string]int{}
	for i := range rows {
		if out[split[i]] == nil {
			out[split[i]] = new(bytes.Buffer)
		}
		out[split[i]].Write(lines[i])
		out[split[i]].WriteByte('\n')
		counts[key{split[i], rows[i].Kind}]++
		if split[i] != orig[i] {
			moved[[2]string{orig[i], split[i]}]++
		}
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, sp := range []string{detect.SplitTrain, detect.SplitDev, detect.SplitTest, detect.SplitExcluded} {
		if out[sp] == nil {
			out[sp] = new(bytes.Buffer)
		}
		if err := os.WriteFile(filepath.Join(dst, sp+".jsonl"), out[sp].Bytes(), 0o644); err != nil {
			return err
		}
	}
	lic, err := filepath.Glob(filepath.Join(src, "..", "LICENSES", "*.txt"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dst, "LICENSES"), 0o755); err != nil {
		return err
	}
	for _, f := range lic {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, "LICENSES", filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	kinds := []string{"direct", "jailbreak", "extraction", "indirect", "benign", "hard_negative", "document", "harmful"}
	fmt.Printf("| split | rows |")
	for _, k := range kinds {
		fmt.Printf(" %s |", k)
	}
	fmt.Println()
	for _, sp := range []string{detect.SplitTrain, detect.SplitDev, detect.SplitTest, detect.SplitExcluded} {
		tot := 0
		for _, k := range kinds {
			tot += counts[key{sp, k}]
		}
		fmt.Printf("| %s | %d |", sp, tot)
		for _, k := range kinds {
			fmt.Printf(" %d |", counts[key{sp, k}])
		}
		fmt.Println()
	}
	var mv []string
	for k, n := range moved {
		mv = append(mv, fmt.Sprintf("%s -> %s: %d", k[0], k[1], n))
	}
	sort.Strings(mv)
	fmt.Println("rows that changed split (pool split -> new split):")
	for _, s := range mv {
		fmt.Println("  " + s)
	}
	return nil
}
