// Command wordnet generates detect/model/wnclass.bin, the table of WordNet
// meaning classes the injection model's features use, from the WordNet 3.0
// database that Debian's wordnet-base package installs:
//
//	apt-get install wordnet-base
//	go run ./tools/wordnet -dict /usr/share/wordnet -out detect/model/wnclass.bin
//
// For every single-word lemma with at least one sense seen in WordNet's
// sense-tagged corpus (tagsense_cnt > 0: the common words), its two most
// frequent senses in each part of speech give classes: the sense's synset
// and, for nouns and verbs, its first hypernym. So "ignore", "disregard"
// and "neglect" share the synset {ignore, disregard, neglect}; "reveal",
// "disclose" and "divulge" share {unwrap, disclose, let on, bring out,
// reveal, discover, expose, divulge, break, give away, let out}. Inflected
// forms (regular -s, -es, -ed, -ing, with e-dropping and consonant doubling,
// and WordNet's exception lists) map to their lemma's classes.
//
// File format (little endian): "WNC1", u32 number of entries, then per
// entry sorted by key: u32 key (model.WordKey of the form), u8 n,
// n × u32 class (part of speech << 28 | synset offset). At most
// model.MaxWordClasses classes per form.
//
// WordNet 3.0 Copyright 2006 by Princeton University (licence in
// detect/model/LICENSE-WORDNET).
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart-ai/rampart/detect/model"
)

var posList = []struct {
	name string
	code uint32
}{{"verb", 1}, {"noun", 2}, {"adj", 3}, {"adv", 4}}

func main() {
	dict := flag.String("dict", "/usr/share/wordnet", "WordNet database directory")
	out := flag.String("out", "detect/model/wnclass.bin", "table to write")
	senses := flag.Int("senses", 2, "senses per lemma and part of speech")
	flag.Parse()
	if err := run(*dict, *out, *senses); err != nil {
		fmt.Fprintln(os.Stderr, "wordnet:", err)
		os.Exit(1)
	}
}

func run(dict, out string, senses int) error {
	classes := map[string][]uint32{} // form -> classes, in order
	addForm := func(form string, cs []uint32) {
		have := classes[form]
	next:
		for _, c := range cs {
			for _, h := range have {
				if h == c {
					continue next
				}
			}
			have = append(have, c)
		}
		classes[form] = have
	}
	lemmaClasses := map[string]map[string][]uint32{} // pos -> lemma -> classes
	for _, p := range posList {
		hyper, err := readHypernyms(filepath.Join(dict, "data."+p.name))
		if err != nil {
			return err
		}
		lc := map[string][]uint32{}
		lemmaClasses[p.name] = lc
		f, err := os.ReadFile(filepath.Join(dict, "index."+p.name))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(f), "\n") {
			if line == "" || line[0] == ' ' {
				continue
			}
			fs := strings.Fields(line)
			lemma := fs[0]
			if !isWord(lemma) {
				continue
			}
			pcnt, _ := strconv.Atoi(fs[3])
			i := 4 + pcnt
			if i+2 > len(fs) {
				continue
			}
			tagged, _ := strconv.Atoi(fs[i+1])
			if tagged == 0 {
				continue
			}
			offs := fs[i+2:]
			var cs []uint32
			for k := 0; k < len(offs) && k < senses; k++ {
				off, err := strconv.ParseUint(offs[k], 10, 32)
				if err != nil {
					return err
				}
				cs = append(cs, p.code<<28|uint32(off))
				if h, ok := hyper[uint32(off)]; ok {
					cs = append(cs, p.code<<28|h)
				}
			}
			lc[lemma] = cs
			for _, form := range inflections(lemma, p.name) {
				addForm(form, cs)
			}
		}
	}
	// exception lists: irregular forms of the lemmas above
	for _, p := range posList {
		f, err := os.ReadFile(filepath.Join(dict, p.name+".exc"))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(f), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 2 || !isWord(fs[0]) {
				continue
			}
			for _, base := range fs[1:] {
				if cs, ok := lemmaClasses[p.name][base]; ok {
					addForm(fs[0], cs)
				}
			}
		}
	}
	type entry struct {
		key uint32
		cs  []uint32
	}
	byKey := map[uint32]*entry{}
	for form, cs := range classes {
		k := model.WordKey(form)
		if e, ok := byKey[k]; ok {
			// a hash collision between two forms: keep the union's head
			e.cs = append(e.cs, cs...)
			continue
		}
		byKey[k] = &entry{k, cs}
	}
	var es []*entry
	for _, e := range byKey {
		if len(e.cs) > model.MaxWordClasses {
			e.cs = e.cs[:model.MaxWordClasses]
		}
		es = append(es, e)
	}
	sort.Slice(es, func(a, b int) bool { return es[a].key < es[b].key })
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("WNC1")
	binary.Write(&b, le, uint32(len(es)))
	for _, e := range es {
		binary.Write(&b, le, e.key)
		b.WriteByte(byte(len(e.cs)))
		for _, c := range e.cs {
			binary.Write(&b, le, c)
		}
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d forms, %d bytes\n", out, len(es), b.Len())
	return nil
}

func isWord(s string) bool {
	if len(s) < 2 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// readHypernyms maps each synset offset of a data file to its first
// hypernym's offset (pointer "@" or "@i").
func readHypernyms(path string) (map[uint32]uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[uint32]uint32{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == ' ' {
			continue
		}
		if i := strings.Index(line, " | "); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		off, err := strconv.ParseUint(fs[0], 10, 32)
		if err != nil {
			continue
		}
		wcnt, err := strconv.ParseUint(fs[3], 16, 32)
		if err != nil {
			continue
		}
		i := 4 + 2*int(wcnt)
		if i >= len(fs) {
			continue
		}
		pcnt, _ := strconv.Atoi(fs[i])
		for k := 0; k < pcnt; k++ {
			j := i + 1 + 4*k
			if j+1 >= len(fs) {
				break
			}
			if fs[j] == "@" || fs[j] == "@i" {
				h, err := strconv.ParseUint(fs[j+1], 10, 32)
				if err == nil {
					out[uint32(off)] = uint32(h)
				}
				break
			}
		}
	}
	return out, sc.Err()
}

// inflections returns the lemma and its regular inflected forms.
func inflections(w, pos string) []string {
	out := []string{w}
	vowel := func(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }
	n := len(w)
	last := w[n-1]
	plural := func() string {
		switch {
		case strings.HasSuffix(w, "s") || strings.HasSuffix(w, "x") || strings.HasSuffix(w, "z") ||
			strings.HasSuffix(w, "ch") || strings.HasSuffix(w, "sh"):
			return w + "es"
		case last == 'y' && n > 1 && !vowel(w[n-2]):
			return w[:n-1] + "ies"
		}
		return w + "s"
	}
	switch pos {
	case "noun":
		out = append(out, plural())
	case "verb":
		out = append(out, plural())
		switch {
		case last == 'e':
			out = append(out, w+"d", w[:n-1]+"ing")
		case last == 'y' && n > 1 && !vowel(w[n-2]):
			out = append(out, w[:n-1]+"ied", w+"ing")
		default:
			out = append(out, w+"ed", w+"ing")
			// consonant doubling (stop -> stopped) for a final
			// consonant-vowel-consonant
			if n >= 3 && !vowel(last) && vowel(w[n-2]) && !vowel(w[n-3]) && strings.IndexByte("wxy", last) < 0 {
				out = append(out, w+string(last)+"ed", w+string(last)+"ing")
			}
		}
	}
	return out
}
