package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/layers"
	"github.com/rampart-ai/rampart/layers/blocklist"
)

// openIncident wires blocks and automatic incident response (issue #7):
// one block cache over the store, shared by the blocklist layer and the
// admin API and refreshed from the store in the background (so blocks
// made on any replica reach this one), and, with incident.enabled (the
// top-level section, or the deprecated layers.blocklist.incident), the
// incident responder, which receives every finished transaction next to
// the audit log. It does nothing when the blocklist layer is off (Check
// refuses incident response without it).
func (g *Gateway) openIncident(cfg *config.Config, o *options) error {
	sec := cfg.Layer(blocklist.Name)
	if layers.ModeOf(blocklist.Module, sec) == engine.ModeOff {
		return nil
	}
	bcfg, err := blocklist.DecodeConfig(sec.Decode)
	if err != nil {
		return sec.Errors(err)
	}
	if err := bcfg.Validate(); err != nil {
		return sec.Errors(err)
	}
	icfg, deprecated, err := layers.IncidentConfig(cfg)
	if err != nil {
		return err
	}
	if err := icfg.Validate(); err != nil {
		return fmt.Errorf("incident: %w", err)
	}
	if deprecated {
		for _, w := range layers.Warnings(cfg) {
			g.log.Warn("config: " + w)
		}
	}
	cache := blocklist.NewCache(g.store, g.log)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	err = cache.Reload(ctx)
	cancel()
	if err != nil {
		return fmt.Errorf("blocks: %w", err)
	}
	if err := cache.Register(g.reg); err != nil {
		return err
	}
	cache.Start(bcfg.RefreshInterval, bcfg.PurgeInterval)
	// The gateway's reference keeps it for the gateway's life; the pool
	// closes it when the last generation using it is gone too.
	if err := engine.Provide(g.own, blocklist.CacheKey, cache, cache.Close); err != nil {
		return errors.Join(err, cache.Close())
	}
	g.blocks = cache

	if !icfg.Enabled {
		return nil
	}
	var aw incident.AuditWriter
	if w := g.auditWriter(cfg); w != nil {
		aw = w // the audit log: spooled while the store is unreachable
	}
	r := incident.New(icfg, incident.Options{Blocks: cache, Audit: aw, Logger: g.log,
		Registerer: g.reg, Getenv: o.getenv})
	if err := r.Start(); err != nil {
		return err
	}
	// Released before the cache (references are released newest first)
	// and closed before the audit log (g.closers run after the pool).
	if err := engine.Provide(g.own, incident.Key, r, r.Close); err != nil {
		return errors.Join(err, r.Close())
	}
	g.responder = r
	o.rec = fanOut(o.rec, r)
	return nil
}

// adminBlocks is the admin API option for /admin/blocks: through the
// block cache when the blocklist layer runs (changes apply here at once),
// else on the store directly (other replicas still enforce them).
func (g *Gateway) adminBlocks(cfg *config.Config) admin.Option {
	aw := g.auditWriter(cfg)
	if g.blocks != nil {
		return admin.WithBlocks(g.blocks, aw)
	}
	return admin.WithBlocks(g.store, aw)
}

// recorders hands every transaction to each recorder in turn.
type recorders []engine.Recorder

func (rs recorders) Record(tx *engine.Tx) {
	for _, r := range rs {
		r.Record(tx)
	}
}

// fanOut returns a recorder that feeds both a (may be nil) and b.
func fanOut(a, b engine.Recorder) engine.Recorder {
	if a == nil {
		return b
	}
	return recorders{a, b}
}
