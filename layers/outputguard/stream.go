package outputguard

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/redact"
	"github.com/rampart-ai/rampart/detect/secrets"
	"github.com/rampart-ai/rampart/engine"
)

// tailKeep is how much already-emitted original text is kept per choice
// and scanned again with the pending text, so that a match whose keyword
// or context was emitted earlier (e.g. "password: " then the value) is
// still found.
const tailKeep = 128

// choiceStream is the per-choice streaming state.
type choiceStream struct {
	tail     string // last emitted original text (≤ tailKeep bytes)
	pending  string // held back, not yet emitted
	cont     string // "pem" or "token": swallowing the rest of a cut secret
	contEnt  string
	restorer *redact.Restorer
	reported map[string]bool
}

// chanKey names one text channel of one choice (see conv.Delta.Channel).
type chanKey struct {
	choice  int
	channel string
	noHold  bool
}

type streamState struct {
	choices map[chanKey]*choiceStream
}

func (l *Layer) streamOf(tx *engine.Tx) *streamState {
	if s, ok := tx.State(stateStream).(*streamState); ok {
		return s
	}
	s := &streamState{choices: map[chanKey]*choiceStream{}}
	tx.SetState(stateStream, s)
	return s
}

func (st *streamState) choice(tx *engine.Tx, k chanKey) *choiceStream {
	c := st.choices[k]
	if c == nil {
		c = &choiceStream{reported: map[string]bool{}}
		if v := vaultOf(tx); v != nil && !k.noHold {
			c.restorer = &redact.Restorer{V: v}
		}
		st.choices[k] = c
	}
	return c
}

// OnStreamEvent holds back at most StreamWindow bytes per choice, scans
// the held text together with the recent emitted tail, and releases what
// can no longer be part of a growing match, rewritten per policy.
func (l *Layer) OnStreamEvent(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	return l.stream(tx, ev, false)
}

// OnStreamEnd flushes every choice's held text (scanned) into ev.
func (l *Layer) OnStreamEnd(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	st := l.streamOf(tx)
	seen := map[chanKey]bool{}
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		seen[chanKey{d.Choice, d.Channel, d.NoHold}] = true
	}
	keys := make([]chanKey, 0, len(st.choices))
	for k := range st.choices {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // deterministic flush order
		if keys[i].choice != keys[j].choice {
			return keys[i].choice < keys[j].choice
		}
		return keys[i].channel > keys[j].channel // reasoning and refusal before the answer
	})
	for _, k := range keys {
		c := st.choices[k]
		if !k.noHold && !seen[k] && (c.pending != "" || c.restorer != nil && c.restorer.Pending()) {
			ev.Deltas = append(ev.Deltas, conv.Delta{Choice: k.choice, Channel: k.channel})
		}
	}
	return l.stream(tx, ev, true)
}

func (l *Layer) stream(tx *engine.Tx, ev *conv.StreamEvent, final bool) (engine.Decision, error) {
	st := l.streamOf(tx)
	canary := canaryOf(tx)
	lk, _ := tx.State(stateLeak).(*leakIndex)
	var findings []engine.Finding
	var blocked *hit
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		c := st.choice(tx, chanKey{d.Choice, d.Channel, d.NoHold})
		if d.NoHold {
			fs, b := l.feedNoHold(c, d.Text, canary, d.Choice)
			findings = append(findings, fs...)
			if b != nil && blocked == nil {
				blocked = b
			}
			if lk != nil && lk.feed(d.Text, final) {
				findings = append(findings, lk.finding(d.Choice))
				if l.cfg.Leak.Action != ActFlag && blocked == nil {
					blocked = &hit{rule: "leak.system_prompt"}
				}
			}
			continue
		}
		out, fs, b := l.feed(c, d.Text, final, canary, d.Choice)
		findings = append(findings, fs...)
		if b != nil && blocked == nil {
			blocked = b
		}
		if lk != nil && lk.feed(out, final) {
			findings = append(findings, lk.finding(d.Choice))
			switch l.cfg.Leak.Action {
			case ActBlock:
				if blocked == nil {
					blocked = &hit{rule: "leak.system_prompt"}
				}
			case ActRedact:
				out = "[answer withheld: it repeats the system prompt]"
			}
		}
		if c.restorer != nil {
			out = c.restorer.Feed(out)
			if final {
				out += c.restorer.Flush()
			}
		}
		if l.cfg.Links.EscapeHTML {
			out = escapeHTML(out)
		}
		if out != d.Text {
			d.Text = out
		}
	}
	fs, bad := l.streamToolCalls(tx, ev, final)
	findings = append(findings, fs...)
	if bad && blocked == nil {
		blocked = &hit{rule: "tools.policy"}
	}
	code, reason := "sensitive_output", "the answer contains data that policy does not allow to return"
	if blocked != nil {
		// nothing of a blocked event goes out, whatever the engine does next
		for i := range ev.Deltas {
			ev.Deltas[i].Text = ""
		}
		if blocked.rule == "tools.policy" {
			code, reason = "tool_call_denied", "the model called a tool that policy does not allow"
		}
	}
	return decide(findings, blocked, code, reason), nil
}

// feedNoHold scans a delta of a channel whose text cannot be held back
// (conv.Delta.NoHold) together with the channel's recent text: it passes
// unchanged, or, when something policy would redact or block shows, the
// stream is stopped (the returned hit), since it cannot be rewritten.
func (l *Layer) feedNoHold(c *choiceStream, text, canary string, choice int) ([]engine.Finding, *hit) {
	base := len(c.tail)
	all := c.tail + text
	var blocked *hit
	var fs []engine.Finding
	for _, h := range l.detect(all, true, canary) {
		if h.End <= base || h.kind == "link" {
			continue
		}
		fs = append(fs, l.finding(all, h, choice))
		if h.action != ActFlag && blocked == nil {
			h := h
			h.rule = h.rule + ".unredactable_channel"
			blocked = &h
		}
	}
	c.tail = all[max(0, len(all)-tailKeep*2):]
	for len(c.tail) > 0 && !utf8.RuneStart(c.tail[0]) {
		c.tail = c.tail[1:]
	}
	return c.dedupe(fs), blocked
}

// feed adds one delta's text to a choice and returns the text to emit now.
func (l *Layer) feed(c *choiceStream, text string, final bool, canary string, choice int) (string, []engine.Finding, *hit) {
	var prefix strings.Builder
	if c.cont != "" {
		text = c.pending + text
		c.pending = ""
		n, done := l.continueCut(c.cont, text)
		if !done && !final {
			c.pending = text[n:] // still inside the cut secret: swallow
			if len(c.pending) > maxWindow {
				c.pending = ""
			}
			return "", nil, nil
		}
		if final && !done {
			n = len(text)
		}
		text = text[n:]
		c.cont = ""
		c.tail = "" // it ends in the secret just swallowed
	}
	p := c.pending + text
	base := len(c.tail)
	all := c.tail + p
	hs := l.detect(all, true, canary)
	// keep hits that reach into the pending part, clipped to it
	var live []hit
	for _, h := range hs {
		if h.End <= base {
			continue
		}
		if h.Start < base {
			if h.kind == "image" || h.kind == "link" {
				continue // its start was emitted already; nothing to remove
			}
			h.Start = base
		}
		h.Start -= base
		h.End -= base
		live = append(live, h)
	}
	cut := len(p)
	var force *hit
	if !final {
		cut = l.safeCut(p, live, canary)
		// a hit that crosses the cut: hold it whole, or, when it is longer
		// than the window allows, redact up to the cut and swallow the rest
		for i := range live {
			h := &live[i]
			if h.Start < cut && h.End > cut || h.End == len(p) && h.Start < cut && h.action != ActFlag {
				if len(p)-h.Start <= l.cfg.StreamWindow {
					cut = h.Start
				} else if force == nil {
					force = h
				}
			}
		}
		if force != nil && force.Start < cut {
			cut = len(p)
		}
		for cut > 0 && cut < len(p) && !utf8.RuneStart(p[cut]) {
			cut--
		}
	}
	emit := p[:cut]
	var inEmit []hit
	for _, h := range live {
		if h.Start < cut {
			if h.End > cut {
				h.End = cut
			}
			inEmit = append(inEmit, h)
		}
	}
	out, fs, b := l.rewrite(emit, inEmit, choice)
	fs = c.dedupe(fs)
	if force != nil && force.action != ActFlag {
		c.cont, c.contEnt = "token", force.Entity
		if force.kind == "secret" && force.Entity == "PRIVATE_KEY" {
			c.cont = "pem"
		}
	}
	c.pending = p[cut:]
	t := c.tail + emit
	if len(t) > tailKeep {
		k := len(t) - tailKeep
		for k < len(t) && !utf8.RuneStart(t[k]) {
			k++
		}
		t = t[k:]
	}
	c.tail = t
	prefix.WriteString(out)
	return prefix.String(), fs, b
}

func (c *choiceStream) dedupe(fs []engine.Finding) []engine.Finding {
	out := fs[:0]
	for _, f := range fs {
		k := f.Rule + "|" + f.Entity
		if c.reported[k] || len(c.reported) > 256 {
			continue
		}
		c.reported[k] = true
		out = append(out, f)
	}
	return out
}

// continueCut returns how much of text continues a secret that was cut at
// the window edge, and whether it ended.
func (l *Layer) continueCut(kind, text string) (int, bool) {
	if kind == "pem" {
		return secrets.ContinueOpen(text)
	}
	for i := 0; i < len(text); i++ {
		b := text[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("+/=_-.~%", b) >= 0) {
			return i, true
		}
	}
	return len(text), false
}

// safeCut is the position in p up to which text can be emitted: before
// the trailing run of tokens that may still grow into (or be the context
// of) a match, before an unfinished Markdown link, and before a suffix
// that may start the canary. At most StreamWindow bytes are held.
func (l *Layer) safeCut(p string, live []hit, canary string) int {
	cut := len(p)
	// trailing tokens: the last token is always held (it may grow); before
	// it, tokens that look like parts of an entity are held too.
	i := len(p)
	first := true
	for i > 0 {
		j := i
		for j > 0 && isSpace(p[j-1]) {
			j--
		}
		k := j
		for k > 0 && !isSpace(p[k-1]) {
			k--
		}
		if k == j {
			break
		}
		tok := p[k:j]
		if !(first && j == len(p)) && !heldToken(tok) {
			break
		}
		first = false
		cut = k
		i = k
		if len(p)-cut >= l.cfg.StreamWindow {
			break
		}
	}
	// an unfinished Markdown link or image: "[" without its "](...)" yet
	if k := strings.LastIndexByte(p, '['); k >= 0 && k < cut {
		rest := p[k:]
		if !strings.Contains(rest, ")") && !strings.Contains(rest, "\n\n") {
			if k > 0 && p[k-1] == '!' {
				k--
			}
			cut = k
		}
	}
	// a suffix that is a prefix of the canary
	if canary != "" {
		for n := min(len(canary)-1, len(p)); n > 0; n-- {
			if strings.HasSuffix(p, canary[:n]) {
				cut = min(cut, len(p)-n)
				break
			}
		}
	}
	if len(p)-cut > l.cfg.StreamWindow {
		cut = len(p) - l.cfg.StreamWindow
	}
	return cut
}

// heldToken reports whether a complete token may be part of a multi-token
// entity still growing: it holds a digit or entity punctuation, is short
// (card and phone groups, IBAN letters), or is a secret keyword.
func heldToken(tok string) bool {
	if len(tok) <= 5 {
		return true
	}
	for i := 0; i < len(tok); i++ {
		b := tok[i]
		if b >= '0' && b <= '9' || strings.IndexByte("@:=+/_-()[]<>!\"'`", b) >= 0 {
			return true
		}
	}
	// a chunk of a key split every few characters ("cfBAep"): short,
	// with an upper-case letter after the first
	if len(tok) <= 8 {
		for i := 1; i < len(tok); i++ {
			if tok[i] >= 'A' && tok[i] <= 'Z' {
				return true
			}
		}
	}
	low := strings.ToLower(tok)
	for _, kw := range []string{"key", "token", "secret", "passw", "bearer", "auth", "credential", "private"} {
		if strings.Contains(low, kw) {
			return true
		}
	}
	return false
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }
