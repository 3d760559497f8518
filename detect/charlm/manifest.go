package charlm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Version is the version of the table's layout and of Build; a change to
// either bumps it, so that TestManifest asks for a new table.
const Version = 3

// Manifest records what a table was made from.
type Manifest struct {
	Version     int    `json:"version"`
	Order       int    `json:"order"`
	Bits        int    `json:"bits"`
	Lines       int    `json:"lines"`
	SlotsUsed   int    `json:"slots_used"`
	TrainSHA256 string `json:"train_sha256"`
	TableSHA256 string `json:"table_sha256"`
	// SmokeSHA256 is the hash of SmokeTable: a change to Build or the
	// folding shows there without a full rebuild
	SmokeSHA256 string `json:"smoke_sha256"`
}

// SmokeTable builds a small table from the first 4,000 lines (12-bit
// table), so that a test can tell whether Build still makes what made the
// embedded table.
func SmokeTable(lines []string) []byte {
	return Build(lines[:min(4000, len(lines))], 12)
}

// Hash is the hex SHA-256 of b.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// NewManifest describes table, built from the rows in train.
func NewManifest(train, table []byte, lines []string) Manifest {
	used := 0
	hdr := len(magic) + 2 + NumDomains*(Symbols+Symbols*Symbols)
	for i := hdr; i+1 < len(table); i += 2 {
		if binary.LittleEndian.Uint16(table[i:]) != 0 {
			used++
		}
	}
	return Manifest{Version: Version, Order: Order, Bits: DefaultBits, Lines: len(lines), SlotsUsed: used,
		TrainSHA256: Hash(train), TableSHA256: Hash(table), SmokeSHA256: Hash(SmokeTable(lines))}
}

// Marshal returns the manifest as indented JSON.
func (m Manifest) Marshal() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// BenignLines returns the lines of the text of every label-0 row of a
// JSON-lines file, in file order (empty lines left out).
func BenignLines(raw []byte) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<26)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row struct {
			Text  string `json:"text"`
			Label int    `json:"label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if row.Label != 0 {
			continue
		}
		for _, l := range strings.Split(row.Text, "\n") {
			if l = strings.TrimRight(l, "\r"); l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines, sc.Err()
}
