package engine

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/rampart-ai/rampart/conv"
)

// block is an enforced stop: the status, code and message the client sees.
type block struct {
	status  int
	code    string
	reason  string
	headers map[string]string
}

// streamStats aggregates allowed stream-event calls per layer so that a long
// stream adds one outcome per layer, not one per event.
type streamStats struct {
	calls int
	dur   time.Duration
}

// invoke calls one phase of one layer, converting a panic into an error.
func (e *Engine) invoke(tx *Tx, s *slot, p Phase, resp *conv.Response, ev *conv.StreamEvent) (d Decision, err error) {
	defer func() {
		if v := recover(); v != nil {
			e.log.ErrorContext(tx.Ctx, "layer panic", "layer", s.name, "phase", string(p), "request_id", tx.ID,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &panicError{layer: s.name, value: v}
		}
	}()
	switch p {
	case PhaseHeaders:
		return s.hdr.OnHeaders(tx)
	case PhaseRequest:
		return s.req.OnRequest(tx)
	case PhaseResponse:
		return s.resp.OnResponse(tx, resp)
	case PhaseStream:
		if ev.Synthetic {
			return s.stream.OnStreamEnd(tx, ev)
		}
		return s.stream.OnStreamEvent(tx, ev)
	}
	return Allowed, nil
}

// settle records one call's outcome and decides whether it stops the
// transaction (non-nil block).
func (e *Engine) settle(tx *Tx, s *slot, p Phase, d Decision, err error, dur time.Duration, st *streamStats) *block {
	if err != nil {
		if e.obs != nil {
			e.obs.LayerError(s.name, p)
			e.obs.LayerDecision(s.name, p, "error", s.monitor, dur)
		}
		msg := err.Error()
		if _, ok := err.(*panicError); !ok {
			e.log.WarnContext(tx.Ctx, "layer error", "layer", s.name, "phase", string(p), "request_id", tx.ID, "error", msg)
		}
		out := Outcome{Layer: s.name, Phase: p, Action: "error", Monitor: s.monitor, Error: msg, Duration: dur}
		if s.monitor || s.open {
			tx.Outcomes = append(tx.Outcomes, out)
			return nil
		}
		out.Action = Block.String()
		out.Code = CodeLayerUnavailable
		tx.Outcomes = append(tx.Outcomes, out)
		tx.Blocked = true
		return &block{status: http.StatusServiceUnavailable, code: CodeLayerUnavailable,
			reason: "security layer " + s.name + " is unavailable"}
	}
	action := d.Action.String()
	if e.obs != nil {
		e.obs.LayerDecision(s.name, p, action, s.monitor, dur)
	}
	if st != nil && d.Action == Allow && len(d.Findings) == 0 {
		st.calls++
		st.dur += dur
		return nil
	}

	tx.Outcomes = append(tx.Outcomes, Outcome{Layer: s.name, Phase: p, Action: action, Monitor: s.monitor,
		Rule: d.Rule, Code: d.Code, Findings: d.Findings, Duration: dur})
	if d.Action != Block || s.monitor {
		if !s.monitor {
			tx.addHeaders(d.Headers)
		}
		return nil
	}
	tx.Blocked = true
	b := &block{status: d.Status, code: d.Code, reason: d.Reason, headers: d.Headers}
	if b.status < 400 || b.status > 599 {
		b.status = defaultBlockStatus
	}
	// A blocked answer is not the client's fault: 422 (type output_blocked
	// in both API shapes) instead of 400 invalid_request_error.
	if (p == PhaseResponse || p == PhaseStream) && b.status == http.StatusBadRequest {
		b.status = StatusOutputBlocked
	}
	if b.code == "" {
		b.code = CodeBlocked
	}
	if b.reason == "" {
		b.reason = "blocked by security layer " + s.name
	}
	return b
}

// runHeaders runs the headers phase of the chain (before the body is read).
func (e *Engine) runHeaders(tx *Tx) *block {
	for i := range e.slots {
		s := &e.slots[i]
		if s.hdr == nil {
			continue
		}
		t0 := time.Now()
		d, err := e.invoke(tx, s, PhaseHeaders, nil, nil)
		dur := time.Since(t0)
		b := e.settle(tx, s, PhaseHeaders, d, err, dur, nil)
		if tx.trace != nil {
			e.tr.layer(tx, i, s, PhaseHeaders, t0, dur, d, err, b != nil)
		}
		if b != nil {
			return b
		}
	}
	return nil
}

// runRequest runs the request phase of the chain.
func (e *Engine) runRequest(tx *Tx) *block {
	for i := range e.slots {
		s := &e.slots[i]
		if s.req == nil {
			continue
		}
		var snap conv.Snapshot
		if s.monitor {
			snap = tx.Request.Snapshot()
		}
		t0 := time.Now()
		d, err := e.invoke(tx, s, PhaseRequest, nil, nil)
		dur := time.Since(t0)
		if s.monitor {
			tx.Request.Restore(snap)
		}
		b := e.settle(tx, s, PhaseRequest, d, err, dur, nil)
		if tx.trace != nil {
			e.tr.layer(tx, i, s, PhaseRequest, t0, dur, d, err, b != nil)
		}
		if b != nil {
			return b
		}
	}
	return nil
}

// runResponse runs the response phase on a whole response.
func (e *Engine) runResponse(tx *Tx, resp *conv.Response) *block {
	for i := range e.slots {
		s := &e.slots[i]
		if s.resp == nil {
			continue
		}
		var snap []string
		if s.monitor {
			snap = snapshotResponse(resp)
		}
		t0 := time.Now()
		d, err := e.invoke(tx, s, PhaseResponse, resp, nil)
		dur := time.Since(t0)
		if s.monitor {
			restoreResponse(resp, snap)
		}
		b := e.settle(tx, s, PhaseResponse, d, err, dur, nil)
		if tx.trace != nil {
			e.tr.layer(tx, i, s, PhaseResponse, t0, dur, d, err, b != nil)
		}
		if b != nil {
			return b
		}
	}
	return nil
}

// runStream runs the stream phase (OnStreamEvent, or OnStreamEnd for a
// synthetic event) on one event.
func (e *Engine) runStream(tx *Tx, ev *conv.StreamEvent, stats []streamStats) *block {
	for i := range e.slots {
		s := &e.slots[i]
		if s.stream == nil {
			continue
		}
		var snap eventSnapshot
		if s.monitor {
			snap.take(ev)
		}
		t0 := time.Now()
		d, err := e.invoke(tx, s, PhaseStream, nil, ev)
		dur := time.Since(t0)
		if s.monitor {
			snap.restore(ev)
		}
		b := e.settle(tx, s, PhaseStream, d, err, dur, &stats[i])
		if tx.trace != nil {
			if err == nil && d.Action == Allow && len(d.Findings) == 0 {
				tx.trace.streamCall(len(e.slots), i, t0, dur) // one span per layer, at the end
			} else {
				e.tr.layer(tx, i, s, PhaseStream, t0, dur, d, err, b != nil)
			}
		}
		if b != nil {
			return b
		}
	}
	return nil
}

// flushStreamStats appends one allow outcome per stream layer that allowed
// events, with the summed time of those calls.
func (e *Engine) flushStreamStats(tx *Tx, stats []streamStats) {
	for i := range stats {
		if stats[i].calls == 0 {
			continue
		}
		s := &e.slots[i]
		tx.Outcomes = append(tx.Outcomes, Outcome{Layer: s.name, Phase: PhaseStream, Action: Allow.String(),
			Monitor: s.monitor, Duration: stats[i].dur})
		stats[i] = streamStats{}
	}
}

// runFinish calls every finish layer; it cannot change the answer.
func (e *Engine) runFinish(tx *Tx) {
	for i := range e.slots {
		s := &e.slots[i]
		if s.fin == nil {
			continue
		}
		t0 := time.Now()
		err := e.callFinish(tx, s)
		dur := time.Since(t0)
		out := Outcome{Layer: s.name, Phase: PhaseFinish, Action: Allow.String(), Monitor: s.monitor, Duration: dur}
		if err != nil {
			out.Action, out.Error = "error", err.Error()
			if e.obs != nil {
				e.obs.LayerError(s.name, PhaseFinish)
			}
		}
		if e.obs != nil {
			e.obs.LayerDecision(s.name, PhaseFinish, out.Action, s.monitor, dur)
		}
		if tx.trace != nil {
			e.tr.layer(tx, i, s, PhaseFinish, t0, dur, Allowed, err, false)
		}
		tx.Outcomes = append(tx.Outcomes, out)
	}
}

func (e *Engine) callFinish(tx *Tx, s *slot) (err error) {
	defer func() {
		if v := recover(); v != nil {
			e.log.ErrorContext(tx.Ctx, "layer panic", "layer", s.name, "phase", string(PhaseFinish), "request_id", tx.ID,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &panicError{layer: s.name, value: v}
		}
	}()
	s.fin.OnFinish(tx)
	return nil
}

func snapshotResponse(r *conv.Response) []string {
	var out []string
	for i := range r.Choices {
		for j := range r.Choices[i].Message.Segments {
			out = append(out, r.Choices[i].Message.Segments[j].Text)
		}
	}
	return out
}

func restoreResponse(r *conv.Response, snap []string) {
	k := 0
	for i := range r.Choices {
		for j := range r.Choices[i].Message.Segments {
			if k < len(snap) {
				r.Choices[i].Message.Segments[j].Text = snap[k]
			}
			k++
		}
	}
}

// eventSnapshot remembers what a monitor-mode layer may change in an event.
type eventSnapshot struct {
	texts []string
	drops []bool
	drop  bool
}

func (s *eventSnapshot) take(ev *conv.StreamEvent) {
	s.texts = s.texts[:0]
	for i := range ev.Deltas {
		s.texts = append(s.texts, ev.Deltas[i].Text)
	}
	s.drop = ev.Drop
	s.drops = s.drops[:0]
	for i := range ev.ToolCalls {
		s.drops = append(s.drops, ev.ToolCalls[i].Drop)
	}
}

func (s *eventSnapshot) restore(ev *conv.StreamEvent) {
	// A layer could have appended or removed deltas; put the slices back to
	// their recorded length where possible.
	if len(ev.Deltas) > len(s.texts) {
		ev.Deltas = ev.Deltas[:len(s.texts)]
	}
	for i := range ev.Deltas {
		ev.Deltas[i].Text = s.texts[i]
	}
	if len(ev.ToolCalls) > len(s.drops) {
		ev.ToolCalls = ev.ToolCalls[:len(s.drops)]
	}
	for i := range ev.ToolCalls {
		ev.ToolCalls[i].Drop = s.drops[i]
	}
	ev.Drop = s.drop
}
