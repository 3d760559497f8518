package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/migrate"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// DSNEnv names the environment variable with the test database's DSN
// (scripts/services.sh prints one). Unset: these tests skip, unless
// RAMPART_TEST_REQUIRE_SERVICES=1 (as in CI), where a missing database fails.
const DSNEnv = "RAMPART_TEST_POSTGRES_DSN"

// openFresh opens the store in a new, empty schema that is dropped when
// the test ends.
func openFresh(t *testing.T) *postgres.DB {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s not set and RAMPART_TEST_REQUIRE_SERVICES=1 (run scripts/services.sh)", DSNEnv)
		}
		t.Skipf("%s not set (run scripts/services.sh)", DSNEnv)
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "rt_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close(context.Background())
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("bad DSN")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
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
