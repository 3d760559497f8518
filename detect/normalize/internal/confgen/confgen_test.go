package confgen

import (
	"strings"
	"testing"
)

func TestParseTxtAndFilter(t *testing.T) {
	src := "# comment\n\ufeff0430 ;\t0061 ;\tMA\t# ( а → a )\n" +
		"0061 ;\t0061 ;\tMA\n" + // ASCII source: dropped
		"FF41 ;\t0061 ;\tMA\n" + // NFKC-unstable source: dropped
		"0399 ;\t006C ;\tMA\n" + // Greek capital iota → l
		"0436 ;\t04C1 ;\tMA\n" + // non-ASCII target: dropped
		"00C6 ;\t0041 0045 ;\tMA\n"
	maps, _, err := ParseTxt(strings.NewReader(src))
	if err != nil || len(maps) != 6 {
		t.Fatalf("ParseTxt: %v %d", err, len(maps))
	}
	f := Filter(maps)
	if len(f) != 3 || f[0].Source != 0xC6 || f[1].Source != 0x399 || f[2].Source != 0x430 {
		t.Fatalf("Filter: %+v", f)
	}
	if Prototype(f[1]) != "I" || Prototype(f[2]) != "a" || Prototype(f[0]) != "AE" {
		t.Fatalf("Prototype: %q %q %q", Prototype(f[0]), Prototype(f[1]), Prototype(f[2]))
	}
	tab, err := GenerateTable(f, Meta{})
	if err != nil || !strings.Contains(string(tab), `{0x0399, "I"}`) {
		t.Fatalf("GenerateTable: %v\n%s", err, tab)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"0430\n", "ZZZZ ; 0061 ; MA\n", "0430 0431 ; 0061 ; MA\n", "0430 ; ; MA\n", "0430 ; 110000 ; MA\n"} {
		if _, _, err := ParseTxt(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseTxt(%q): no error", bad)
		}
	}
	for _, bad := range [][]byte{nil, []byte("short"), make([]byte, 64)} {
		if _, err := ParseCFU(bad); err == nil {
			t.Errorf("ParseCFU(%q): no error", bad)
		}
	}
	if _, err := GenerateTable(nil, Meta{}); err == nil {
		t.Error("GenerateTable(nil): no error")
	}
}
