package gateway

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers"
	"github.com/rampart-ai/rampart/layers/blocklist"
	layeridentity "github.com/rampart-ai/rampart/layers/identity"
)

// ErrNoLoader is returned by Reload for a gateway built without
// WithConfigLoader.
var ErrNoLoader = errors.New("gateway: no configuration loader (WithConfigLoader) to reload from")

// ErrFixedChain is returned by ReloadConfig for a gateway built WithLayers:
// its chain belongs to the caller.
var ErrFixedChain = errors.New("gateway: the layer chain was given WithLayers and cannot be reloaded")

// errClosed is returned by ReloadConfig after Close.
var errClosed = errors.New("gateway: closed")

// Reload reads the configuration again with the loader given to
// WithConfigLoader and swaps it in (see ReloadConfig). An invalid
// configuration leaves the one in force untouched; the error says why.
func (g *Gateway) Reload() error {
	if g.reload.loader == nil {
		return ErrNoLoader
	}
	g.reload.mu.Lock()
	defer g.reload.mu.Unlock()
	cfg, err := g.reload.loader()
	if err != nil {
		return g.reloadFailed(err)
	}
	return g.swapLocked(cfg)
}

// ReloadConfig validates cfg by building everything that depends on it (a
// new generation: layer chain provisioned and validated, engine, upstreams,
// routes, scanner) and then swaps it in atomically. Requests and streams in
// flight finish on the generation they started on, which is closed after
// the last of them (at most DefaultDrainTimeout later). On any error the
// running configuration stays in force, and the failure is logged, counted
// (rampart_config_reload_total{result="failure"}) and shown on /readyz.
//
// Settings that only take effect at start (the listener and server
// timeouts, data_dir, audit, log, layers.identity, the block cache's
// layers.blocklist settings (refresh_interval, purge_interval), incident
// response (incident, or the deprecated layers.blocklist.incident) and
// any other top-level section besides upstreams, routing and layers) keep
// their running values; a change to them is logged as needing a restart
// and listed on /readyz.
func (g *Gateway) ReloadConfig(cfg *config.Config) error {
	g.reload.mu.Lock()
	defer g.reload.mu.Unlock()
	return g.swapLocked(cfg)
}

// swapLocked does ReloadConfig with g.reload.mu held.
func (g *Gateway) swapLocked(cfg *config.Config) error {
	if g.fixedOK {
		return g.reloadFailed(ErrFixedChain)
	}
	old := g.cur.Load()
	if old == nil {
		return errClosed
	}
	if cfg == nil {
		return g.reloadFailed(errors.New("gateway: nil configuration"))
	}
	next := *cfg // a shallow copy: pinning restart-only settings must not touch the caller's value
	restart := pinRestartOnly(old.cfg, &next)
	if err := next.Validate(); err != nil {
		return g.reloadFailed(err)
	}
	gen, err := g.buildGeneration(&next)
	if err != nil {
		return g.reloadFailed(err)
	}
	for _, w := range layers.Warnings(cfg) {
		g.log.Warn("config: " + w)
	}
	g.cur.Store(gen)
	old.retire()
	g.draining.Add(1)
	go func() {
		defer g.draining.Done()
		if err := g.drain(old); err != nil {
			g.log.Warn("config: closing the replaced configuration", "generation", old.id, "error", err.Error())
		}
	}()
	g.reload.loaded(gen, restart)
	attrs := []any{"generation", gen.id, "layers", gen.eng.Layers(), "upstreams", len(next.Upstreams)}
	if len(restart) > 0 {
		g.log.Warn("config: reloaded, but some changed settings take effect only after a restart; their running values stay in force",
			append(attrs, "restart_required", restart)...)
	} else {
		g.log.Info("config: reloaded", attrs...)
	}
	return nil
}

// buildGeneration provisions a new chain over the shared services. The
// generation holds its own references to them (a service its layers
// create is shared with later generations through the pool); if it fails
// to build, its layers are closed and its references released, which
// closes what only it used.
func (g *Gateway) buildGeneration(cfg *config.Config) (*generation, error) {
	reg := g.collected.forGeneration()
	svc := g.pool.Holder()
	host := &engine.Host{Logger: g.log, Registerer: reg, DataDir: cfg.DataDir, Services: svc}
	abandon := func(err error, closers []io.Closer) error {
		errs := []error{err, closeAll(closers), svc.Release()}
		reg.release()
		return errors.Join(errs...)
	}
	chain, closers, err := buildChain(cfg, host)
	if err != nil {
		return nil, abandon(err, closers)
	}
	sc, err := chainScanner(cfg, chain)
	if err != nil {
		return nil, abandon(fmt.Errorf("scan: %w", err), closers)
	}
	gen, err := g.newGeneration(cfg, chain, closers, sc) // closes closers on error
	if err != nil {
		return nil, abandon(err, nil)
	}
	gen.reg, gen.svc = reg, svc
	return gen, nil
}

// reloadFailed records a failed reload and returns err.
func (g *Gateway) reloadFailed(err error) error {
	g.reload.failed(err)
	g.log.Error("config: reload failed; the running configuration stays in force", "error", err.Error())
	return err
}

// pinRestartOnly copies into next the running values of the settings that
// only take effect at start, and returns the names of those that differ.
// What reloads: upstreams, routing, layers (except identity, whose service holds
// the key cache, lockouts and the admin API's state), and the request and
// response size caps. Everything else, including top-level sections added
// later (listener TLS, store, telemetry), is restart-only by default.
func pinRestartOnly(running, next *config.Config) []string {
	var changed []string
	rv, nv := reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem()
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch f.Name {
		case "Upstreams", "Layers", "Routing", "Incident":
			continue // Incident: pinIncident
		case "Server":
			s := next.Server
			if !reflect.DeepEqual(withSizes(running.Server, s), s) {
				changed = append(changed, yamlName(f)+" (except max_body_bytes, max_response_bytes)")
			}
			next.Server = withSizes(running.Server, s)
			continue
		}
		if !reflect.DeepEqual(rv.Field(i).Interface(), nv.Field(i).Interface()) {
			changed = append(changed, yamlName(f))
			nv.Field(i).Set(rv.Field(i))
		}
	}
	// layers.identity: the identity service (keys cache, lockouts, JWT and
	// OIDC verifiers, admin API) is built once.
	ri, ni := running.Layer(layeridentity.Name), next.Layer(layeridentity.Name)
	if ri.Mode != ni.Mode || ri.Failure != ni.Failure || !reflect.DeepEqual(ri.Options, ni.Options) {
		changed = append(changed, "layers."+layeridentity.Name)
	}
	layers := make(map[string]config.Layer, len(next.Layers)+1)
	for k, v := range next.Layers {
		layers[k] = v
	}
	if l, ok := running.Layers[layeridentity.Name]; ok {
		layers[layeridentity.Name] = l
	} else {
		delete(layers, layeridentity.Name)
	}
	next.Layers = layers
	changed = append(changed, pinBlocklist(running, next)...)
	return append(changed, pinIncident(running, next)...)
}

// blocklistStartOnly are the layers.blocklist settings of the block cache,
// which the gateway opens once at start (openIncident) and every
// generation shares.
var blocklistStartOnly = []string{"refresh_interval", "purge_interval"}

// pinBlocklist names and pins the layers.blocklist settings a reload
// cannot apply: with the layer running, the shared block cache's
// refresh_interval and purge_interval. Other blocklist settings, and the
// mode, reload. Effective values are compared, so spelling a default out
// changes nothing.
func pinBlocklist(running, next *config.Config) []string {
	rs, ns := running.Layer(blocklist.Name), next.Layer(blocklist.Name)
	rc, err1 := blocklist.DecodeConfig(rs.Decode)
	nc, err2 := blocklist.DecodeConfig(ns.Decode)
	if err1 != nil || err2 != nil {
		return nil // the new file's errors are reported by its check
	}
	if layers.ModeOf(blocklist.Module, rs) == engine.ModeOff {
		return nil // each generation's layer builds its own cache: all applies
	}
	differs := map[string]bool{
		"refresh_interval": rc.RefreshInterval != nc.RefreshInterval,
		"purge_interval":   rc.PurgeInterval != nc.PurgeInterval,
	}
	var changed []string
	for _, key := range blocklistStartOnly {
		if differs[key] {
			changed = append(changed, "layers."+blocklist.Name+"."+key)
			pinOption(running, next, key)
		}
	}
	return changed
}

// pinOption sets layers.blocklist.<key> in next to its value in running
// (or removes it when running does not set it).
func pinOption(running, next *config.Config, key string) {
	rs, ns := running.Layer(blocklist.Name), next.Layer(blocklist.Name)
	opts := maps.Clone(ns.Options)
	if opts == nil {
		opts = map[string]any{}
	}
	if v, ok := rs.Options[key]; ok {
		opts[key] = v
	} else {
		delete(opts, key)
	}
	ns.Options = opts
	next.Layers[blocklist.Name] = ns
}

// pinIncident names incident response when a reload would change it: the
// responder is started (or not) once, at start, with the effective
// incident configuration (top-level incident, or the deprecated
// layers.blocklist.incident). When the new file keeps the blocklist layer
// on, the running section is pinned into it, in whichever place it was.
func pinIncident(running, next *config.Config) []string {
	rc, _, err1 := layers.IncidentConfig(running)
	nc, _, err2 := layers.IncidentConfig(next)
	if err1 != nil || err2 != nil {
		return nil // the new file's errors are reported by its check
	}
	rOn := rc.Enabled && layers.ModeOf(blocklist.Module, running.Layer(blocklist.Name)) != engine.ModeOff
	nextBlocklist := layers.ModeOf(blocklist.Module, next.Layer(blocklist.Name)) != engine.ModeOff
	nOn := nc.Enabled && nextBlocklist
	if !rOn && !nOn || rOn && nOn && reflect.DeepEqual(rc, nc) {
		return nil
	}
	if nextBlocklist {
		next.Incident = running.Incident
		pinOption(running, next, "incident")
	}
	if !rOn {
		return []string{"incident (incident response starts with the gateway)"}
	}
	return []string{"incident"}
}

// withSizes is s with the reloadable size caps of from.
func withSizes(s, from config.Server) config.Server {
	s.MaxBodyBytes, s.MaxResponseBytes = from.MaxBodyBytes, from.MaxResponseBytes
	return s
}

func yamlName(f reflect.StructField) string {
	if n, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); n != "" {
		return n
	}
	return f.Name
}

// reloadState is what the gateway knows about its configuration: the
// generation in force, the last reload's outcome, and the reload metrics.
type reloadState struct {
	mu     sync.Mutex // serialises reloads (and Close)
	loader func() (*config.Config, error)

	smu        sync.Mutex // guards the fields below
	generation uint64
	loadedAt   time.Time
	restart    []string
	last       *reloadOutcome

	total       *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	gen         prometheus.Gauge
}

type reloadOutcome struct {
	Result string    `json:"result"`
	At     time.Time `json:"at"`
	Error  string    `json:"error,omitempty"`
}

// configStatus is the "config" object of /readyz. Error messages there are
// reduced to where the problem is (file:line and field, or layer name):
// /readyz is unauthenticated, and the full message (which may quote the
// policy) is in the gateway's log.
type configStatus struct {
	Generation      uint64         `json:"generation"`
	LoadedAt        time.Time      `json:"loaded_at"`
	RestartRequired []string       `json:"restart_required,omitempty"`
	LastReload      *reloadOutcome `json:"last_reload,omitempty"`
}

type readyBody struct {
	Status string        `json:"status"`
	Config *configStatus `json:"config,omitempty"`
	// Upstreams are the configured upstreams' circuit breakers (closed,
	// half_open, open) and calls in flight. An open breaker does not make
	// the replica unready: every replica shares the upstreams.
	Upstreams []upstreamStatus `json:"upstreams,omitempty"`
}

func (s *reloadState) init(reg prometheus.Registerer, loader func() (*config.Config, error)) {
	s.loader = loader
	s.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_config_reload_total",
		Help: "Configuration reloads (SIGHUP, file change, ReloadConfig) by result: success or failure (the previous configuration stays in force).",
	}, []string{"result"})
	s.lastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rampart_config_last_reload_success_timestamp_seconds",
		Help: "Unix time at which the configuration in force was loaded (start or last successful reload).",
	})
	s.gen = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rampart_config_generation",
		Help: "Number of the configuration in force: 1 at start, +1 per successful reload.",
	})
	s.total.WithLabelValues("success")
	s.total.WithLabelValues("failure")
	reg.MustRegister(s.total, s.lastSuccess, s.gen)
}

// loaded records gen as in force; restart lists settings whose change
// needs a restart. At start (restart nil, first generation) nothing is
// counted as a reload.
func (s *reloadState) loaded(gen *generation, restart []string) {
	now := time.Now()
	s.smu.Lock()
	first := s.generation == 0
	s.generation, s.loadedAt, s.restart = gen.id, now, restart
	if !first {
		s.last = &reloadOutcome{Result: "success", At: now}
	}
	s.smu.Unlock()
	if !first {
		s.total.WithLabelValues("success").Inc()
	}
	s.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
	s.gen.Set(float64(gen.id))
}

func (s *reloadState) failed(err error) {
	s.smu.Lock()
	s.last = &reloadOutcome{Result: "failure", At: time.Now(), Error: publicError(err)}
	s.smu.Unlock()
	s.total.WithLabelValues("failure").Inc()
}

func (s *reloadState) status() *configStatus {
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.generation == 0 {
		return nil
	}
	st := &configStatus{Generation: s.generation, LoadedAt: s.loadedAt.UTC(), RestartRequired: s.restart}
	if s.last != nil {
		l := *s.last
		l.At = l.At.UTC()
		st.LastReload = &l
	}
	return st
}

// maxPublicProblems bounds the locations listed on /readyz.
const maxPublicProblems = 10

// publicError says where a reload failed without quoting the file or the
// policy: each config problem as file:line and field, a layer's failure as
// its name, an unreadable file as the OS error.
func publicError(err error) string {
	var where []string
	var walk func(error)
	walk = func(err error) {
		if len(where) > maxPublicProblems {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *config.FieldError
		var pe *fs.PathError
		switch {
		case errors.As(err, &fe):
			loc := filepath.Base(fe.Source)
			if fe.Source == "" {
				loc = "config"
			}
			if fe.Line > 0 {
				loc += ":" + strconv.Itoa(fe.Line)
			}
			if fe.Field != "" {
				loc += " " + fe.Field
			}
			where = append(where, loc)
		case errors.As(err, &pe):
			where = append(where, "cannot read "+filepath.Base(pe.Path)+": "+pe.Err.Error())
		case errors.Is(err, ErrFixedChain), errors.Is(err, ErrNoLoader):
			where = append(where, err.Error())
		default:
			msg := err.Error()
			if strings.HasPrefix(msg, "layers.") {
				name, _, _ := strings.Cut(msg, ":")
				where = append(where, name)
			} else if strings.HasPrefix(msg, "upstream ") || strings.HasPrefix(msg, "scan: ") {
				name, _, _ := strings.Cut(msg, ":")
				where = append(where, name)
			} else {
				where = append(where, "invalid configuration")
			}
		}
	}
	walk(err)
	if len(where) > maxPublicProblems {
		where = append(where[:maxPublicProblems], "...")
	}
	return strings.Join(where, "; ") + " (details in the gateway log)"
}
