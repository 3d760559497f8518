// Package redistest gives tests the Redis server that scripts/redis.sh
// starts, the way store/storetest gives them PostgreSQL.
package redistest

import (
	"os"
	"testing"
)

// URLEnv names the URL of the test Redis (scripts/redis.sh start prints
// one).
const URLEnv = "RAMPART_TEST_REDIS_URL"

// URL returns the test Redis's URL. Without $RAMPART_TEST_REDIS_URL the
// test is skipped, or fails when RAMPART_TEST_REQUIRE_SERVICES=1 (CI), so a
// missing Redis never passes silently there.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(URLEnv)
	if u == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal(URLEnv + " unset (export " + URLEnv + "=\"$(scripts/redis.sh start)\")")
		}
		t.Skip(URLEnv + " unset (scripts/redis.sh start)")
	}
	return u
}
