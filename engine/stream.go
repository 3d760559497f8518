package engine

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/sse"
)

var readerPool sync.Pool

func (e *Engine) getReader(r io.Reader) *sse.Reader {
	if rd, ok := readerPool.Get().(*sse.Reader); ok {
		rd.Reset(r)
		return rd
	}
	return sse.NewReader(r, e.maxEvent)
}

func putReader(rd *sse.Reader) {
	rd.Reset(nil)
	readerPool.Put(rd)
}

// maxDrainEvents bounds how many events after the terminal one are read
// (and dropped) so that the upstream connection can be reused.
const maxDrainEvents = 16

// stream relays a 2xx text/event-stream answer event by event.
func (t *txn) stream(resp *http.Response) {
	e, tx, ad := t.e, t.tx, t.route.Adapter
	t.copyHeader(resp.Header)
	h := t.w.Header()
	h.Del("Content-Encoding")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("X-Accel-Buffering", "no")
	if t.array {
		h.Set("Content-Type", "application/json; charset=UTF-8")
	}
	t.flusher = flusherOf(t.w)
	t.started = true
	tx.Status = resp.StatusCode
	t.w.WriteHeader(resp.StatusCode)
	t.flush()

	var rd *sse.Reader
	if e.maxEvent == DefaultMaxEventBytes {
		rd = e.getReader(resp.Body)
		defer putReader(rd)
	} else {
		rd = sse.NewReader(resp.Body, e.maxEvent)
	}
	var stats []streamStats
	if e.hasStream {
		stats = make([]streamStats, len(e.slots))
		defer e.flushStreamStats(tx, stats)
	}
	buf := e.getBuf()
	defer e.putBuf(buf)
	seq := 0
	var sev conv.StreamEvent // reused: adapters reset it per event
	var end endState
	for {
		endAfter := false // release held text after this event (see below)
		ev, err := rd.Next()
		if err != nil {
			if tx.Ctx.Err() != nil {
				tx.Err = tx.Ctx.Err()
				tx.Status = 499
				return
			}
			if err == io.EOF {
				// The upstream closed without its terminal event (or, for
				// an API whose streams have none, after its last chunk).
				if end.calls == 0 || end.pending {
					if !t.endStream(stats, seq, &end) {
						return
					}
				}
				if end.finished && endsAtEOF(ad) {
					if t.array {
						t.closeArray()
					}
					t.flush()
					return
				}
				tx.Err = errors.New("upstream stream ended before its terminal event")
				t.streamError(CodeUpstreamError, "upstream stream ended unexpectedly (request id "+tx.ID+")")
				return
			}
			tx.Err = err
			code, msg := CodeUpstreamError, "upstream stream failed"
			if errors.Is(err, sse.ErrEventTooLarge) {
				code, msg = CodeUpstreamInvalid, "upstream sent an oversized stream event"
			} else if he := asHTTPError(err); he.Code != "" {
				code, msg = he.Code, he.Message
			}
			t.streamError(code, msg+" (request id "+tx.ID+")")
			return
		}
		// Flush only when the next event is not already here: each event
		// still leaves at once, but a burst costs one write to the client.
		// The first event with data is always flushed on its own, so time
		// to first byte does not wait for a burst to be scanned.
		t.batch = seq > 0 && rd.HasBufferedEvent()
		if !ev.HasData {
			// Comments (keep-alives) and data-less blocks carry no content
			// (and have no place in a JSON array).
			if !t.array && !t.write(ev.Raw) {
				return
			}
			continue
		}
		if ev.IsDone() {
			sev = conv.StreamEvent{Deltas: sev.Deltas[:0], ToolCalls: sev.ToolCalls[:0], Data: ev.Data, Done: true, State: sev.State}
		} else if stats == nil && !mayMatter(ev.Name, ev.Data) {
			// No stream layers: only usage and the terminal event matter,
			// so events that cannot carry them are relayed unparsed.
			sev = conv.StreamEvent{Deltas: sev.Deltas[:0], ToolCalls: sev.ToolCalls[:0], Name: ev.Name, Data: ev.Data, State: sev.State}
		} else if err := ad.ParseStreamEvent(ev.Name, ev.Data, &sev); err != nil {
			tx.Err = err
			e.log.WarnContext(tx.Ctx, "unparseable upstream stream event", "request_id", tx.ID, "route", tx.Route, "upstream", tx.Upstream)
			t.streamError(CodeUpstreamInvalid, "upstream sent an unparseable stream event (request id "+tx.ID+")")
			return
		}
		sev.Seq = seq
		seq++
		if len(sev.FinishReason) > 0 {
			end.finished = true
		}
		if sev.Usage != nil {
			mergeUsage(&tx.Usage, sev.Usage)
		}
		if stats != nil {
			// Text held back by layers is released before the event that
			// ends a run of text: a finish reason, Anthropic's
			// content_block_stop, an event the adapter marks (EndsText),
			// or the terminal event; when that event carries text itself,
			// after it (see endAfter).
			end.state = sev.State
			endsText := len(sev.FinishReason) > 0 || sev.Name == "content_block_stop" || sev.EndsText || sev.Done
			// An event that ends a run of text and carries text itself
			// (a chunk holding the last text and the finish reason, as
			// Gemini and many OpenAI-compatible servers send): the layers
			// see its text first and the held text is released after it,
			// joined with it; releasing before would send a held secret's
			// prefix unredacted.
			endAfter = endsText && !sev.Done && (len(sev.Deltas) > 0 || heldArgs(sev.ToolCalls))
			if !endAfter && ((end.pending && endsText) || (sev.Done && end.calls == 0)) {
				if !t.endStream(stats, seq, &end) {
					return
				}
			}
			if b := e.runStream(tx, &sev, stats); b != nil {
				t.streamError(b.code, b.reason)
				return
			}
			if sev.Drop && !sev.Done {
				if endAfter && !t.endStream(stats, seq, &end) {
					return
				}
				continue // a layer removed the event (e.g. a usage-only chunk it asked upstream for)
			}
			if len(sev.Deltas) > 0 || heldArgs(sev.ToolCalls) {
				end.pending = true
				end.name = sev.Name
				end.tmpl = append(end.tmpl[:0], ev.Data...)
			}
		}
		out := ev.Raw
		if sev.Changed() || (stats != nil && sev.Reencode) {
			data, err := ad.EncodeStreamEvent(&sev)
			if err != nil {
				tx.Err = err
				e.log.ErrorContext(tx.Ctx, "encode stream event", "request_id", tx.ID, "error", err.Error())
				t.streamError(CodeInternal, "could not apply stream changes")
				return
			}
			switch {
			case data == nil && !sev.Done:
				out = nil // the adapter removed the event (a dropped tool call's)
			case !sameBytes(data, ev.Data):
				*buf = t.frame((*buf)[:0], sev.Name, data)
				out = *buf
			case t.array:
				*buf = t.arrayElem((*buf)[:0], ev.Data)
				out = *buf
			}
		} else if t.array {
			*buf = t.arrayElem((*buf)[:0], ev.Data)
			out = *buf
		}
		if out != nil && !t.write(out) {
			return
		}
		if endAfter && !t.endStream(stats, seq, &end) {
			return
		}
		if sev.Done {
			if t.array {
				t.closeArray()
			}
			t.flush()
			t.drain(rd)
			return
		}
	}
}

// heldArgs reports whether tool-call deltas carry arguments a layer may
// hold back (their adapter can rewrite them): the event then counts as a
// text event for the release of held text.
func heldArgs(tcs []conv.ToolCallDelta) bool {
	for i := range tcs {
		if tcs[i].ArgumentsDelta != "" && tcs[i].Path != "" {
			return true
		}
	}
	return false
}

// endState tracks when stream layers last released held text.
type endState struct {
	calls   int    // OnStreamEnd rounds so far
	pending bool   // text events passed since the last round
	name    string // SSE name of the last text event
	tmpl    []byte // data of the last text event (template for the adapter)
	state   any    // the adapter's per-stream state (conv.StreamEvent.State)
	// finished: an event carried a finish reason (for streams that end
	// at EOF, the close after it is the normal end).
	finished bool
}

// endsAtEOF reports whether the adapter's streams have no terminal event
// and end when the upstream closes them after a finish reason (Gemini).
func endsAtEOF(a any) bool {
	e, ok := a.(interface{ StreamEndsAtEOF() bool })
	return ok && e.StreamEndsAtEOF()
}

// endStream gives stream layers the synthetic end event (OnStreamEnd) and
// emits it when it carries text or tool-call arguments. Its Data is the last upstream text event,
// which adapters use as a template (ids, model, content block index). It reports false when the stream was ended by an error.
func (t *txn) endStream(stats []streamStats, seq int, end *endState) bool {
	if stats == nil {
		return true
	}
	end.calls++
	end.pending = false
	syn := conv.StreamEvent{Seq: seq, Synthetic: true, Data: end.tmpl, State: end.state}
	if b := t.e.runStream(t.tx, &syn, stats); b != nil {
		t.streamError(b.code, b.reason)
		return false
	}
	hasText := false
	for i := range syn.Deltas {
		if syn.Deltas[i].Text != "" {
			hasText = true
			break
		}
	}
	for i := range syn.ToolCalls {
		if syn.ToolCalls[i].ArgumentsDelta != "" {
			hasText = true
			break
		}
	}
	if !hasText {
		return true
	}
	data, err := t.route.Adapter.EncodeStreamEvent(&syn)
	if err != nil {
		t.tx.Err = err
		t.e.log.ErrorContext(t.tx.Ctx, "encode stream end event", "request_id", t.tx.ID, "error", err.Error())
		t.streamError(CodeInternal, "could not emit held stream text")
		return false
	}
	name := syn.Name
	if name == "" {
		name = end.name
	}
	buf := t.e.getBuf()
	*buf = t.frame((*buf)[:0], name, data)
	ok := t.write(*buf)
	t.e.putBuf(buf)
	return ok
}

// frame appends one event to dst as the client receives it: a server-sent
// event, or an element of the JSON array (Route.ArrayStream).
func (t *txn) frame(dst []byte, name string, data []byte) []byte {
	if t.array {
		return t.arrayElem(dst, data)
	}
	return sse.AppendEvent(dst, name, data)
}

// arrayElem appends data as the next element of the JSON array: "[" before
// the first, ",\r\n" before the others (as Google's servers write it).
func (t *txn) arrayElem(dst, data []byte) []byte {
	if t.elems == 0 {
		dst = append(dst, '[')
	} else {
		dst = append(dst, ",\r\n"...)
	}
	t.elems++
	return append(dst, data...)
}

// closeArray ends the JSON array ("[]" when no element was sent).
func (t *txn) closeArray() {
	end := []byte("]")
	if t.elems == 0 {
		end = []byte("[]")
	}
	t.write(end)
}

// drain reads (and drops) what follows the terminal event so that the
// upstream connection can be reused.
func (t *txn) drain(rd *sse.Reader) {
	for i := 0; i < maxDrainEvents; i++ {
		if _, err := rd.Next(); err != nil {
			return
		}
	}
}

// write sends p to the client and flushes unless more events are already
// buffered (t.batch); false when the client is gone.
func (t *txn) write(p []byte) bool {
	n, err := t.w.Write(p)
	t.tx.ResponseBytes += int64(n)
	if err != nil {
		t.tx.Err = err
		t.tx.Status = 499
		return false
	}
	if !t.batch {
		t.flush()
	}
	return true
}

func (t *txn) flush() {
	if t.flusher != nil {
		t.flusher.Flush()
	}
}

// flusherOf finds an http.Flusher in w or the writers it wraps.
func flusherOf(w http.ResponseWriter) http.Flusher {
	for {
		if f, ok := w.(http.Flusher); ok {
			return f
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

var (
	usageKey  = []byte(`"usage"`)
	stopKey   = []byte("message_stop")
	usageMeta = []byte(`"usageMetadata"`)
	finishKey = []byte(`"finishReason"`)
	errorKey  = []byte(`"error"`)
)

// mayMatter reports whether an event may carry token usage, a finish reason
// a stream that ends at EOF needs (Gemini), or be a terminal event, judged
// by a substring check that can only err towards parsing.
func mayMatter(name string, data []byte) bool {
	return name == "message_stop" || name == "error" || bytes.Contains(data, usageKey) || bytes.Contains(data, stopKey) ||
		bytes.Contains(data, usageMeta) || bytes.Contains(data, finishKey) || bytes.Contains(data, errorKey)
}

// mergeUsage folds a stream event's usage into the transaction's. Providers
// report usage in pieces (Anthropic: prompt tokens in message_start,
// completion tokens in message_delta), so a later report does not erase a
// count an earlier one gave.
func mergeUsage(dst *conv.Usage, u *conv.Usage) {
	if u.PromptTokens > 0 {
		dst.PromptTokens = u.PromptTokens
	}
	if u.CompletionTokens > 0 {
		dst.CompletionTokens = u.CompletionTokens
	}
	if u.CachedPromptTokens > 0 {
		dst.CachedPromptTokens = u.CachedPromptTokens
	}
	dst.TotalTokens = dst.PromptTokens + dst.CompletionTokens
	if u.TotalTokens > dst.TotalTokens {
		dst.TotalTokens = u.TotalTokens
	}
}

// sameBytes reports whether a and b are the very same slice (an adapter
// returned the event's data unchanged), so the raw event can be relayed.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
