package normalize

import (
	"bytes"
	"os"
	"testing"

	"github.com/rampart-ai/rampart/detect/normalize/internal/confgen"
)

const cfuProvenance = "ICU 72.1 data com/ibm/icu/impl/data/icudt72b/confusables.cfu (compiled from Unicode 15.0 confusables.txt) in Debian package libicu4j-java 72.1-1 (bookworm), icu4j-60.2.jar"

// TestConfusablesTableReproducible re-runs the generator on the shipped
// source copies and requires byte-identical output.
func TestConfusablesTableReproducible(t *testing.T) {
	table, err := os.ReadFile("confusables_table.go")
	if err != nil {
		t.Fatal(err)
	}
	subset, err := os.ReadFile("testdata/confusables_subset.txt")
	if err != nil {
		t.Fatal(err)
	}
	cfu, err := os.ReadFile("testdata/confusables.cfu")
	if err != nil {
		t.Fatal(err)
	}
	sub2, tab2, err := confgen.Build(cfu, true, []string{cfuProvenance,
		"confusables.cfu sha256=df3a630e89f5e377c7fa3a69ba6995f7cc3782498232d3f1276680e4b2c8d15e"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sub2, subset) {
		t.Error("testdata/confusables_subset.txt differs from generator output on confusables.cfu; run go generate")
	}
	if !bytes.Equal(tab2, table) {
		t.Error("confusables_table.go differs from generator output on confusables.cfu; run go generate")
	}
	sub3, tab3, err := confgen.Build(subset, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sub3, subset) || !bytes.Equal(tab3, table) {
		t.Error("regenerating from the subset is not a fixed point")
	}
}

func TestConfusablesTableSorted(t *testing.T) {
	for i := 1; i < len(confusablesTable); i++ {
		if confusablesTable[i-1].r >= confusablesTable[i].r {
			t.Fatalf("table not sorted at %d", i)
		}
	}
	if confusablesTable[0].r != confusablesMin || confusablesTable[len(confusablesTable)-1].r != confusablesMax {
		t.Fatal("min/max")
	}
}
