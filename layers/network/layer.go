package network

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/netguard"
)

// Name is the layer's name in config, metrics and audit.
const Name = "network"

// Code is the error code of a refused address.
const Code = "ip_not_allowed"

// Rules (the audit record's rule of a refusal).
const (
	ruleDenied     = "deny_list"         // the address is in the deny list
	ruleNotAllowed = "not_in_allow_list" // an allow list is set and the address is not in it
)

// Module registers the layer in the chain (layers/chain.go).
var Module = engine.Module{
	Name:        Name,
	DefaultMode: engine.ModeEnforce,
	New: func(decode func(into any) error) (engine.Layer, error) {
		cfg := Defaults()
		if err := decode(&cfg); err != nil {
			return nil, err // decode names the section and the line of the key
		}
		return New(cfg), nil
	},
}

// Layer is the IP allow/deny layer.
type Layer struct {
	cfg     Config
	c       compiled
	ready   bool
	refused *prometheus.CounterVec
	log     *slog.Logger
}

// New returns an unprovisioned layer for cfg (no side effects).
func New(cfg Config) *Layer { return &Layer{cfg: cfg, log: slog.Default()} }

// Name implements engine.Layer.
func (l *Layer) Name() string { return Name }

// ValidateConfig implements engine.ConfigValidator (pure: no clients, no
// I/O), so that `rampart config validate` checks what Provision would.
func (l *Layer) ValidateConfig() error { return l.cfg.Validate() }

// Config returns the configuration.
func (l *Layer) Config() Config { return l.cfg }

// Provision compiles the lists and registers the layer's metric.
func (l *Layer) Provision(h *engine.Host) error {
	c, err := l.cfg.compile()
	if err != nil {
		return err
	}
	l.c = c
	l.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_network_ip_refused_total",
		Help: "Requests refused by the network layer's IP lists, by rule (deny_list, not_in_allow_list), monitor mode included.",
	}, []string{"rule"})
	if h != nil && h.Registerer != nil {
		if err := h.Registerer.Register(l.refused); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
			l.refused = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	if h != nil && h.Logger != nil {
		l.log = h.Logger
	}
	l.ready = true
	return nil
}

// Validate implements engine.Validator.
func (l *Layer) Validate() error {
	if !l.ready {
		return errors.New("network: not provisioned")
	}
	return nil
}

// Allowed reports whether a client address (as in tx.ClientIP) passes
// the lists. An address that does not parse passes only when there is no
// allow list.
func (l *Layer) Allowed(clientIP string) bool {
	return l.c.verdict(netguard.ParseAddr(clientIP)) == ""
}

// OnHeaders refuses a client address that is denied or not allowed.
func (l *Layer) OnHeaders(tx *engine.Tx) (engine.Decision, error) {
	if l.c.allow.Len() == 0 && l.c.deny.Len() == 0 {
		return engine.Allowed, nil
	}
	rule := l.c.verdict(netguard.ParseAddr(tx.ClientIP))
	if rule == "" {
		return engine.Allowed, nil
	}
	l.refused.WithLabelValues(rule).Inc()
	return engine.Decision{
		Action: engine.Block,
		Status: 403,
		Code:   Code,
		Reason: "requests from this network address are not allowed",
		Rule:   rule,
		Findings: []engine.Finding{{Layer: Name, Rule: rule, Severity: engine.SeverityMedium, Message: -1,
			Text: "client address refused by the network layer's IP lists"}},
	}, nil
}
