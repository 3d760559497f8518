package engine

import (
	"sync"
	"testing"
)

// txObserver is an observer that also implements TxObserver.
type txObserver struct {
	observer
	mu       sync.Mutex
	outcomes [][]Outcome
	recorded bool // the recorder had the transaction first
	rec      *recorder
}

func (o *txObserver) Transaction(tx *Tx) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes = append(o.outcomes, append([]Outcome(nil), tx.Outcomes...))
	o.rec.mu.Lock()
	o.recorded = len(o.rec.txs) == len(o.outcomes)
	o.rec.mu.Unlock()
}

func TestTxObserverCalledOncePerTransaction(t *testing.T) {
	rec := &recorder{}
	obs := &txObserver{rec: rec}
	e, err := New(Options{Logger: quiet, Recorder: rec, Observer: obs, Routes: []Route{chatRoute},
		Layers: []Configured{enforce(&testLayer{name: "guard", req: func(*Tx) (Decision, error) {
			return Decision{Action: Block, Code: "nope"}, nil
		}})}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{e: e, rec: rec}
	h.do(chatRoute, jsonUpstream(chatResp), chatReq)
	h.do(chatRoute, jsonUpstream(chatResp), chatReq)
	if len(obs.outcomes) != 2 || !obs.recorded {
		t.Fatalf("Transaction calls = %d (after Record: %v), want 2", len(obs.outcomes), obs.recorded)
	}
	if o := obs.outcomes[0]; len(o) == 0 || o[0].Action != "block" || o[0].Code != "nope" {
		t.Fatalf("outcomes seen = %+v", o)
	}
}
