package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/migrate"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// openFresh opens the store in a new, empty schema that is dropped when
// the test ends (storetest.FreshPostgres: skipped without a database,
// failed in CI).
func openFresh(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
}

func TestMigrateTwice(t *testing.T) {
	db := openFresh(t)
	defer db.Close()
	want, err := migrate.Load(postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(context.Background(), "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migrations rows = %d, want %d (%v)", n, len(want), err)
	}
}

// TestNoPlaintextKeyInTables creates keys and searches every row of every
// table (as text) for any part of a key past its display prefix.
func TestNoPlaintextKeyInTables(t *testing.T) {
	db := openFresh(t)
	defer db.Close()
	ctx := context.Background()
	svc, err := identity.NewService(identity.Config{}, db, bytes.Repeat([]byte("p"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(ctx, identity.Tenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var firstID string
	for i := 0; i < 10; i++ {
		k, meta, err := svc.CreateKey(ctx, identity.KeySpec{Name: "k", Tenant: "acme", Role: identity.RoleUser})
		if err != nil {
			t.Fatal(err)
		}
		if firstID == "" {
			firstID = meta.ID
		}
		keys = append(keys, k)
	}
	k, _, err := svc.RotateKey(ctx, firstID, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, k)

	rows, err := db.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 3 {
		t.Fatalf("tables = %v, %v", tables, err)
	}
	var dump []byte
	for _, tb := range tables {
		rows, err := db.Pool().Query(ctx, "SELECT row_to_json(x)::text FROM "+pgx.Identifier{tb}.Sanitize()+" x")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			dump = append(dump, s...)
		}
	}
	for _, k := range keys {
		if !bytes.Contains(dump, []byte(identity.DisplayPrefix(k))) {
			t.Fatal("display prefix not found: the dump does not hold the key rows")
		}
		secret := k[len(identity.DisplayPrefix(k)):]
		for i := 0; i+12 <= len(secret); i += 4 {
			if bytes.Contains(dump, []byte(secret[i:i+12])) {
				t.Fatalf("table contains part of a plaintext key (%s)", identity.MaskKey(k))
			}
		}
	}
}
