package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// postgresDSNEnv is the default of --postgres for the commands that act on
// the store directly.
const postgresDSNEnv = "RAMPART_POSTGRES_DSN"

func init() {
	register("secrets set", "store a secret read from stdin (encrypted under the master key)", secretsSet)
	register("secrets list", "list stored secrets (names and dates only)", secretsList)
	register("secrets delete", "delete a stored secret", secretsDelete)
	register("secrets rotate-master", "re-wrap every data key under the current master key", secretsRotateMaster)
}

// storeTarget is the store a command opens directly: the data directory's
// SQLite database, or PostgreSQL with --postgres; --config supplies the
// data directory and the secrets section (master key locations).
type storeTarget struct {
	data, config, dsn string
}

func (s *storeTarget) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.data, "data", "", "data directory (default: data_dir of --config, $RAMPART_DATA_DIR, or ./rampart-data)")
	fs.StringVar(&s.config, "config", "", "configuration file (data_dir and the secrets section)")
	fs.StringVar(&s.dsn, "postgres", "", "PostgreSQL DSN of a shared store instead of the data directory (default: with store.driver postgres in --config, the DSN in its store.dsn_env, $"+postgresDSNEnv+" by default)")
}

// dataStore is what the secret and erasure commands need from a backend.
type dataStore interface {
	store.SecretStore
	store.SubjectEraser
	store.AuditStore
}

// open loads the configuration and opens the store.
func (s *storeTarget) open(ctx context.Context) (dataStore, *config.Config, error) {
	return s.openMode(ctx, false)
}

// openMode is open; readOnly opens a local SQLite database read-only (safe
// beside a running gateway, and never creates or migrates it). A
// PostgreSQL store is opened as it is: reads do not lock it.
func (s *storeTarget) openMode(ctx context.Context, readOnly bool) (dataStore, *config.Config, error) {
	cfg, err := loadConfig(s.config, false)
	if err != nil {
		return nil, nil, err
	}
	dsn := s.dsn
	if s.data != "" {
		cfg.DataDir = s.data
	} else if dsn == "" && cfg.Store.Driver == "postgres" {
		// The store the configuration's gateway uses.
		if dsn = os.Getenv(cfg.Store.DSNEnv); dsn == "" {
			return nil, nil, fmt.Errorf("store.driver is postgres but $%s is empty (or pass --postgres DSN)", cfg.Store.DSNEnv)
		}
	}
	if dsn != "" {
		db, err := postgres.OpenWith(ctx, dsn, postgres.Options{StatementTimeout: cfg.Store.StatementTimeout})
		if err != nil {
			return nil, nil, err
		}
		return db, cfg, nil
	}
	if _, err := os.Stat(sqlite.PathIn(cfg.DataDir)); err != nil {
		return nil, nil, fmt.Errorf("no rampart database in %s (start the gateway once, or pass --data)", cfg.DataDir)
	}
	open := sqlite.Open
	if readOnly {
		open = sqlite.OpenReader
	}
	db, err := open(sqlite.PathIn(cfg.DataDir))
	if err != nil {
		return nil, nil, err
	}
	return db, cfg, nil
}

// keyringFrom loads the master keys named by cfg.Secrets (nil, nil when
// none is configured).
func keyringFrom(cfg *config.Config) (*secrets.Keyring, error) {
	s := cfg.Secrets
	kr, err := secrets.Source{Env: s.MasterKeyEnv, File: s.MasterKeyFile,
		PreviousEnv: s.PreviousMasterKeyEnv, PreviousFile: s.PreviousMasterKeyFile}.Load()
	if errors.Is(err, secrets.ErrNoMasterKey) {
		return nil, nil
	}
	return kr, err
}

// runStore parses flags (npos positional arguments), opens the store and
// the manager and runs fn.
func runStore(env *Env, name, usage string, npos int, fn func(ctx context.Context, m *secrets.Manager, cfg *config.Config, st dataStore, pos []string) error) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var t storeTarget
	t.flags(fs)
	pos, code, ok := parseCommand(env, fs, usage, npos)
	if !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, cfg, err := t.open(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "rampart %s: %v\n", name, err)
		return 1
	}
	defer st.(io.Closer).Close()
	kr, err := keyringFrom(cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "rampart %s: %v\n", name, err)
		return 1
	}
	if err := fn(ctx, secrets.NewManager(st, kr), cfg, st, pos); err != nil {
		fmt.Fprintf(env.Stderr, "rampart %s: %v\n", name, err)
		return 1
	}
	return 0
}

// readSecretValue reads a value from r: at most MaxValueBytes, one
// trailing newline (as echo and editors add) removed.
func readSecretValue(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no standard input")
	}
	b, err := io.ReadAll(io.LimitReader(r, secrets.MaxValueBytes+3))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) > secrets.MaxValueBytes {
		return nil, fmt.Errorf("value is larger than %d bytes", secrets.MaxValueBytes)
	}
	if len(b) == 0 {
		return nil, errors.New("empty value on standard input (pipe it in: printf %s \"$KEY\" | rampart secrets set NAME)")
	}
	return b, nil
}

func secretsSet(env *Env) int {
	return runStore(env, "secrets set", "secrets set NAME [--data DIR | --postgres DSN] [--config FILE] < value", 1,
		func(ctx context.Context, m *secrets.Manager, _ *config.Config, st dataStore, pos []string) error {
			if m.Keyring() == nil {
				return secrets.ErrNoMasterKey
			}
			v, err := readSecretValue(env.Stdin)
			if err != nil {
				return err
			}
			defer clear(v)
			if err := m.Set(ctx, pos[0], v); err != nil {
				return err
			}
			if err := auditAction(ctx, st, "rampart secrets set", "secret_set", pos[0], "",
				fmt.Sprintf("secret %s stored (%d bytes, master key %s)", pos[0], len(v), m.Keyring().CurrentID())); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "secret %q stored (%d bytes, encrypted under master key %s)\n", pos[0], len(v), m.Keyring().CurrentID())
			return nil
		})
}

func secretsList(env *Env) int {
	return runStore(env, "secrets list", "secrets list [--data DIR | --postgres DSN] [--config FILE]", 0,
		func(ctx context.Context, m *secrets.Manager, _ *config.Config, _ dataStore, _ []string) error {
			list, err := m.List(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCREATED\tUPDATED")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.CreatedAt.Format(time.RFC3339), s.UpdatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		})
}

func secretsDelete(env *Env) int {
	return runStore(env, "secrets delete", "secrets delete NAME [--data DIR | --postgres DSN] [--config FILE]", 1,
		func(ctx context.Context, m *secrets.Manager, _ *config.Config, st dataStore, pos []string) error {
			if err := m.Delete(ctx, pos[0]); err != nil {
				if errors.Is(err, secrets.ErrNotFound) {
					return fmt.Errorf("no secret named %q", pos[0])
				}
				return err
			}
			if err := auditAction(ctx, st, "rampart secrets delete", "secret_deleted", pos[0], "", "secret "+pos[0]+" deleted"); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "secret %q deleted\n", pos[0])
			return nil
		})
}

func secretsRotateMaster(env *Env) int {
	return runStore(env, "secrets rotate-master", "secrets rotate-master [--data DIR | --postgres DSN] [--config FILE]", 0,
		func(ctx context.Context, m *secrets.Manager, _ *config.Config, st dataStore, _ []string) error {
			kr := m.Keyring()
			if kr == nil {
				return secrets.ErrNoMasterKey
			}
			n, err := m.RotateMaster(ctx)
			if err != nil {
				return fmt.Errorf("%w (nothing was changed)", err)
			}
			prev := kr.PreviousID()
			if prev == "" {
				prev = "none"
			}
			if err := auditAction(ctx, st, "rampart secrets rotate-master", "master_key_rotated", kr.CurrentID(), "",
				fmt.Sprintf("re-wrapped %d data keys under master key %s (previous: %s)", n, kr.CurrentID(), prev)); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "re-wrapped %d data keys under master key %s (previous: %s)\n", n, kr.CurrentID(), prev)
			fmt.Fprintln(env.Stdout, "once every replica runs with the new key, remove the previous key from their configuration")
			return nil
		})
}
