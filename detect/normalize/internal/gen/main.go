// Command gen regenerates detect/normalize/confusables_table.go and the
// filtered source copy testdata/confusables_subset.txt.
//
//	go run ./internal/gen -cfu testdata/confusables.cfu            # from ICU's compiled data (shipped)
//	go run ./internal/gen -txt /path/to/confusables.txt             # from Unicode's text file
//	go run ./internal/gen -txt testdata/confusables_subset.txt      # from the kept subset
//
// All three give byte-identical output for the same Unicode data.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampart-ai/rampart/detect/normalize/internal/confgen"
)

func main() {
	cfu := flag.String("cfu", "", "ICU confusables.cfu (big-endian, format 2)")
	txt := flag.String("txt", "", "confusables.txt or a subset written by this tool")
	source := flag.String("source", "", "provenance line describing where the input came from (cfu/txt mode)")
	subset := flag.String("subset", "testdata/confusables_subset.txt", "subset output")
	out := flag.String("out", "confusables_table.go", "Go table output")
	flag.Parse()
	if (*cfu == "") == (*txt == "") {
		fmt.Fprintln(os.Stderr, "gen: give exactly one of -cfu, -txt")
		os.Exit(2)
	}
	in := *cfu + *txt
	data, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	var extra []string
	if *source != "" {
		extra = append(extra, *source, fmt.Sprintf("%s sha256=%x", filepath.Base(in), sha256.Sum256(data)))
	}
	sub, table, err := confgen.Build(data, *cfu != "", extra)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*subset, sub, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, table, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
