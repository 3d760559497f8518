package detect

import (
	"fmt"
	"strings"
	"testing"
)

// analyze scores windows with model.Trace over segment boundaries,
// which is only the same as scoring windows() one by one (what training
// does) if the segments are contiguous and the windows are each segment
// followed by its pair with the next.
func TestWindowsAreChainOfSegments(t *testing.T) {
	texts := append([]string{
		"",
		"short",
		"First sentence here, long enough to stand alone as a segment. Second one; third!\nA new line? yes. end",
		strings.Repeat("word ", 400),
		strings.Repeat("x", 1000),
		strings.Repeat("Sentence number one is here. ", 40) + "trailing ",
	}, degenerate...)
	for _, text := range texts {
		wins, segs := windows(text, nil, nil)
		if len(segs) <= 1 {
			if len(wins) != 0 {
				t.Errorf("%q…: %d windows for one segment", text[:min(len(text), 30)], len(wins))
			}
			continue
		}
		var want [][2]int
		for i, g := range segs {
			if i > 0 && segs[i-1][1] != g[0] {
				t.Fatalf("%q…: segments %v and %v not contiguous", text[:30], segs[i-1], g)
			}
			if i > 0 {
				want = append(want, [2]int{segs[i-1][0], g[1]})
			}
			want = append(want, g)
		}
		// windows() emits segment 0, pair 0–1, segment 1, …: Chain's
		// order, so ties between windows resolve the same way.
		if fmt.Sprint(wins) != fmt.Sprint(want) {
			t.Fatalf("%q…: windows %v, want %v", text[:30], wins, want)
		}
	}
}
