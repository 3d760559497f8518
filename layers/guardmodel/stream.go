package guardmodel

import (
	"sort"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// stateKey holds a *streamState in the transaction.
const stateKey = "guardmodel.stream"

// streamState is the assembled answer text per choice, bounded by
// MaxStreamBytes in total.
type streamState struct {
	text     map[int][]byte
	size     int
	overflow bool
}

func (l *Layer) stream(tx *engine.Tx) *streamState {
	if st, ok := tx.State(stateKey).(*streamState); ok {
		return st
	}
	st := &streamState{text: map[int][]byte{}}
	tx.SetState(stateKey, st)
	return st
}

// OnStreamEvent collects text; in "hold" mode it also withholds it.
func (l *Layer) OnStreamEvent(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	if !l.cfg.Output || l.cfg.Stream == StreamOff {
		return engine.Allowed, nil
	}
	st := l.stream(tx)
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		if d.Text == "" {
			continue
		}
		room := l.cfg.MaxStreamBytes - st.size
		take := d.Text
		if len(take) > room {
			take = take[:max(room, 0)]
			st.overflow = true
		}
		st.text[d.Choice] = append(st.text[d.Choice], take...)
		st.size += len(take)
		if l.cfg.Stream == StreamHold {
			if st.overflow {
				// Cannot hold more: the answer cannot be judged whole.
				return l.decide("output", d.Choice, verdict{},
					callError(KindOverloaded, "stream longer than max_stream_bytes in hold mode")), nil
			}
			d.Text = ""
		}
	}
	return engine.Allowed, nil
}

// OnStreamEnd classifies the assembled text of each choice; in "hold" mode
// it releases the text when it is safe.
func (l *Layer) OnStreamEnd(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	if !l.cfg.Output || l.cfg.Stream == StreamOff {
		return engine.Allowed, nil
	}
	st := l.stream(tx)
	choices := make([]int, 0, len(st.text))
	for c := range st.text {
		choices = append(choices, c)
	}
	sort.Ints(choices)
	var out engine.Decision
	for _, c := range choices {
		text := string(st.text[c])
		if text == "" {
			continue
		}
		v, err := l.classify(ctxOf(tx), "output", l.outputTurns(tx, text))
		out = merge(out, l.decide("output", c, v, err))
		if out.Action == engine.Block {
			return out, nil
		}
	}
	if l.cfg.Stream == StreamHold {
		for _, c := range choices {
			if len(st.text[c]) > 0 {
				ev.Deltas = append(ev.Deltas, conv.NewDelta(c, "", ""))
				ev.Deltas[len(ev.Deltas)-1].Text = string(st.text[c])
			}
		}
	}
	return out, nil
}
