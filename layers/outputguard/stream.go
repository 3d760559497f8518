package outputguard

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/pii"
	"github.com/rampart-ai/rampart/detect/redact"
	"github.com/rampart-ai/rampart/detect/secrets"
	"github.com/rampart-ai/rampart/engine"
)

// tailKeep is how much already-emitted original text is kept per channel
// and scanned again with the pending text, so that a match whose keyword
// or context was emitted earlier (e.g. "password: " then the value) is
// still found.
const tailKeep = 128

// choiceStream is the streaming state of one held channel: a text channel
// of one choice, or the arguments of one tool call.
type choiceStream struct {
	// buf holds the last emitted original text (its first tailLen bytes,
	// at most tailKeep) followed by the text held back, not yet emitted.
	// It is reused from event to event; strings that point into it never
	// leave feed (see detach).
	buf      []byte
	tailLen  int
	cont     string // "pem" or "token": swallowing the rest of a cut secret
	contEnt  string
	restorer *redact.Restorer
	reported map[string]bool
	// path is where a tool call's arguments sit in its events (for the
	// release in a synthetic event).
	path string
	// signed: a signature covers the channel's text (conv.Delta.Signed).
	signed bool
	// memo keeps phone-number verdicts between events: each event
	// re-scans the last emitted bytes, and their candidates again.
	memo pii.Memo
}

func (c *choiceStream) pendingLen() int { return len(c.buf) - c.tailLen }

// chanKey names one held channel of one choice: a text channel
// (conv.Delta.Channel) when call is 0, else the arguments of the tool
// call with index call-1.
type chanKey struct {
	choice  int
	channel string
	call    int
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
		c = &choiceStream{reported: map[string]bool{}, buf: make([]byte, 0, 512)}
		if v := vaultOf(tx); v != nil && k.call == 0 {
			c.restorer = &redact.Restorer{V: v}
		}
		st.choices[k] = c
	}
	return c
}

// OnStreamEvent holds back, per choice and channel (answer text, refusal,
// reasoning, thinking, and each tool call's arguments), only the text
// that can still grow into something policy acts on, scans the held text
// together with the recent emitted tail, and releases the rest at once,
// rewritten per policy (see safeCut).
func (l *Layer) OnStreamEvent(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	return l.stream(tx, ev, false)
}

// OnStreamEnd flushes every channel's held text (scanned) into ev: text
// as deltas of its channel, tool-call arguments as tool-call deltas.
func (l *Layer) OnStreamEnd(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	st := l.streamOf(tx)
	seen := map[chanKey]bool{}
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		seen[chanKey{d.Choice, d.Channel, 0}] = true
	}
	for i := range ev.ToolCalls {
		d := &ev.ToolCalls[i]
		seen[chanKey{d.Choice, "", d.Index + 1}] = true
	}
	keys := make([]chanKey, 0, len(st.choices))
	for k := range st.choices {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // deterministic flush order
		a, b := keys[i], keys[j]
		if a.choice != b.choice {
			return a.choice < b.choice
		}
		if a.call != b.call {
			return a.call < b.call
		}
		return a.channel > b.channel // reasoning and refusal before the answer
	})
	for _, k := range keys {
		c := st.choices[k]
		if seen[k] || c.pendingLen() == 0 && (c.restorer == nil || !c.restorer.Pending()) {
			continue
		}
		if k.call > 0 {
			ev.ToolCalls = append(ev.ToolCalls, conv.ToolCallDelta{Choice: k.choice, Index: k.call - 1, Path: c.path})
		} else {
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
	leakFed := false // the leak readers read the end of the answer
	if d, ok := l.refuseUnknown(ev.Unknown); ok {
		for i := range ev.Deltas {
			ev.Deltas[i].Text = ""
		}
		return d, nil
	}
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		if d.Channel == conv.ChannelFile || d.Channel == conv.ChannelLink {
			// arrives whole in this event: checked whole, nothing held
			out, fs, b := l.wholeText(d.Text, d.Channel == conv.ChannelLink, d.Signed, d.Choice, canary, lk, vaultOf(tx))
			findings = append(findings, fs...)
			if b != nil && blocked == nil {
				blocked = b
			}
			if out != d.Text {
				d.Text = out
			}
			continue
		}
		c := st.choice(tx, chanKey{d.Choice, d.Channel, 0})
		if d.Signed {
			c.signed, c.restorer = true, nil
		}
		var rewritten bool
		out, fs, b := l.feed(c, d.Text, final, canary, d.Choice, false, &rewritten)
		findings = append(findings, fs...)
		leakFed = leakFed || final
		if lk != nil && lk.feedStream(out, final) {
			findings = append(findings, lk.finding(d.Choice))
			switch l.cfg.Leak.Action {
			case ActBlock:
				if b == nil {
					b = &hit{rule: "leak.system_prompt"}
				}
			case ActRedact:
				out, rewritten = "[answer withheld: it repeats the system prompt]", true
			}
		}
		if b == nil && c.signed && rewritten {
			b = l.signedHit(fs)
		}
		if b != nil && blocked == nil {
			blocked = b
		}
		if c.restorer != nil {
			out = c.restorer.Feed(out)
			if final {
				out += c.restorer.Flush()
			}
		}
		if l.cfg.Links.EscapeHTML && !c.signed {
			out = escapeHTML(out)
		}
		if out != d.Text {
			d.Text = out
		}
	}
	if final && lk != nil && !leakFed && lk.feedStream("", true) {
		// the last word of the answer, which no delta of the end carried
		findings = append(findings, lk.finding(0))
		if l.cfg.Leak.Action == ActBlock && blocked == nil {
			blocked = &hit{rule: "leak.system_prompt"}
		}
	}
	fs, bad := l.streamToolCalls(tx, st, ev, final, canary)
	findings = append(findings, fs...)
	if bad != nil && blocked == nil {
		blocked = bad
	}
	code, reason := "sensitive_output", "the answer contains data that policy does not allow to return"
	if blocked != nil {
		// nothing of a blocked event goes out, whatever the engine does next
		for i := range ev.Deltas {
			ev.Deltas[i].Text = ""
		}
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = true
		}
		if blocked.rule == "tools.policy" {
			code, reason = "tool_call_denied", "the model called a tool that policy does not allow"
		}
	}
	return decide(findings, blocked, code, reason), nil
}

// detach returns s as a string that does not point into buf: s itself
// when it does not; prefix (the same bytes, from the delta's own text)
// when s equals it; else a copy.
func detach(s string, buf []byte, prefix string) string {
	if len(s) == 0 || cap(buf) == 0 {
		return s
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	if p < b || p >= b+uintptr(cap(buf)) {
		return s
	}
	if s == prefix {
		return prefix
	}
	return strings.Clone(s)
}

// feed adds one delta's text to a channel and returns the text to emit
// now. For tool-call arguments (args), which cannot be rewritten without
// changing what the tool does, only secrets, personal data and the canary
// count, and a hit whose policy is not flag stops the stream (the
// returned hit) before any of it is emitted.
func (l *Layer) feed(c *choiceStream, text string, final bool, canary string, choice int, args bool, rewritten *bool) (string, []engine.Finding, *hit) {
	held := c.pendingLen()
	if c.cont != "" {
		p := string(c.buf[c.tailLen:]) + text
		n, done := l.continueCut(c.cont, p)
		if !done && !final {
			// still inside the cut secret: swallow
			rest := p[n:]
			if len(rest) > maxWindow {
				rest = ""
			}
			c.buf = append(c.buf[:0], rest...)
			c.tailLen = 0
			return "", nil, nil
		}
		if final && !done {
			n = len(p)
		}
		c.cont = ""
		// the tail ends in the secret just swallowed
		c.buf = append(c.buf[:0], p[n:]...)
		c.tailLen = 0
		held, text = len(c.buf), ""
	}
	c.buf = append(c.buf, text...)
	base := c.tailLen
	all := unsafe.String(unsafe.SliceData(c.buf), len(c.buf))
	p := all[base:]
	var hs []hit
	if args {
		hs = l.detectDataMemo(all, true, canary, &c.memo)
	} else {
		hs = l.detectMemo(all, true, canary, &c.memo)
	}
	// keep hits that reach into the pending part, clipped to it
	live := hs[:0]
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
	if args {
		fs, b := l.argHits(p, live, choice, c.reported)
		if b != nil {
			return "", fs, b
		}
	}
	cut := len(p)
	var force *hit
	if !final {
		cut = l.safeCut(all, base, canary, args)
		// a hit that crosses the cut: hold it whole, or, when it is longer
		// than the window allows, redact up to the cut and swallow the rest
		for i := range live {
			h := &live[i]
			if h.Start < cut && h.End > cut || h.End == len(p) && h.Start < cut && h.action != ActFlag {
				if len(p)-h.Start <= l.cfg.StreamWindow {
					cut = h.Start
				} else if force == nil && !args {
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
	var out string
	var fs []engine.Finding
	var b *hit
	if args {
		out = emit
	} else {
		inEmit := live[:0]
		for _, h := range live {
			if h.Start < cut {
				if h.End > cut {
					h.End = cut
				}
				inEmit = append(inEmit, h)
			}
		}
		out, fs, b = l.rewrite(emit, inEmit, choice)
		fs = c.dedupe(fs)
		if rewritten != nil && out != emit {
			*rewritten = true
		}
	}
	// emitted text that is the delta's own text needs no copy
	var own string
	if cut >= held {
		own = text[:cut-held]
	}
	out = detach(out, c.buf, own)
	if force != nil && force.action != ActFlag {
		c.cont, c.contEnt = "token", force.Entity
		if force.kind == "secret" && force.Entity == "PRIVATE_KEY" {
			c.cont = "pem"
		}
	}
	// the new tail: the last tailKeep bytes of what was emitted (at a rune
	// start), then the held text; moved to the front of buf in place
	e := base + cut
	k := max(0, e-tailKeep)
	for k < e && !utf8.RuneStart(c.buf[k]) {
		k++
	}
	n := copy(c.buf, c.buf[k:])
	c.buf = c.buf[:n]
	c.tailLen = e - k
	return out, fs, b
}

// argHits turns the hits in held tool-call arguments into findings; a hit
// whose policy is not flag stops the stream.
func (l *Layer) argHits(p string, live []hit, choice int, reported map[string]bool) ([]engine.Finding, *hit) {
	var fs []engine.Finding
	var blocked *hit
	for i := range live {
		h := live[i]
		if h.kind != "secret" && h.kind != "pii" && h.kind != "canary" && h.kind != "hidden" {
			continue
		}
		if f, ok := l.argFinding(p, h, choice, reported); ok {
			fs = append(fs, f)
		}
		if h.action != ActFlag && blocked == nil {
			b := h
			b.rule = "tools.arguments." + h.rule
			blocked = &b
		}
	}
	return fs, blocked
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

// safeCut is the position in the pending text (all[base:]; all[:base] was
// emitted) up to which text can be released now. Only what can still grow
// into something policy acts on is held (see holdFrom): the unfinished
// token-like run at the end that could be a secret or card, the complete
// runs before it that may be parts of the same entity (card groups, a key
// split every few characters), an unfinished Markdown link, image or
// reference definition, an unfinished HTML tag, and a suffix that may
// start the canary. Everything else goes out at once. At most
// StreamWindow bytes are held.
func (l *Layer) safeCut(all string, base int, canary string, args bool) int {
	p := all[base:]
	var cut int
	if l.strictHold && !args {
		cut = tokensCut(p, l.cfg.StreamWindow)
	} else {
		cut = holdFrom(all, base, args, l.cfg.StreamWindow, l.heads)
	}
	if !args && l.holdLinks {
		cut = min(cut, openLink(p))
	}
	// a run of zero-width characters at the end may still grow into
	// hidden text (hiddenRuns)
	cut = min(cut, invisibleTail(p))
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

// invisibleTail is where a run of invisible characters that may carry text
// (invisibleCarrier) ends p, or len(p); a character cut by the event's end
// is held with it (its kind is known when the rest arrives).
func invisibleTail(p string) int {
	k := len(p)
	for i := 1; i <= utf8.UTFMax-1 && i <= len(p); i++ {
		if utf8.RuneStart(p[len(p)-i]) {
			if !utf8.FullRuneInString(p[len(p)-i:]) {
				k = len(p) - i
			}
			break
		}
	}
	for k > 0 {
		r, size := utf8.DecodeLastRuneInString(p[:k])
		if invisibleCarrier(r) == 0 {
			break
		}
		k -= size
	}
	return k
}

// isBreak reports whether b ends a token-like run: white space, and in
// tool-call arguments (JSON) also the structural characters.
func isBreak(b byte, args bool) bool {
	return isSpace(b) || args && (b == '"' || b == '{' || b == '}' || b == '[' || b == ']' || b == ',')
}

// holdFrom is where the held part of the pending text all[base:] starts
// under the default policy (where only secrets and cards are rewritten):
//   - the run at the end, when it is unfinished and may still become a
//     secret or card: it holds a digit, an upper-case letter after its
//     first character, or a character keys and numbers are made of; or a
//     secret keyword with ':' or '=' is just before it (a password's value
//     may be plain lower-case letters); or it is short and follows such a
//     run (the next group of a card, the next chunk of a split key);
//   - before it (or at the end of text that ends in a space), complete
//     runs of that kind separated by at most 3 spaces: card groups, a key
//     split every few characters; back to a phone's country code, which
//     goes (countryCode).
//
// Plain words, finished or not, go out at once.
func holdFrom(all string, base int, args bool, window int, heads []string) int {
	// runs are read in all (emitted tail and pending text): a run whose
	// first bytes went out already is judged whole, and the rest held
	cut := len(all)
	j := len(all)
	for j > 0 && !isBreak(all[j-1], args) {
		j--
	}
	if j < len(all) {
		if !keyish(all[j:]) && !keyHead(all[j:], heads) && !keywordBefore(all[max(0, j-48):j]) && !(len(all)-j <= maxChunk && keyishBefore(all[:j], args)) {
			return len(all) - base
		}
		cut = j
	}
	// complete runs before it that may be parts of the same entity
	for cut > base && len(all)-cut < window {
		g := cut
		for g > 0 && isBreak(all[g-1], args) && cut-g <= 3 {
			g--
		}
		if g == cut || cut-g > 3 || g == 0 {
			break
		}
		r := g
		for r > 0 && !isBreak(all[r-1], args) {
			r--
		}
		if !keyish(all[r:g]) || countryCode(all[r:g]) {
			break
		}
		cut = r
	}
	return max(cut, base) - base
}

// countryCode reports whether a complete run is a phone number's country
// code, '+' and 1 to 3 digits ("+1", "+44"): no card starts right after a
// '+' (pii's validateCard), so the groups after it may be held as a card
// still growing but the code itself can go.
func countryCode(run string) bool {
	if len(run) < 2 || len(run) > 4 || run[0] != '+' {
		return false
	}
	for i := 1; i < len(run); i++ {
		if run[i] < '0' || run[i] > '9' {
			return false
		}
	}
	return true
}

// keyHeads are plain heads of keys that no secret rule's literal gives
// (Heads adds those of the rules): the dashes of "-----BEGIN … PRIVATE
// KEY", and keys of vendors the rules do not name but whose prefix is
// known (Groq "gsk_", xAI "xai-").
var keyHeads = [...]string{"-----", "gsk", "xai", "glpat", "github"}

// headsOf is the sorted, unique set of plain key heads a layer holds: the
// secret rules' (secrets.Scanner.Heads) and keyHeads.
func headsOf(s *secrets.Scanner) []string {
	hs := append(s.Heads(), keyHeads[:]...)
	sort.Strings(hs)
	return slices.Compact(hs)
}

// keyHead reports whether an unfinished run may still become a key that
// starts with plain lower-case letters: its last letters and digits
// (after any punctuation: a quote, bracket, backtick, `":"` of JSON),
// lower-cased, or its trailing dashes, are a prefix of a key's head
// (heads, sorted) — from the first letter on: "s" may become "sk-proj-…",
// and a released "s" would go out ahead of the redacted key
// ("s[OPENAI_API_KEY]"). A plain word is held only until the next event
// shows it is no head ("sure", "skip"): one event.
func keyHead(run string, heads []string) bool {
	k := len(run)
	for k > 0 && (isLetter(run[k-1]) || run[k-1] >= '0' && run[k-1] <= '9') {
		k--
	}
	if k == len(run) {
		for k > 0 && run[k-1] == '-' {
			k--
		}
	}
	run = run[k:]
	if len(run) == 0 || len(run) > 32 {
		return false
	}
	for i := 0; i < len(run); i++ {
		if run[i] >= 'A' && run[i] <= 'Z' {
			run = strings.ToLower(run) // a capitalised word: rare here
			break
		}
	}
	// the first head not below run; run is a prefix of a head iff of that one
	i, _ := slices.BinarySearch(heads, run)
	return i < len(heads) && strings.HasPrefix(heads[i], run)
}

// maxChunk is the longest chunk of a key split every few characters
// (joinRuns joins chunks of 2 to 8).
const maxChunk = 8

// keyishBefore reports whether p ends in a key-like run followed by 1 to 3
// break bytes: an unfinished run after it may be its next group or chunk.
func keyishBefore(p string, args bool) bool {
	g := len(p)
	for g > 0 && isBreak(p[g-1], args) && len(p)-g <= 3 {
		g--
	}
	if g == len(p) || len(p)-g > 3 {
		return false
	}
	r := g
	for r > 0 && !isBreak(p[r-1], args) {
		r--
	}
	return r < g && keyish(p[r:g])
}

// keyish reports whether a run may be (part of) a secret, a card or
// another number: it holds a digit, a letter and a character of keys and
// URLs ("_-+/=@%\\~&?#|$*^"), or an upper-case letter that does not
// start a capitalised word.
func keyish(run string) bool {
	letters, marks := 0, false
	for i := 0; i < len(run); i++ {
		b := run[i]
		switch {
		case b >= '0' && b <= '9':
			return true
		case b >= 'A' && b <= 'Z':
			// an upper-case letter counts unless it starts a capitalised
			// word: "AKIA…", "A" (may become "AKIA…"), not "The"
			if letters > 0 || i+1 == len(run) || run[i+1] < 'a' || run[i+1] > 'z' {
				return true
			}
			letters++
		case b >= 'a' && b <= 'z':
			letters++
		case strings.IndexByte("_-+/=@%\\~&?#|$*^", b) >= 0:
			marks = true
		}
	}
	// marks alone ("-", "/") are punctuation
	return marks && letters > 0
}

// secretWords are words whose value a secret rule may match when written
// just before it ("password: ", "api_key=").
var secretWords = [...]string{"key", "token", "secret", "passw", "pwd", "bearer", "auth", "credential", "private"}

// keywordBefore reports whether s (the text just before a run) ends in a
// secret keyword followed by ':' or '=' (and spaces or quotes).
func keywordBefore(s string) bool {
	i := len(s)
	for i > 0 && (isSpace(s[i-1]) || s[i-1] == '"' || s[i-1] == '\'' || s[i-1] == '`') {
		i--
	}
	if i == 0 || s[i-1] != ':' && s[i-1] != '=' {
		return false
	}
	w := s[max(0, i-24) : i-1]
	for _, kw := range secretWords {
		if containsFold(w, kw) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word kw,
// ignoring ASCII case, without allocating.
func containsFold(s, kw string) bool {
	for i := 0; i+len(kw) <= len(s); i++ {
		k := 0
		for k < len(kw) && s[i+k]|0x20 == kw[k] {
			k++
		}
		if k == len(kw) {
			return true
		}
	}
	return false
}

// openLink is where an unfinished Markdown link, image or reference
// definition starts in p (or len(p)): a '[' whose group is not closed; or
// closed at the end of p (a '(', '[' or ':' may follow); or followed by
// '(' without the closing ')'; or by ':' (a definition) without the end
// of its line. A '!' just before it is held with it, as is a '!' or an
// unfinished HTML tag ('<' then a letter, '/' or '!', without '>') at
// the end. A blank line ends every group.
func openLink(p string) int {
	hold := len(p)
	from := func(k int) int {
		if k > 0 && p[k-1] == '!' {
			k--
		}
		return k
	}
	depth, first := 0, -1
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\n':
			if i+1 < len(p) && p[i+1] == '\n' {
				depth, first = 0, -1
			}
		case '[':
			if depth == 0 {
				first = i
			}
			depth++
		case ']':
			if depth == 0 {
				continue
			}
			if depth--; depth > 0 {
				continue
			}
			if i+1 == len(p) {
				return from(first)
			}
			switch p[i+1] {
			case '(':
				e := closeParen(p, i+2)
				if e < 0 {
					return from(first)
				}
				i = e
			case ':':
				e := strings.IndexByte(p[i+1:], '\n')
				if e < 0 {
					return from(first)
				}
				i += e
			}
			first = -1
		}
	}
	if depth > 0 {
		return from(first)
	}
	if k := strings.LastIndexByte(p, '<'); k >= 0 && strings.IndexByte(p[k:], '>') < 0 {
		if k+1 == len(p) || isLetter(p[k+1]) || p[k+1] == '/' || p[k+1] == '!' {
			hold = k
		}
	}
	if hold == len(p) && len(p) > 0 && p[len(p)-1] == '!' {
		hold = len(p) - 1
	}
	return hold
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// closeParen is the index of the ')' closing a link destination that
// starts at from (nested parentheses balanced, "<...>" destinations
// skipped), or -1 when p ends first.
func closeParen(p string, from int) int {
	depth := 0
	for i := from; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		case '\n':
			if i+1 < len(p) && p[i+1] == '\n' {
				return i
			}
		}
	}
	return -1
}

// tokensCut is the hold-back when policy rewrites more than secrets and
// cards (e-mail addresses, phone numbers, names…): the last token is
// always held (it may grow), and before it tokens that look like parts of
// an entity (heldToken), up to window bytes.
func tokensCut(p string, window int) int {
	cut := len(p)
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
		if len(p)-cut >= window {
			break
		}
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
