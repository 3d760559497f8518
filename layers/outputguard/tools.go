package outputguard

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maxToolArgs bounds the streamed arguments kept per tool call.
const maxToolArgs = 256 << 10

// toolState is per-transaction tool policy state.
type toolState struct {
	allowed map[string]bool // nil: every declared tool
	schemas map[string]*jsonschema.Schema
	decl    map[string]bool
	// streamed calls: choice<<16|index -> call
	calls map[int]*streamCall
}

type streamCall struct {
	name    string
	args    bytes.Buffer
	dropped bool
	over    bool
	// tail is the last argTail bytes of the arguments, scanned again with
	// each new delta; reported dedupes argument findings of the call
	tail     string
	reported map[string]bool
}

// argTail is how much of a call's earlier arguments is scanned again with
// each new arguments delta.
const argTail = 512

// allowList picks the tool allowlist for the caller: "tenant/role",
// "tenant", "*/role", then "*". nil means no restriction.
func (l *Layer) allowList(id *engine.Identity) map[string]bool {
	if len(l.cfg.Tools.Allow) == 0 {
		return nil
	}
	var keys []string
	if id != nil {
		keys = append(keys, id.Tenant+"/"+id.Role, id.Tenant, "*/"+id.Role)
	}
	keys = append(keys, "*")
	for _, k := range keys {
		if names, ok := l.cfg.Tools.Allow[k]; ok {
			m := make(map[string]bool, len(names))
			for _, n := range names {
				m[n] = true
			}
			return m
		}
	}
	return nil
}

func (l *Layer) tools(tx *engine.Tx) *toolState {
	if ts, ok := tx.State(stateTools).(*toolState); ok {
		return ts
	}
	ts := &toolState{allowed: l.allowList(tx.Identity), schemas: map[string]*jsonschema.Schema{}, decl: map[string]bool{}, calls: map[int]*streamCall{}}
	if tx.Request != nil {
		for _, t := range tx.Request.Tools {
			ts.decl[t.Name] = true
			if len(t.Parameters) == 0 || !l.validateArgs() {
				continue
			}
			if sch, err := CompileSchema(t.Parameters); err == nil {
				ts.schemas[t.Name] = sch
			}
		}
	}
	tx.SetState(stateTools, ts)
	return ts
}

func (l *Layer) validateArgs() bool {
	return l.cfg.Tools.ValidateArguments == nil || *l.cfg.Tools.ValidateArguments
}

func (l *Layer) blockUndeclared() bool {
	return l.cfg.Tools.Undeclared == nil || *l.cfg.Tools.Undeclared
}

// CompileSchema compiles a declared parameters schema (also the MCP
// gateway's pinned input schemas). Remote references
// are never fetched: the compiler has no URL loader.
func CompileSchema(raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{})
	if err := c.AddResource("mem:///tool.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("mem:///tool.json")
}

// callProblem returns why a call is not allowed, or "".
func (l *Layer) callProblem(ts *toolState, name string) string {
	if ts.allowed != nil && !ts.allowed[name] {
		return "tool not allowed for this caller"
	}
	if l.blockUndeclared() && len(ts.decl) > 0 && !ts.decl[name] {
		return "tool not declared in the request"
	}
	return ""
}

func (l *Layer) argsProblem(ts *toolState, name, args string) string {
	sch := ts.schemas[name]
	if sch == nil {
		return ""
	}
	if strings.TrimSpace(args) == "" {
		args = "{}"
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
	if err != nil {
		return "arguments are not valid JSON"
	}
	if err := sch.Validate(v); err != nil {
		return "arguments do not match the declared schema"
	}
	return ""
}

func toolFinding(choice int, name, problem string) engine.Finding {
	return engine.Finding{Layer: Name, Rule: "tools.policy", Severity: engine.SeverityHigh, Message: choice,
		Entity: "TOOL_CALL", Text: fmt.Sprintf("%s (%d-byte tool name)", problem, len(name))}
}

// checkToolCalls checks the calls of a whole response. A whole response's
// calls cannot be removed one by one, so a bad call blocks the answer.
func (l *Layer) checkToolCalls(tx *engine.Tx, choice int, calls []conv.ToolCall) ([]engine.Finding, bool) {
	if len(calls) == 0 {
		return nil, false
	}
	ts := l.tools(tx)
	var fs []engine.Finding
	bad := false
	for _, c := range calls {
		p := l.callProblem(ts, c.Name)
		if p == "" && l.validateArgs() {
			p = l.argsProblem(ts, c.Name, c.Arguments)
		}
		if p != "" {
			fs = append(fs, toolFinding(choice, c.Name, p))
			bad = true
		}
		afs, block := l.argData(c.Arguments, choice, nil)
		fs = append(fs, afs...)
		bad = bad || block
	}
	return fs, bad
}

// argData applies the output policy for secrets and PII to tool-call
// arguments (data leaving through a tool call). A call's arguments cannot
// be redacted without changing what the tool does: a hit whose policy is
// redact, pseudonymize or block blocks the answer; a flag hit is a
// finding. reported (may be nil) dedupes findings across stream deltas.
func (l *Layer) argData(args string, choice int, reported map[string]bool) ([]engine.Finding, bool) {
	if args == "" {
		return nil, false
	}
	var fs []engine.Finding
	block := false
	for _, h := range l.detectData(args, true, "") {
		if h.kind != "secret" && h.kind != "pii" && h.kind != "canary" && h.kind != "hidden" {
			continue
		}
		if f, ok := l.argFinding(args, h, choice, reported); ok {
			fs = append(fs, f)
		}
		block = block || h.action != ActFlag
	}
	return fs, block
}

// argFinding is the finding of a hit in tool-call arguments; false when
// reported (may be nil) already holds its rule and entity.
func (l *Layer) argFinding(args string, h hit, choice int, reported map[string]bool) (engine.Finding, bool) {
	if reported != nil {
		k := "tools.arguments." + h.rule + "|" + h.Entity
		if reported[k] || len(reported) > 256 {
			return engine.Finding{}, false
		}
		reported[k] = true
	}
	f := l.finding(args, h, choice)
	f.Rule = "tools.arguments." + h.rule
	f.Text = string(h.action) + " " + h.kind + " in tool-call arguments"
	if h.action != ActFlag {
		f.Text = "block " + h.kind + " in tool-call arguments"
	}
	return f, true
}

// streamToolCalls checks streamed tool-call deltas: a disallowed call is
// dropped from its first delta on (action remove) or blocks the stream.
// Arguments are held back like text (per call, see feed and safeCut) and
// scanned for secrets and personal data: a hit whose policy is not flag
// stops the stream before its first byte goes out. Arguments an adapter
// cannot rewrite (no Path) are scanned with the call's recent arguments
// and pass, or stop the stream. Arguments are validated when the choice
// finishes (or the stream ends), and an invalid call then blocks the
// stream, since its pieces have passed.
func (l *Layer) streamToolCalls(tx *engine.Tx, st *streamState, ev *conv.StreamEvent, final bool, canary string) ([]engine.Finding, *hit) {
	if len(ev.ToolCalls) == 0 && len(ev.FinishReason) == 0 && !final {
		return nil, nil
	}
	ts := l.tools(tx)
	var fs []engine.Finding
	var blocked *hit
	block := func(h *hit) {
		if blocked == nil {
			blocked = h
		}
	}
	for i := range ev.ToolCalls {
		d := &ev.ToolCalls[i]
		key := d.Choice<<16 | d.Index&0xffff
		c := ts.calls[key]
		if c == nil && ev.Synthetic {
			c = &streamCall{} // a release for a call already settled
		} else if c == nil {
			c = &streamCall{name: d.Name}
			ts.calls[key] = c
			if p := l.callProblem(ts, d.Name); p != "" {
				fs = append(fs, toolFinding(d.Choice, d.Name, p))
				if l.cfg.Tools.Action == "block" {
					block(&hit{rule: "tools.policy"})
				}
				c.dropped = true
			}
		}
		if c.dropped {
			d.Drop = true
			continue
		}
		if c.args.Len()+len(d.ArgumentsDelta) > maxToolArgs {
			c.over = true
		} else {
			c.args.WriteString(d.ArgumentsDelta)
		}
		if d.Path != "" {
			h := st.choice(tx, chanKey{d.Choice, "", d.Index + 1})
			h.path = d.Path
			out, afs, b := l.feed(h, d.ArgumentsDelta, final, canary, d.Choice, true, nil)
			fs = append(fs, afs...)
			if b != nil {
				block(b)
				d.Drop = true
			}
			if out != d.ArgumentsDelta {
				d.ArgumentsDelta = out
			}
			continue
		}
		if d.ArgumentsDelta != "" {
			// the recent arguments, long enough to hold a whole secret
			a := c.tail + d.ArgumentsDelta
			c.tail = a[max(0, len(a)-argTail):]
			if c.reported == nil {
				c.reported = map[string]bool{}
			}
			afs, bad := l.argData(a, d.Choice, c.reported)
			fs = append(fs, afs...)
			if bad {
				block(&hit{rule: "tools.arguments"})
				d.Drop = true
			}
		}
	}
	if !l.validateArgs() {
		return fs, blocked
	}
	for key, c := range ts.calls {
		choice := key >> 16
		_, finished := ev.FinishReason[choice]
		if c.dropped || (!finished && !final) {
			continue
		}
		p := ""
		if c.over {
			p = "arguments too large to validate"
		} else {
			p = l.argsProblem(ts, c.name, c.args.String())
		}
		if p != "" {
			fs = append(fs, toolFinding(choice, c.name, p))
			block(&hit{rule: "tools.policy"})
		}
		delete(ts.calls, key)
	}
	return fs, blocked
}
