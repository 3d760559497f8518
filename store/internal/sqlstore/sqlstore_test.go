package sqlstore

import "testing"

func TestDialectSQL(t *testing.T) {
	pg := Dialect{Numbered: true}
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = ?, b = ? WHERE id = ?`, `UPDATE t SET a = $1, b = $2 WHERE id = $3`},
		{`DELETE FROM t WHERE a = ?1 OR b = ?1`, `DELETE FROM t WHERE a = $1 OR b = $1`},
		{`SELECT ?12`, `SELECT $12`},
	} {
		if got := pg.sql(c.in); got != c.want {
			t.Errorf("postgres %q = %q, want %q", c.in, got, c.want)
		}
		if got := (Dialect{}).sql(c.in); got != c.in {
			t.Errorf("sqlite %q = %q, want it unchanged", c.in, got)
		}
	}
}
