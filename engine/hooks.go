package engine

import (
	"time"

	"github.com/rampart-ai/rampart/conv"
)

// Recorder receives every finished transaction exactly once, after all
// finish-phase layers ran. The audit log implements it. Record must not keep
// tx after it returns (copy what it needs) and must not block on I/O.
type Recorder interface {
	Record(tx *Tx)
}

// Observer receives timings and counts for metrics. Implementations must be
// cheap and safe for concurrent use.
type Observer interface {
	// LayerDecision is called for every layer phase call.
	LayerDecision(layer string, phase Phase, action string, monitor bool, d time.Duration)
	// LayerError is called when a layer returned an error or panicked.
	LayerError(layer string, phase Phase)
	// Request is called once per transaction when it ends.
	Request(route string, status int, d time.Duration)
	// Upstream is called once per upstream call (status 0 when no answer).
	Upstream(name string, status int, d time.Duration)
}

// TxObserver is an optional extension of Observer for metrics that need a
// finished transaction's outcomes (findings, block codes, token usage):
// the engine calls Transaction once per transaction, after the Recorder.
// It must be cheap, safe for concurrent use, and must not keep tx.
type TxObserver interface {
	Transaction(tx *Tx)
}

// Pricer prices a transaction's token usage (see package pricing). The
// engine calls it once per transaction that has usage, before the finish
// phase, and stores the result in Tx.Cost and Tx.Priced. It must be cheap
// and safe for concurrent use.
type Pricer interface {
	Cost(model string, u conv.Usage) (nanos int64, ok bool)
}
