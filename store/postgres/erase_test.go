package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/storetest"
)

// dumpPostgres returns every row of every table of the store's schema as
// text (bytea columns appear as hex, which storetest.Contains searches).
func dumpPostgres(db *postgres.DB) storetest.Dump {
	return func(t *testing.T) []string {
		t.Helper()
		ctx := context.Background()
		rows, err := db.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(tables) < 5 {
			t.Fatalf("only %d tables: %v", len(tables), tables)
		}
		var out []string
		for _, table := range tables {
			rows, err := db.Pool().Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			if err != nil {
				t.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, texts...)
		}
		return out
	}
}

func TestSecretsSuite(t *testing.T) {
	storetest.RunSecrets(t, func(t *testing.T) (storetest.SecretsStore, storetest.Dump) {
		db := openFresh(t)
		return db, dumpPostgres(db)
	})
}

func TestErasureSuite(t *testing.T) {
	storetest.RunErasure(t, func(t *testing.T) (storetest.ErasureStore, storetest.Dump) {
		db := openFresh(t)
		return db, dumpPostgres(db)
	})
}
