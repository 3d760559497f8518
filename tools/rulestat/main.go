// Command rulestat runs the detector over JSON lines {"text", "label",
// "kind", "role"} and prints, per kind, how many texts are flagged and
// which rules fired: the figures docs/DETECTION.md quotes for the rules of
// issue 20 (multilingual, task-drift and token-salad rules), on the train
// and dev splits only.
//
//	go run ./tools/rulestat [-role document] [-rule ID] FILE...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/rampart-ai/rampart/detect"
)

func main() {
	role := flag.String("role", "", "scan every text as this role (default: the line's role, else user)")
	rule := flag.String("rule", "", "print the texts (first 160 bytes) this rule fired on")
	flag.Parse()
	d, err := detect.New(detect.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	type stat struct{ n, flagged int }
	kinds := map[string]*stat{}
	hits := map[string]map[string]int{}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var row struct {
				Text  string `json:"text"`
				Label int    `json:"label"`
				Kind  string `json:"kind"`
				Role  string `json:"role"`
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				continue
			}
			r := row.Role
			if *role != "" {
				r = *role
			}
			dr, err := detect.ParseRole(r)
			if err != nil {
				continue
			}
			k := fmt.Sprintf("%d/%s/%s", row.Label, row.Kind, dr)
			if kinds[k] == nil {
				kinds[k], hits[k] = &stat{}, map[string]int{}
			}
			res := d.Scan(row.Text, dr)
			kinds[k].n++
			if res.Flagged {
				kinds[k].flagged++
			}
			seen := map[string]bool{}
			for _, fi := range res.Findings {
				if !seen[fi.Rule] {
					seen[fi.Rule] = true
					hits[k][fi.Rule]++
					if fi.Rule == *rule {
						t := row.Text
						if len(t) > 160 {
							t = t[:160]
						}
						fmt.Printf("%s %q\n", k, t)
					}
				}
			}
		}
		f.Close()
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		s := kinds[k]
		fmt.Printf("%-32s n=%5d flagged=%5d (%.1f%%)", k, s.n, s.flagged, 100*float64(s.flagged)/float64(s.n))
		var rs []string
		for r := range hits[k] {
			rs = append(rs, r)
		}
		sort.Strings(rs)
		for _, r := range rs {
			fmt.Printf(" %s=%d", r, hits[k][r])
		}
		fmt.Println()
	}
}
