// Command charlm writes the character n-gram table of the perplexity
// filter (detect/charlm/table.bin) and its manifest from the benign
// (label 0) rows of data/injection/train.jsonl: each row's lines are the
// training texts (charlm.Build). Same input, same bytes.
//
//	go run ./tools/charlm
package main

import (
	"flag"
	"log"
	"os"

	"github.com/rampart-ai/rampart/detect/charlm"
)

func main() {
	train := flag.String("train", "data/injection/train.jsonl", "training rows (JSON lines with text and label)")
	out := flag.String("out", "detect/charlm/table.bin", "table to write")
	manifest := flag.String("manifest", "detect/charlm/manifest.json", "manifest to write")
	flag.Parse()
	raw, err := os.ReadFile(*train)
	if err != nil {
		log.Fatal(err)
	}
	lines, err := charlm.BenignLines(raw)
	if err != nil {
		log.Fatal(err)
	}
	table := charlm.Build(lines, charlm.DefaultBits)
	man := charlm.NewManifest(raw, table, lines)
	if err := os.WriteFile(*out, table, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*manifest, man.Marshal(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("charlm: %d lines, %d bytes, %d of %d slots used, table %s", len(lines), len(table), man.SlotsUsed, 1<<charlm.DefaultBits, man.TableSHA256)
}
