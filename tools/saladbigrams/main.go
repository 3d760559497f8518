// Command saladbigrams writes the word-pair table of the word-salad check
// (detect/saladbigrams.bin): a bit set of 2^22 bits in which the pairs of
// adjacent content words (no function word, lower-case ASCII letters,
// separated by one space) of benign English text are set, hashed with
// detect.PairHash. The text is the benign rows of the train split and the
// glosses and examples of WordNet 3.0 (Debian's wordnet-base, Princeton's
// licence, detect/model/LICENSE-WORDNET).
//
//	go run ./tools/saladbigrams [-data data/injection] [-wordnet /usr/share/wordnet] [-out detect/saladbigrams.bin]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rampart-ai/rampart/detect"
)

func main() {
	data := flag.String("data", "data/injection", "dataset directory (train.jsonl)")
	wn := flag.String("wordnet", "/usr/share/wordnet", "WordNet database directory (data.noun, data.verb, ...)")
	out := flag.String("out", "detect/saladbigrams.bin", "table to write")
	flag.Parse()
	bits := make([]byte, detect.PairTableBits/8)
	pairs := 0
	add := func(text string) {
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
				if bits[h/8]&(1<<(h%8)) == 0 {
					pairs++
				}
				bits[h/8] |= 1 << (h % 8)
			}
			prev = w
		}
	}
	f, err := os.Open(filepath.Join(*data, "train.jsonl"))
	check(err)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r struct {
			Text  string `json:"text"`
			Label int    `json:"label"`
		}
		check(json.Unmarshal(sc.Bytes(), &r))
		if r.Label == 0 {
			for _, line := range strings.FieldsFunc(r.Text, func(c rune) bool { return c == '\n' || c == '\t' || c == '\r' }) {
				add(line)
			}
		}
	}
	f.Close()
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		g, err := os.Open(filepath.Join(*wn, "data."+pos))
		check(err)
		sc := bufio.NewScanner(g)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "  ") {
				continue // licence header
			}
			if i := strings.Index(line, "| "); i >= 0 {
				gloss := strings.NewReplacer(";", " ", "\"", " ", "(", " ", ")", " ", ",", " ", ".", " ").Replace(line[i+2:])
				add(gloss)
			}
		}
		g.Close()
	}
	set := 0
	for _, b := range bits {
		for ; b != 0; b &= b - 1 {
			set++
		}
	}
	check(os.WriteFile(*out, bits, 0o644))
	fmt.Fprintf(os.Stderr, "%d pairs, %d of %d bits set (%.1f%%)\n", pairs, set, detect.PairTableBits, 100*float64(set)/float64(detect.PairTableBits))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
