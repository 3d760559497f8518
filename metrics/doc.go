// Package metrics exports rampart's Prometheus metrics. Metrics implements
// engine.Observer: the engine reports every layer call, layer error,
// request and upstream call, and Metrics counts and times them. Layers
// register their own metrics on engine.Host.Registerer, which the gateway
// sets to Metrics.Registerer(). Metrics also implements engine.TxObserver:
// from each finished transaction it counts findings per layer and rule,
// blocks per layer and code, and token usage per upstream.
//
// The observer methods run on the request path, so label children are
// looked up in copy-on-write maps (no locks, no allocation once a label set
// has been seen) and label values are never formatted with fmt.
package metrics
