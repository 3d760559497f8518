package gateway

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// storeOpenTimeout bounds connecting to and migrating PostgreSQL at start.
const storeOpenTimeout = 30 * time.Second

// openStore opens the store cfg.Store selects: the embedded SQLite database
// under cfg.DataDir, or PostgreSQL at the DSN in the environment variable
// cfg.Store.DSNEnv. With PostgreSQL every replica must hash API keys with
// the same pepper and audit content key, so keys generated per data
// directory are refused.
func openStore(cfg *config.Config, getenv func(string) string) (Store, error) {
	switch cfg.Store.Driver {
	case "", "sqlite":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		db, err := sqlite.Open(sqlite.PathIn(cfg.DataDir))
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return db, nil
	case "postgres":
		dsn := getenv(cfg.Store.DSNEnv)
		if dsn == "" {
			return nil, fmt.Errorf("store: driver postgres needs the connection string in $%s", cfg.Store.DSNEnv)
		}
		// identity.LoadPepper reads the process environment; so does this.
		if os.Getenv(identity.PepperEnv) == "" {
			return nil, fmt.Errorf("store: driver postgres is shared by replicas, so they need one key pepper: set $%s (e.g. openssl rand -hex 32) on every replica", identity.PepperEnv)
		}
		// Content HMACs (and erasure records) must match across replicas.
		if cfg.Audit.HMACKeyEnv == "" {
			return nil, fmt.Errorf("store: driver postgres is shared by replicas, so they need one audit content key: set audit.hmac_key_env and that variable on every replica")
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
		defer cancel()
		db, err := postgres.OpenWith(ctx, dsn, postgres.Options{StatementTimeout: cfg.Store.StatementTimeout})
		if err != nil {
			// pgx errors can quote the DSN; name the variable, not its value.
			return nil, fmt.Errorf("store: cannot open PostgreSQL from $%s: %s", cfg.Store.DSNEnv, redactDSN(err.Error(), dsn))
		}
		return db, nil
	}
	return nil, fmt.Errorf("store: unknown driver %q", cfg.Store.Driver)
}

// redactDSN removes the DSN's password (and the DSN itself) from msg.
func redactDSN(msg, dsn string) string {
	msg = strings.ReplaceAll(msg, dsn, "$DSN")
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}
