package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rampart-ai/rampart/store/migrate"

	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int64
		wantErr string
	}{
		{"sorted", fstest.MapFS{
			"0002_b.sql": {Data: []byte("B")},
			"0001_a.sql": {Data: []byte("A")},
			"README.md":  {Data: []byte("ignored")},
		}, []int64{1, 2}, ""},
		{"bad name", fstest.MapFS{"1_a.sql": {Data: []byte("A")}}, nil, "name must look like"},
		{"upper case", fstest.MapFS{"0001_A.sql": {Data: []byte("A")}}, nil, "name must look like"},
		{"quote in name", fstest.MapFS{"0001_a'b.sql": {Data: []byte("A")}}, nil, "name must look like"},
		{"zero", fstest.MapFS{"0000_a.sql": {Data: []byte("A")}}, nil, "positive"},
		{"duplicate", fstest.MapFS{
			"0001_a.sql":  {Data: []byte("A")},
			"00001_b.sql": {Data: []byte("B")},
		}, nil, "same version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migrate.Load(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) || got[0] != tt.want[0] || got[1] != tt.want[1] {
				t.Fatalf("versions %v, want %v", got, tt.want)
			}
			if ms[0].Name != "0001_a" || ms[0].SQL != "A" {
				t.Fatalf("first = %+v", ms[0])
			}
		})
	}
}

func TestRunAppliesInOrderOnce(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	fs1 := fstest.MapFS{
		"0001_t.sql": {Data: []byte("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")},
	}
	got, err := migrate.Run(ctx, migrate.SQL(db), fs1, migrate.Options{})
	if err != nil || len(got) != 1 || got[0] != 1 {
		t.Fatalf("first run: %v %v", got, err)
	}
	// Re-running applies nothing (the INSERT would duplicate the row).
	got, err = migrate.Run(ctx, migrate.SQL(db), fs1, migrate.Options{})
	if err != nil || len(got) != 0 {
		t.Fatalf("second run: %v %v", got, err)
	}
	fs2 := fstest.MapFS{
		"0001_t.sql": fs1["0001_t.sql"],
		"0002_u.sql": {Data: []byte("INSERT INTO t VALUES (2);")},
	}
	got, err = migrate.Run(ctx, migrate.SQL(db), fs2, migrate.Options{})
	if err != nil || len(got) != 1 || got[0] != 2 {
		t.Fatalf("third run: %v %v", got, err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows = %d, %v", n, err)
	}
	v, err := migrate.Current(ctx, db)
	if err != nil || v != 2 {
		t.Fatalf("current = %d, %v", v, err)
	}
	// A binary that only knows 0001 must refuse the newer schema.
	_, err = migrate.Run(ctx, migrate.SQL(db), fs1, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Fatalf("downgrade err = %v", err)
	}
	_, err = migrate.Run(ctx, migrate.SQL(db), fstest.MapFS{}, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("empty set on newer db err = %v", err)
	}
}

func TestRunFailedMigrationRollsBack(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	bad := fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"0002_bad.sql": {Data: []byte("CREATE TABLE b (x INTEGER); THIS IS NOT SQL;")},
	}
	got, err := migrate.Run(ctx, migrate.SQL(db), bad, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "0002_bad") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("applied %v, want [1]", got)
	}
	// Table b must not exist: the failed migration rolled back entirely.
	var n int
	err = db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'").Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("table b count = %d, %v", n, err)
	}
	v, _ := migrate.Current(ctx, db)
	if v != 1 {
		t.Fatalf("current = %d, want 1", v)
	}
}

func TestCurrentWithoutTable(t *testing.T) {
	v, err := migrate.Current(context.Background(), openDB(t))
	if err != nil || v != 0 {
		t.Fatalf("current = %d, %v", v, err)
	}
}

func TestLockSQLRuns(t *testing.T) {
	db := openDB(t)
	fs1 := fstest.MapFS{"0001_t.sql": {Data: []byte("CREATE TABLE t (a INTEGER);")}}
	_, err := migrate.Run(context.Background(), migrate.SQL(db), fs1, migrate.Options{LockSQL: "NOT VALID SQL"})
	if err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("err = %v, want lock failure", err)
	}
}
