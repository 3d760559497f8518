package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
)

// secretRefPrefix marks a credential lookup (through the getenv function
// upstreams are built with) that names a stored secret instead of an
// environment variable. A NUL byte cannot occur in a variable name, so no
// real variable is ever mistaken for a secret or the reverse.
const secretRefPrefix = "\x00rampart-secret:"

// secretRef is the lookup key of the stored secret name.
func secretRef(name string) string { return secretRefPrefix + name }

// secretLookupTimeout bounds reading one stored credential (each store
// call within it is bounded by store.timeout, see boundStore).
const secretLookupTimeout = 10 * time.Second

// openDataProtection wires what the secrets section and the audit
// retention and capture settings need, once the store and the audit log
// are open: the master keyring (from the secrets section, read through the
// gateway's getenv), upstream credentials stored as secrets, redacted and
// encrypted audit content capture, and the retention purge.
//
// Without a master key the gateway runs (credentials come from the
// environment); configuring api_key_secret or audit.capture_content then
// fails here with a clear error rather than storing anything in clear.
func (g *Gateway) openDataProtection(cfg *config.Config, o *options, st Store) error {
	getenv := o.getenv
	s := cfg.Secrets
	kr, err := secrets.Source{Env: s.MasterKeyEnv, File: s.MasterKeyFile,
		PreviousEnv: s.PreviousMasterKeyEnv, PreviousFile: s.PreviousMasterKeyFile, Getenv: getenv}.Load()
	if err != nil && !errors.Is(err, secrets.ErrNoMasterKey) {
		return fmt.Errorf("secrets: %w", err)
	}
	var mgr *secrets.Manager
	if ss, ok := st.(store.SecretStore); ok && kr != nil {
		mgr = secrets.NewManager(ss, kr)
		g.log.Info("secrets: master key loaded", "master_key_id", kr.CurrentID(), "previous_master_key_id", kr.PreviousID())
	}

	if err := g.resolveSecretCredentials(cfg, o, mgr, getenv); err != nil {
		return err
	}

	if alog, ok := o.rec.(*audit.Log); ok && cfg.Audit.IsEnabled() && cfg.Audit.CaptureContent {
		if mgr == nil {
			return fmt.Errorf("audit.capture_content: captured content is only stored encrypted, which needs a master key and a store that keeps secrets: %w", secrets.ErrNoMasterKey)
		}
		red, err := audit.NewRedactor()
		if err != nil {
			return err
		}
		sealer, err := mgr.ContentSealer()
		if err != nil {
			return err
		}
		if err := alog.EnableContentCapture(red, sealer); err != nil {
			return err
		}
		g.contentOpener = sealer
	}

	if ret := cfg.Audit.RetentionPeriod(); cfg.Audit.IsEnabled() && ret > 0 {
		interval := cfg.Audit.PurgeInterval
		if interval <= 0 {
			interval = config.DefaultAuditPurgeInterval
		}
		p, err := audit.NewPurger(st, ret, interval, nil, g.log)
		if err != nil {
			return err
		}
		g.reg.MustRegister(p)
		g.closers = append(g.closers, p)
		p.Start()
	}
	return nil
}

// resolveSecretCredentials checks that every upstreams[].api_key_secret
// can be read now, and makes the gateway's credential lookup read stored
// secrets (also for upstreams added by a later reload).
func (g *Gateway) resolveSecretCredentials(cfg *config.Config, o *options, mgr *secrets.Manager, getenv func(string) string) error {
	lookup := func(ctx context.Context, name string) (string, error) {
		if mgr == nil {
			return "", fmt.Errorf("no master key or no store that keeps secrets: %w", secrets.ErrNoMasterKey)
		}
		v, err := mgr.Get(ctx, name)
		if err != nil {
			return "", err
		}
		return string(v), nil
	}
	for i, u := range cfg.Upstreams {
		if u.APIKeySecret == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), secretLookupTimeout)
		_, err := lookup(ctx, u.APIKeySecret)
		cancel()
		if err != nil {
			return fmt.Errorf("upstreams[%d] (%s): api_key_secret %q: %w", i, u.Name, u.APIKeySecret, err)
		}
	}
	if err := checkMCPCredentials(cfg, lookup); err != nil {
		return err
	}
	wrapped := func(k string) string {
		name, ok := strings.CutPrefix(k, secretRefPrefix)
		if !ok {
			return getenv(k)
		}
		ctx, cancel := context.WithTimeout(context.Background(), secretLookupTimeout)
		defer cancel()
		v, err := lookup(ctx, name)
		if err != nil {
			g.log.Error("upstream credential unavailable", "secret", name, "error", err.Error())
			return ""
		}
		return v
	}
	o.getenv, g.getenv = wrapped, wrapped
	return nil
}

// adminOptions are the admin API's optional services backed by the store:
// subject erasure (DELETE /admin/subjects/{id}) when the store supports
// it, and the opener of captured content (audit.capture_content).
func (g *Gateway) adminOptions(o *options) []admin.Option {
	var opts []admin.Option
	if g.contentOpener != nil {
		opts = append(opts, admin.WithContentOpener(g.contentOpener))
	}
	er, ok := g.store.(store.SubjectEraser)
	if !ok || o.key == nil {
		return opts
	}
	e, err := audit.NewEraser(er, g.store, o.key, g.log)
	if err != nil {
		g.log.Warn("subject erasure unavailable", "error", err.Error())
		return opts
	}
	return append(opts, admin.WithEraser(e))
}
