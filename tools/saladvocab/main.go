// Command saladvocab writes the word list the token-salad check uses
// (detect/saladvocab.txt): the lower-case ASCII words of 3 to 20 letters
// that occur at least -min times in the benign rows of the train split.
//
//	go run ./tools/saladvocab [-data data/injection] [-out detect/saladvocab.txt]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	data := flag.String("data", "data/injection", "dataset directory (train.jsonl)")
	out := flag.String("out", "detect/saladvocab.txt", "word list to write")
	minCount := flag.Int("min", 3, "minimum occurrences")
	flag.Parse()
	f, err := os.Open(filepath.Join(*data, "train.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r struct {
			Text  string `json:"text"`
			Label int    `json:"label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if r.Label != 0 {
			continue
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(r.Text), func(c rune) bool { return c < 'a' || c > 'z' }) {
			if len(w) >= 3 && len(w) <= 20 {
				counts[w]++
			}
		}
	}
	var words []string
	for w, n := range counts {
		if n >= *minCount {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	if err := os.WriteFile(*out, []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d words\n", len(words))
}
