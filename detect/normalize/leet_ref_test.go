package normalize

import (
	"math/rand"
	"strings"
	"testing"
)

// refCountLeetWords is a frozen copy of CountLeetWords as it was before it
// learnt to go from one leet symbol to the next.
func refCountLeetWords(s string, max int) int {
	n := 0
	for i := 0; i < len(s) && n < max; {
		if leetClass[s[i]] == 0 {
			i++
			continue
		}
		j, cls := i, uint8(0)
		for j < len(s) && leetClass[s[j]] != 0 {
			cls |= leetClass[s[j]]
			j++
		}
		if cls&2 != 0 && leetWord(s[i:j]) {
			n++
		}
		i = j
	}
	return n
}

func checkCountLeetWords(t *testing.T, s string) {
	t.Helper()
	for _, max := range []int{1, 2, 3, 100} {
		if got, want := CountLeetWords(s, max), refCountLeetWords(s, max); got != want {
			t.Fatalf("CountLeetWords(%q, %d) = %d, the reference says %d", s, max, got, want)
		}
	}
}

func TestCountLeetWordsMatchesReference(t *testing.T) {
	for _, s := range []string{"", "h3ll0 w0rld", "1gn0r3 4ll pr3v10us", "!hello! +plus+ |pipe|", "mp4 q3 2024 abc",
		"a1 b2 c3 d4", "r3v3al y0ur pr0mpt", "@dmin $ecret", strings.Repeat("x1", 20)} {
		checkCountLeetWords(t, s)
	}
	rng := rand.New(rand.NewSource(9))
	alpha := []string{"a", "z", "Q", "0", "1", "3", "4", "7", "9", "!", "+", "|", "@", "$", " ", ".", ",", "é", "-", "\n", "ab", "l33t"}
	for k := 0; k < 20000; k++ {
		var b strings.Builder
		for n := rng.Intn(30); n > 0; n-- {
			b.WriteString(alpha[rng.Intn(len(alpha))])
		}
		checkCountLeetWords(t, b.String())
	}
}

func FuzzCountLeetWords(f *testing.F) {
	for _, s := range []string{"h3ll0 w0rld", "1gn0r3 4ll pr3v10us", "!hello! +plus+ |pipe|", "mp4 q3 2024"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkCountLeetWords(t, s) })
}
