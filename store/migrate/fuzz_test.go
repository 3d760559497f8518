package migrate_test

import (
	"io/fs"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/rampart-ai/rampart/store/migrate"
)

var safeName = regexp.MustCompile(`^[0-9]+_[a-z0-9_]+$`)

// FuzzLoad checks that any file name is either rejected or yields a
// migration whose name is safe to inline in SQL.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"0001_audit.sql", "1_a.sql", "0001_a'b.sql", "0000_x.sql", "9999999999_x.sql", "0002_x.SQL"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !fs.ValidPath(a) || !fs.ValidPath(b) || a == b {
			return
		}
		ms, err := migrate.Load(fstest.MapFS{a: {Data: []byte("x")}, b: {Data: []byte("y")}})
		if err != nil {
			return
		}
		for i, m := range ms {
			if !safeName.MatchString(m.Name) || m.Version <= 0 {
				t.Fatalf("unsafe migration %+v", m)
			}
			if i > 0 && ms[i-1].Version >= m.Version {
				t.Fatalf("not strictly ordered: %+v", ms)
			}
		}
	})
}
