// Command saladvocab writes the word list the token-salad check uses
// (detect/saladvocab.txt): the lower-case ASCII words of 3 to 20 letters
// that occur at least -min times in the benign rows of the train split.
//
//	go run ./tools/saladvocab [-data data/injection] [-out detect/saladvocab.txt]
//
// With -pairs it also writes the word-pair table of the word-salad check
// (detect/saladbigrams.bin): a bit set of detect.PairTableBits bits in
// which the pairs of adjacent content words (no function word, lower-case
// ASCII letters, separated by one space) of benign English text are set,
// hashed with detect.PairHash. That text is the same benign rows and the
// glosses of WordNet 3.0 (Debian's wordnet-base, Princeton's licence,
// detect/model/LICENSE-WORDNET):
//
//	go run ./tools/saladvocab -pairs detect/saladbigrams.bin [-wordnet /usr/share/wordnet]
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

	"github.com/rampart-ai/rampart/detect"
)

func main() {
	data := flag.String("data", "data/injection", "dataset directory (train.jsonl)")
	out := flag.String("out", "detect/saladvocab.txt", "word list to write")
	minCount := flag.Int("min", 3, "minimum occurrences")
	pairsOut := flag.String("pairs", "", "also write the word-pair table to this file")
	wn := flag.String("wordnet", "/usr/share/wordnet", "WordNet database directory (data.noun, data.verb, ...), with -pairs")
	flag.Parse()
	var pairs *pairSet
	if *pairsOut != "" {
		pairs = &pairSet{bits: make([]byte, detect.PairTableBits/8)}
	}
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
		if pairs != nil {
			for _, line := range strings.FieldsFunc(r.Text, func(c rune) bool { return c == '\n' || c == '\t' || c == '\r' }) {
				pairs.add(line)
			}
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
	if pairs != nil {
		if err := pairs.addWordNet(*wn); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(*pairsOut, pairs.bits, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%d word pairs (%.1f%% of the bits)\n", pairs.n, 100*float64(pairs.n)/float64(detect.PairTableBits))
	}
}

// pairSet is the word-pair table being built.
type pairSet struct {
	bits []byte
	n    int // bits set
}

// add sets the pairs of adjacent content words of one line of text.
func (p *pairSet) add(text string) {
	prev := ""
	for _, w := range strings.Split(strings.ToLower(text), " ") {
		ok := len(w) >= 2 && len(w) <= 20
		for i := 0; ok && i < len(w); i++ {
			ok = w[i] >= 'a' && w[i] <= 'z'
		}
		if !ok || detect.FunctionWord(w) {
			prev = ""
			continue
		}
		if prev != "" {
			h := detect.PairHash(prev, w)
			if p.bits[h/8]&(1<<(h%8)) == 0 {
				p.n++
			}
			p.bits[h/8] |= 1 << (h % 8)
		}
		prev = w
	}
}

// addWordNet adds the glosses and examples of WordNet's data files.
func (p *pairSet) addWordNet(dir string) error {
	marks := strings.NewReplacer(";", " ", "\"", " ", "(", " ", ")", " ", ",", " ", ".", " ")
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		g, err := os.Open(filepath.Join(dir, "data."+pos))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(g)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "  ") {
				continue // licence header
			}
			if i := strings.Index(line, "| "); i >= 0 {
				p.add(marks.Replace(line[i+2:]))
			}
		}
		g.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	return nil
}
