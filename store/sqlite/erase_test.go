package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/store/sqlite"
	"github.com/rampart-ai/rampart/store/storetest"
)

// dumpSQLite returns every row of every table as text, plus the raw bytes
// of the database file and its WAL and shared-memory files, so that bytes
// deleted but not overwritten count as remaining.
func dumpSQLite(path string) storetest.Dump {
	return func(t *testing.T) []string {
		t.Helper()
		conn, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro&_query_only=1")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetMaxOpenConns(1)
		tables := queryRows(t, conn, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
		if len(tables) < 5 {
			t.Fatalf("only %d tables: %v", len(tables), tables)
		}
		var out []string
		for _, table := range tables {
			table = strings.TrimSuffix(table, "|")
			out = append(out, queryRows(t, conn, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)...)
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(path + suffix)
			if err == nil {
				out = append(out, string(b))
			} else if !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		return out
	}
}

// queryRows formats each result row of q as one string.
func queryRows(t *testing.T, conn *sql.DB, q string) []string {
	t.Helper()
	rows, err := conn.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				b.Write(bs)
			} else {
				fmt.Fprint(&b, v)
			}
			b.WriteByte('|')
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func openForDump(t *testing.T) (*sqlite.DB, storetest.Dump) {
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return db, dumpSQLite(path)
}

func TestSecretsSuite(t *testing.T) {
	storetest.RunSecrets(t, func(t *testing.T) (storetest.SecretsStore, storetest.Dump) { return openForDump(t) })
}

func TestErasureSuite(t *testing.T) {
	storetest.RunErasure(t, func(t *testing.T) (storetest.ErasureStore, storetest.Dump) { return openForDump(t) })
}
