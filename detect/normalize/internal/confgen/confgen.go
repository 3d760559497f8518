// Package confgen builds the normaliser's confusables table from Unicode's
// confusables data. It reads either Unicode's confusables.txt (or the
// filtered subset of it kept in testdata/) or ICU's compiled form of the
// same file, confusables.cfu, and writes a filtered subset in
// confusables.txt format plus the generated Go table. Output is
// deterministic: the same mappings always give byte-identical files.
package confgen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"go/format"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Mapping is one confusables.txt line: Source is confusable with the
// prototype Target.
type Mapping struct {
	Source rune
	Target []rune
}

// Meta describes where the mappings came from; it is copied into the
// header of the subset file and of the generated table.
type Meta struct {
	// Provenance lines (no leading "#").
	Provenance []string
}

const metaPrefix = "# provenance: "

// cfu layout constants (ICU uspoof_impl.h, format version 2).
const (
	cfuMagic        = 0x3845fdef
	maxSourceLength = 16 << 10
)

// ParseCFU decodes ICU's compiled confusables data (confusables.cfu, the
// SpoofChecker's copy of confusables.txt).
func ParseCFU(data []byte) ([]Mapping, error) {
	if len(data) < 32 || data[2] != 0xda || data[3] != 0x27 {
		return nil, errors.New("confgen: not an ICU data file")
	}
	hdrSize := int(binary.BigEndian.Uint16(data[0:2]))
	if data[8] != 1 { // isBigEndian
		return nil, errors.New("confgen: only big-endian ICU data (icudt*b) is supported")
	}
	if string(data[12:16]) != "Cfu " {
		return nil, fmt.Errorf("confgen: data format %q, want \"Cfu \"", data[12:16])
	}
	if data[16] != 2 {
		return nil, fmt.Errorf("confgen: cfu format version %d, want 2", data[16])
	}
	if hdrSize+40 > len(data) {
		return nil, errors.New("confgen: truncated cfu")
	}
	sp := data[hdrSize:]
	be := binary.BigEndian
	if be.Uint32(sp[0:4]) != cfuMagic {
		return nil, errors.New("confgen: bad spoof data magic")
	}
	u32 := func(off int) int { return int(be.Uint32(sp[off : off+4])) }
	keysOff, nKeys := u32(12), u32(16)
	valsOff, nVals := u32(20), u32(24)
	strOff, nStr := u32(28), u32(32)
	if nKeys != nVals || keysOff+4*nKeys > len(sp) || valsOff+2*nVals > len(sp) || strOff+2*nStr > len(sp) {
		return nil, errors.New("confgen: inconsistent cfu tables")
	}
	strs := make([]uint16, nStr)
	for i := range strs {
		strs[i] = be.Uint16(sp[strOff+2*i:])
	}
	out := make([]Mapping, 0, nKeys)
	for i := 0; i < nKeys; i++ {
		key := be.Uint32(sp[keysOff+4*i:])
		val := int(be.Uint16(sp[valsOff+2*i:]))
		cp := rune(key & 0xFFFFFF)
		n := int(key>>24) + 1
		var units []uint16
		if n == 1 {
			units = []uint16{uint16(val)}
		} else {
			if val+n > len(strs) {
				return nil, fmt.Errorf("confgen: string index out of range for U+%04X", cp)
			}
			units = strs[val : val+n]
		}
		out = append(out, Mapping{Source: cp, Target: utf16.Decode(units)})
	}
	return out, nil
}

// ParseTxt reads confusables.txt format ("SRC ; TARGET ; MA # comment"),
// which is both Unicode's file and the subset this package writes. Lines
// starting with "# provenance: " are returned in Meta.
func ParseTxt(r io.Reader) ([]Mapping, Meta, error) {
	var meta Meta
	var out []Mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSourceLength)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimPrefix(sc.Text(), "\ufeff")
		if strings.HasPrefix(l, metaPrefix) {
			meta.Provenance = append(meta.Provenance, strings.TrimPrefix(l, metaPrefix))
			continue
		}
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Split(l, ";")
		if len(f) < 2 {
			return nil, meta, fmt.Errorf("confgen: line %d: want SRC ; TARGET ; TYPE", line)
		}
		src, err := parseCodePoints(f[0])
		if err != nil || len(src) != 1 {
			return nil, meta, fmt.Errorf("confgen: line %d: bad source %q", line, f[0])
		}
		tgt, err := parseCodePoints(f[1])
		if err != nil || len(tgt) == 0 {
			return nil, meta, fmt.Errorf("confgen: line %d: bad target %q", line, f[1])
		}
		out = append(out, Mapping{Source: src[0], Target: tgt})
	}
	return out, meta, sc.Err()
}

func parseCodePoints(s string) ([]rune, error) {
	var out []rune
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil || v > utf8.MaxRune {
			return nil, fmt.Errorf("bad code point %q", f)
		}
		out = append(out, rune(v))
	}
	return out, nil
}

// Filter keeps the mappings the normaliser can use, sorted by source:
//   - the source is not ASCII (ASCII is never remapped: TR39 would turn
//     "m" into "rn" and "0" into "O");
//   - the source is stable under NFKC (the table is applied after NFKC, so
//     other sources can never be seen);
//   - the target is printable ASCII (U+0021–U+007E), which keeps the table
//     compact and makes every replacement match ASCII rules.
func Filter(in []Mapping) []Mapping {
	var out []Mapping
	for _, m := range in {
		if m.Source < 0x80 || !utf8.ValidRune(m.Source) {
			continue
		}
		src := string(m.Source)
		if norm.NFKC.String(src) != src {
			continue
		}
		ok := true
		for _, r := range m.Target {
			if r < 0x21 || r > 0x7E {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	// drop duplicate sources (keep the first)
	w := 0
	for i, m := range out {
		if i > 0 && m.Source == out[w-1].Source {
			continue
		}
		out[w] = m
		w++
	}
	return out[:w]
}

func hexRunes(rs []rune) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%04X", r)
	}
	return strings.Join(parts, " ")
}

// Prototype returns the ASCII the normaliser substitutes for m.Source. It
// is TR39's prototype with one adjustment: TR39 gives the I/l/1 class the
// prototype "l", so Greek Ι and Cyrillic І would read "l" while ASCII "I"
// folds to "i"; for upper- and titlecase sources whose prototype is "l" the
// table uses "I" instead, so "ΙGNORE" normalises like "IGNORE".
func Prototype(m Mapping) string {
	if len(m.Target) == 1 && m.Target[0] == 'l' && (unicode.IsUpper(m.Source) || unicode.IsTitle(m.Source)) {
		return "I"
	}
	return string(m.Target)
}

// WriteSubset renders filtered mappings in confusables.txt format.
func WriteSubset(maps []Mapping, meta Meta) []byte {
	var b bytes.Buffer
	b.WriteString("# Subset of Unicode confusables.txt (Unicode TR39), filtered by\n")
	b.WriteString("# rampart detect/normalize/internal/confgen.Filter: non-ASCII, NFKC-stable\n")
	b.WriteString("# sources whose prototype is printable ASCII. Generated; do not edit.\n")
	b.WriteString("# Unicode data: Copyright © 1991-2022 Unicode, Inc. Unicode License v3,\n")
	b.WriteString("# see LICENSE-UNICODE. This file is a modified (filtered) data file.\n")
	for _, p := range meta.Provenance {
		b.WriteString(metaPrefix + p + "\n")
	}
	b.WriteString("\n")
	for _, m := range maps {
		fmt.Fprintf(&b, "%04X ;\t%s ;\tMA\t# ( %c → %s )\n", m.Source, hexRunes(m.Target), m.Source, string(m.Target))
	}
	return b.Bytes()
}

// GenerateTable renders the Go source of confusables_table.go.
func GenerateTable(maps []Mapping, meta Meta) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by detect/normalize/internal/gen from Unicode confusables data; DO NOT EDIT.\n")
	b.WriteString("//\n// Unicode data: Copyright © 1991-2022 Unicode, Inc. Distributed under the\n")
	b.WriteString("// Unicode License v3 (see LICENSE-UNICODE). Modified: filtered to non-ASCII,\n")
	b.WriteString("// NFKC-stable sources whose TR39 prototype is printable ASCII.\n")
	for _, p := range meta.Provenance {
		b.WriteString("// Provenance: " + p + "\n")
	}
	b.WriteString("\npackage normalize\n\n")
	if len(maps) == 0 {
		return nil, errors.New("confgen: no mappings")
	}
	fmt.Fprintf(&b, "const (\n\tconfusablesMin rune = 0x%04X\n\tconfusablesMax rune = 0x%04X\n)\n\n", maps[0].Source, maps[len(maps)-1].Source)
	fmt.Fprintf(&b, "// confusablesTable has %d entries, sorted by rune.\n", len(maps))
	b.WriteString("var confusablesTable = [...]confusable{\n")
	for _, m := range maps {
		fmt.Fprintf(&b, "\t{0x%04X, %s}, // %c\n", m.Source, strconv.Quote(Prototype(m)), m.Source)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// Build runs the whole pipeline on source data: a cfu file when isCFU,
// otherwise confusables.txt format. extra provenance lines are appended
// after those found in a subset file.
func Build(src []byte, isCFU bool, extra []string) (subset, table []byte, err error) {
	var maps []Mapping
	var meta Meta
	if isCFU {
		maps, err = ParseCFU(src)
	} else {
		maps, meta, err = ParseTxt(bytes.NewReader(src))
	}
	if err != nil {
		return nil, nil, err
	}
	meta.Provenance = append(meta.Provenance, extra...)
	maps = Filter(maps)
	table, err = GenerateTable(maps, meta)
	if err != nil {
		return nil, nil, err
	}
	return WriteSubset(maps, meta), table, nil
}
