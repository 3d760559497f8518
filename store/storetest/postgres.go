package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresDSNEnv names the DSN of the PostgreSQL server tests use
// (scripts/services.sh prints one).
const PostgresDSNEnv = "RAMPART_TEST_POSTGRES_DSN"

// FreshPostgres returns a DSN whose search_path is a new, empty schema,
// dropped when the test ends. Without $RAMPART_TEST_POSTGRES_DSN the test
// is skipped, or fails when RAMPART_TEST_REQUIRE_SERVICES=1 (CI), so a
// missing database never passes silently there.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s not set and RAMPART_TEST_REQUIRE_SERVICES=1 (run scripts/services.sh)", PostgresDSNEnv)
		}
		t.Skipf("%s not set (run scripts/services.sh)", PostgresDSNEnv)
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
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
		t.Fatal("bad DSN") // the error would quote the DSN's password
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
