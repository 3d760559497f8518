package postgres

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestIsDataError: errors of the values written (which a retry repeats)
// are told apart from the store being unreachable or failing over, which
// the audit spool keeps records through.
func TestIsDataError(t *testing.T) {
	for code, want := range map[string]bool{
		"22021": true,  // character not in repertoire (a NUL byte)
		"22001": true,  // string data right truncation
		"23505": true,  // unique violation
		"54000": true,  // program limit exceeded (index row size)
		"08006": false, // connection failure
		"57P01": false, // admin shutdown (failover)
		"40001": false, // serialization failure
		"53300": false, // too many connections
	} {
		err := fmt.Errorf("audit: insert: %w", &pgconn.PgError{Code: code})
		if got := isDataError(err); got != want {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
	}
	if isDataError(fmt.Errorf("dial tcp: connection refused")) {
		t.Error("a plain error is a data error")
	}
}
