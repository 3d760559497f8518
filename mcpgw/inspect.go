package mcpgw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/outputguard"
	"github.com/rampart-ai/rampart/store"
)

// maxListed bounds the entries of one tools/prompts/resources list that
// are checked; entries past it are withheld.
const maxListed = 2000

// maxStrings bounds the string values of one message that are scanned;
// a message with more is refused (fail closed).
const maxStrings = 10_000

// verdict is what the checks decided about one message.
type verdict struct {
	findings []engine.Finding
	// block replaces the message by a JSON-RPC error (requests: not
	// forwarded; responses: the client gets the error instead).
	block     bool
	blockCode int
	reason    string
	// changed: the message's Fields were modified and must be re-encoded.
	changed bool
	// unavailable: a dependency (store) failed: fail closed.
	unavailable error
}

func (v *verdict) add(f ...engine.Finding) { v.findings = append(v.findings, f...) }

func (v *verdict) refuse(code int, reason string) {
	if !v.block {
		v.block, v.blockCode, v.reason = true, code, reason
	}
}

// caller is who is calling, for allow rules.
type caller struct {
	role, tenant string
}

// toolAllowed applies the server's deny and allow rules.
func (s *server) toolAllowed(c caller, tool string) bool {
	for _, g := range s.cfg.DenyTools {
		if globMatch(g, tool) {
			return false
		}
	}
	if len(s.cfg.Tools) == 0 {
		return true
	}
	for _, r := range s.cfg.Tools {
		if len(r.Roles) > 0 && !contains(r.Roles, c.role) {
			continue
		}
		for _, g := range r.Allow {
			if globMatch(g, tool) {
				return true
			}
		}
	}
	return false
}

// slashless lets a glob's * match across '/' in tool names ("*delete*"
// must deny "fs/delete"), which path.Match's * does not.
var slashless = strings.NewReplacer("/", "\x1f")

// globMatch is path.Match over tool names in which * also matches '/'.
func globMatch(pattern, name string) bool {
	ok, _ := path.Match(slashless.Replace(pattern), slashless.Replace(name))
	return ok
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ---- client → server: tools/call ----

// callParams is the part of tools/call params the checks read.
type callParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// checkCall checks one tools/call request: the tool is allowed for the
// caller and approved (pinned), its arguments validate against the pinned
// input schema, carry no secret (and, by policy, no personal data) and
// point only to allowed hosts. It may redact the arguments in place.
func (gw *Gateway) checkCall(ctx context.Context, s *server, c caller, m *Message, v *verdict) (tool string) {
	var p callParams
	dec := json.NewDecoder(bytes.NewReader(m.Params))
	dec.UseNumber()
	if len(m.Params) == 0 || dec.Decode(&p) != nil || p.Name == "" {
		v.add(engine.Finding{Layer: Layer, Rule: RuleBadMessage, Severity: engine.SeverityLow, Text: "tools/call without a tool name"})
		v.refuse(CodeInvalidRequest, "tools/call needs params.name")
		return ""
	}
	tool = p.Name
	if !s.toolAllowed(c, tool) {
		v.add(engine.Finding{Layer: Layer, Rule: RuleToolDenied, Severity: engine.SeverityMedium, Text: "tool not allowed for this caller"})
		v.refuse(CodeBlocked, "this caller may not call tool "+quoteName(tool))
		return tool
	}
	if gw.cfg.PinEnabled() {
		rec, ok, err := gw.pins.GetMCPTool(ctx, s.cfg.Name, tool)
		switch {
		case err != nil:
			v.unavailable = err
			return tool
		case !ok:
			v.add(engine.Finding{Layer: Layer, Rule: RuleUnapproved, Severity: engine.SeverityMedium,
				Text: "tool never listed through the gateway"})
			v.refuse(CodeBlocked, "tool "+quoteName(tool)+" has not been reviewed: list the server's tools through rampart first")
			return tool
		case rec.Status != store.MCPToolApproved:
			v.add(engine.Finding{Layer: Layer, Rule: RuleUnapproved, Severity: engine.SeverityHigh,
				Text: "tool definition " + rec.Status + ": " + rec.Reason})
			v.refuse(CodeBlocked, "tool "+quoteName(tool)+" is withheld until an administrator approves its definition")
			return tool
		}
		if msg := gw.schemaProblem(rec, p.Arguments); msg != "" {
			v.add(engine.Finding{Layer: Layer, Rule: RuleSchema, Severity: engine.SeverityMedium, Text: msg})
			v.refuse(CodeBlocked, "arguments of "+quoteName(tool)+" do not match its approved input schema: "+msg)
			return tool
		}
	}
	return tool
}

// checkParams checks every client message's params (tool arguments,
// prompt arguments, resource URIs, _meta; keys as well as values):
// secrets and personal data (the output guard's recognisers: an
// exfiltration through a call) by policy, and every URL against the
// server's url_hosts. It may redact the params in place.
func (gw *Gateway) checkParams(s *server, m *Message, v *verdict) {
	if len(m.Params) == 0 {
		return
	}
	var params any
	pd := json.NewDecoder(bytes.NewReader(m.Params))
	pd.UseNumber()
	if err := pd.Decode(&params); err != nil {
		v.refuse(CodeInvalidRequest, "params are not valid JSON")
		return
	}
	if len(s.cfg.URLHosts) > 0 {
		bad := ""
		walkAll(params, func(sp *string) bool {
			for _, h := range urlHosts(*sp) {
				if !hostAllowed(s.cfg.URLHosts, h) {
					bad = h
					return false
				}
			}
			return true
		})
		if bad != "" {
			v.add(engine.Finding{Layer: Layer, Rule: RuleURLHost, Severity: engine.SeverityHigh, Text: "URL to a host off the allowlist"})
			v.refuse(CodeBlocked, "a URL in the request points to a host that is not allowed ("+truncate(bad, 80)+")")
			return
		}
	}
	redact := map[string]bool{}
	if gw.cfg.SecretArguments == "redact" {
		redact["secret"] = true
	}
	if gw.cfg.PIIArguments == "redact" {
		redact["pii"] = true
	}
	secret, pii, changed, tooMany := gw.scanStrings(params, redact, v)
	switch {
	case tooMany:
		v.refuse(CodeBlocked, "the request holds too many strings to check")
	case secret && gw.cfg.SecretArguments == "block":
		v.refuse(CodeBlocked, "the request carries a secret (credential or key)")
	case pii && gw.cfg.PIIArguments == "block":
		v.refuse(CodeBlocked, "the request carries personal data")
	case changed:
		if nb, err := json.Marshal(params); err == nil {
			m.Fields["params"] = nb
			m.Params = nb
			v.changed = true
		}
	}
}

func quoteName(s string) string { return fmt.Sprintf("%q", truncate(s, 80)) }

// scanStrings runs the output scanner (secrets and personal data) over
// every string of val, object keys included, redacting the kinds in redact
// in place (val must be a container: wrap a lone string). It reports which
// kinds it found and whether it changed anything.
func (gw *Gateway) scanStrings(val any, redact map[string]bool, v *verdict) (secret, pii, changed, tooMany bool) {
	if gw.scan == nil {
		return
	}
	n := 0
	walkAll(val, func(sp *string) bool {
		n++
		if n > maxStrings {
			tooMany = true
			return false
		}
		if *sp == "" {
			return true
		}
		res := gw.scan.Scan(scan.Item{Text: *sp, Role: "assistant"}, scan.Output)
		var cut []scan.Finding
		for _, f := range res.Findings {
			kind := findingKind(f)
			switch kind {
			case "secret":
				secret = true
				v.add(engine.Finding{Layer: Layer, Rule: RuleSecret, Severity: engine.SeverityHigh, Entity: f.Entity,
					Start: f.Start, End: f.End, Text: "secret (" + f.Rule + ")"})
			case "pii":
				pii = true
				v.add(engine.Finding{Layer: Layer, Rule: RulePII, Severity: engine.SeverityMedium, Entity: f.Entity,
					Start: f.Start, End: f.End, Text: "personal data (" + f.Rule + ")"})
			default:
				continue
			}
			if redact[kind] {
				cut = append(cut, f)
			}
		}
		if len(cut) > 0 {
			*sp = redactSpans(*sp, cut)
			changed = true
		}
		return true
	})
	return
}

// findingKind classifies an output-scanner finding: "secret", "pii" or ""
// (links, leaks and other output checks, which do not apply here).
func findingKind(f scan.Finding) string {
	switch {
	case strings.HasPrefix(f.Rule, "secret."):
		return "secret"
	case strings.HasPrefix(f.Rule, "pii."):
		return "pii"
	}
	return ""
}

// redactSpans replaces the findings' code-point spans by [ENTITY].
func redactSpans(s string, fs []scan.Finding) string {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	runes := []rune(s)
	var b strings.Builder
	pos := 0
	for _, f := range fs {
		if f.Start < pos || f.End > len(runes) || f.Start >= f.End {
			continue
		}
		b.WriteString(string(runes[pos:f.Start]))
		ent := f.Entity
		if ent == "" {
			ent = "REDACTED"
		}
		b.WriteString("[" + ent + "]")
		pos = f.End
	}
	b.WriteString(string(runes[pos:]))
	return b.String()
}

// walkStrings calls fn with a pointer to every string value inside v
// (maps, slices, nested), in a deterministic order; fn returns false to
// stop. Object keys are not visited.
func walkStrings(v any, fn func(*string) bool) bool { return walkValues(v, fn, walkStrings) }

// walkValues calls fn on the string values directly inside v and rec on
// the containers.
func walkValues(v any, fn func(*string) bool, rec func(any, func(*string) bool) bool) bool {
	// visit calls fn on a string (storing what fn left in it) or walks
	// into a container.
	visit := func(x any, set func(string)) bool {
		s, ok := x.(string)
		if !ok {
			return rec(x, fn)
		}
		more := fn(&s)
		set(s)
		return more
	}
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !visit(t[k], func(s string) { t[k] = s }) {
				return false
			}
		}
	case []any:
		for i := range t {
			if !visit(t[i], func(s string) { t[i] = s }) {
				return false
			}
		}
	}
	return true
}

// walkAll is walkStrings over object keys as well: fn may change a key,
// which renames it (a later key of the same name wins).
func walkAll(v any, fn func(*string) bool) bool {
	if t, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			nk := k
			if !fn(&nk) {
				return false
			}
			if nk != k {
				t[nk] = t[k]
				delete(t, k)
			}
		}
	}
	return walkValues(v, fn, walkAll)
}

// urlHost returns the host of s when s starts with an absolute URL of a
// network scheme, read as browsers and fetch libraries read it (WHATWG
// style: backslashes are slashes, "https:host" and "https:/\\host" name a
// host, userinfo and port are dropped), or with a scheme-relative "//host"
// or a bare "domain.tld/path"; else "". "invalid-url" when it has a scheme
// but no host.
func urlHost(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 4096 {
		s = s[:4096]
	}
	if i := strings.IndexAny(s, " \t\r\n\"'<>()[]{}|^`"); i > 0 {
		s = s[:i]
	}
	l := strings.ToLower(strings.ReplaceAll(s, "\\", "/"))
	rest, scheme := "", false
	for _, p := range []string{"https:", "http:", "ftp:", "wss:", "ws:"} {
		if r, ok := strings.CutPrefix(l, p); ok {
			rest, scheme = strings.TrimLeft(r, "/"), true
			break
		}
	}
	switch {
	case scheme:
	case strings.HasPrefix(l, "//"):
		rest = strings.TrimLeft(l, "/")
	case bareDomain.MatchString(l):
		rest = l
	default:
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host := rest
	if strings.HasPrefix(host, "[") { // IPv6 literal
		if i := strings.IndexByte(host, ']'); i > 0 {
			host = host[1:i]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "invalid-url"
	}
	return host
}

// bareDomain is "domain.tld/..." without a scheme, which fetch tools
// complete with https://.
var bareDomain = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,63}(:[0-9]+)?/`)

// maxURLs bounds the URLs looked at in one string.
const maxURLs = 256

// urlHosts returns the hosts of every URL in s: s itself when it is one,
// and each http(s), ftp or ws(s) URL inside longer text. More than
// maxURLs URLs count as one invalid one.
func urlHosts(s string) []string {
	if h := urlHost(s); h != "" {
		return []string{h}
	}
	var out []string
	l := strings.ToLower(s)
	for i := 0; i < len(l); {
		j := strings.IndexByte(l[i:], ':')
		if j < 0 {
			break
		}
		at := i + j
		start := at
		for start > 0 && l[start-1] >= 'a' && l[start-1] <= 'z' {
			start--
		}
		switch l[start:at] {
		case "http", "https", "ftp", "ws", "wss":
			if h := urlHost(s[start:]); h != "" {
				if len(out) == maxURLs {
					return append(out, "invalid-url")
				}
				out = append(out, h)
			}
		}
		i = at + 1
	}
	return out
}

func hostAllowed(globs []string, host string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), host); ok {
			return true
		}
	}
	return false
}

// schemaProblem validates arguments against the approved definition's
// input schema ("" when they conform or no schema was declared).
func (gw *Gateway) schemaProblem(rec store.MCPTool, args json.RawMessage) string {
	sch, err := gw.schemaFor(rec)
	if err != nil {
		return "the approved input schema does not compile"
	}
	if sch == nil {
		return ""
	}
	raw := bytes.TrimSpace(args)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return "arguments are not valid JSON"
	}
	if err := sch.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return truncate(strings.Join(strings.Fields(ve.Error()), " "), 300)
		}
		return "arguments do not validate"
	}
	return ""
}

// schemaFor compiles (and caches by hash) the input schema of the
// approved definition; nil when it declares none.
func (gw *Gateway) schemaFor(rec store.MCPTool) (*jsonschema.Schema, error) {
	gw.mu.Lock()
	if sch, ok := gw.schemas[rec.ApprovedHash]; ok {
		gw.mu.Unlock()
		return sch, nil
	}
	gw.mu.Unlock()
	var def struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if err := json.Unmarshal([]byte(rec.ApprovedDefinition), &def); err != nil {
		return nil, err
	}
	var sch *jsonschema.Schema
	if len(def.InputSchema) > 0 && string(def.InputSchema) != "null" {
		var err error
		if sch, err = outputguard.CompileSchema(def.InputSchema); err != nil {
			return nil, err
		}
	}
	gw.mu.Lock()
	if len(gw.schemas) >= 4096 {
		clear(gw.schemas)
	}
	gw.schemas[rec.ApprovedHash] = sch
	gw.mu.Unlock()
	return sch, nil
}

// ---- server → client: lists, results, contents ----

// definition is the canonical form of a tool definition that is pinned:
// the fields a model reads (name, title, description, schemas,
// annotations). Its JSON has sorted keys, so equal definitions hash alike.
func definition(tool map[string]any) (canonical string, hash string) {
	d := map[string]any{}
	for _, k := range []string{"name", "title", "description", "inputSchema", "outputSchema", "annotations"} {
		if v, ok := tool[k]; ok {
			d[k] = v
		}
	}
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:])
}

// describedText joins every string a model reads in a definition: its
// name, title and description, and every key and string value of its
// schemas and annotations (property names, descriptions, defaults, enums).
func describedText(def map[string]any) string {
	var parts []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			parts = append(parts, t)
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if len(k) > 24 || strings.ContainsAny(k, " \t\n") {
					parts = append(parts, k) // a property name used as text
				}
				walk(t[k])
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	for _, k := range []string{"title", "description", "inputSchema", "outputSchema", "annotations", "arguments", "uriTemplate", "uri", "mimeType"} {
		if v, ok := def[k]; ok {
			walk(v)
		}
	}
	return strings.Join(parts, "\n")
}

// listKinds are the result fields that list definitions a model reads.
var listKinds = []string{"tools", "prompts", "resources", "resourceTemplates"}

// checkResult inspects one result object from the server (of a response
// on a POST or the server stream): lists of definitions (tools are
// pinned), tool results, resource contents and prompt messages.
func (gw *Gateway) checkResult(ctx context.Context, s *server, c caller, result map[string]any, v *verdict) {
	for _, kind := range listKinds {
		if list, ok := result[kind].([]any); ok {
			kept := gw.checkList(ctx, s, c, kind, list, v)
			if v.unavailable != nil || v.block {
				return
			}
			if len(kept) != len(list) {
				result[kind] = kept
				v.changed = true
			}
		}
	}
	// Tool results (content blocks, structured content), resource
	// contents, prompt messages and the server's instructions are data
	// the model reads.
	gw.checkData(result, dataKeys, v)
}

// dataKeys are the result fields that carry data a model reads.
var dataKeys = []string{"content", "structuredContent", "contents", "messages", "instructions"}

// checkData scans the fields keys of obj (a result, or an error object):
// the injection detector over every text a model may read, then secrets
// and personal data (secrets redacted by result_secrets, which also
// decides blocking).
func (gw *Gateway) checkData(obj map[string]any, keys []string, v *verdict) {
	sub := map[string]any{} // a container, so that a lone string can be redacted
	for _, k := range keys {
		if x, ok := obj[k]; ok {
			sub[k] = x
		}
	}
	if len(sub) == 0 {
		return
	}
	if gw.scanData(sub, v) {
		v.refuse(CodeBlocked, "the server's answer carries a prompt injection; rampart withheld it")
		return
	}
	if v.block {
		return
	}
	redact := map[string]bool{}
	if gw.cfg.ResultSecrets == "redact" {
		redact["secret"] = true // personal data in results is recorded, not removed
	}
	secret, pii, changed, tooMany := gw.scanStrings(sub, redact, v)
	switch {
	case tooMany:
		v.refuse(CodeBlocked, "the server's answer holds too many strings to check")
	case gw.cfg.ResultSecrets == "block" && (secret || pii):
		v.refuse(CodeBlocked, "the server's answer carries secrets or personal data")
	case changed:
		for k, x := range sub {
			obj[k] = x
		}
		v.changed = true
	}
}

// scanData runs the injection detector (untrusted tool-output threshold)
// over the text a model reads in val (see dataTexts) and reports whether
// any is an injection.
func (gw *Gateway) scanData(val any, v *verdict) (injected bool) {
	if gw.scan == nil {
		return false
	}
	n := 0
	for _, sp := range allTexts(val, nil) {
		n++
		if n > maxStrings {
			v.refuse(CodeBlocked, "the server's answer holds too many texts to check")
			return false
		}
		if *sp == "" || !utf8.ValidString(*sp) {
			continue
		}
		res := gw.scan.Scan(scan.Item{Text: *sp, Role: "tool"}, scan.Input)
		if !res.Flagged {
			continue
		}
		injected = true
		v.add(engine.Finding{Layer: Layer, Rule: RuleInjection, Severity: engine.SeverityHigh, Score: res.Score,
			Text: "prompt injection in data from the server"})
		for _, f := range res.Findings {
			v.add(engine.Finding{Layer: Layer, Rule: "injection." + f.Rule, Severity: engine.Severity(f.Severity),
				Score: f.Score, Start: f.Start, End: f.End, Text: f.Message})
		}
	}
	return injected
}

// structural keys hold enumerations (content types, MIME types, roles),
// not text a model is told to read; binary keys hold base64.
var (
	structuralKeys = map[string]bool{"type": true, "mimeType": true, "role": true}
	binaryKeys     = map[string]bool{"blob": true, "data": true}
)

// maxDecodedBlob bounds a text blob decoded for scanning.
const maxDecodedBlob = 1 << 20

// allTexts returns every text in val a model may read: every string
// value (a lone string too) except the values of structural keys, object
// keys that read as text (long or with spaces), and base64 blobs of a
// text/* MIME type, decoded.
func allTexts(val any, out []*string) []*string {
	switch t := val.(type) {
	case string:
		s := t
		out = append(out, &s)
	case []any:
		for _, x := range t {
			out = allTexts(x, out)
		}
	case map[string]any:
		mime, _ := t["mimeType"].(string)
		for k, x := range t {
			if len(k) > 24 || strings.ContainsAny(k, " \t\n") {
				k := k
				out = append(out, &k)
			}
			if _, isStr := x.(string); isStr && structuralKeys[k] {
				continue
			}
			if b, isStr := x.(string); isStr && binaryKeys[k] {
				if strings.HasPrefix(mime, "text/") && len(b) <= maxDecodedBlob*4/3+4 {
					if raw, err := base64.StdEncoding.DecodeString(b); err == nil && utf8.Valid(raw) {
						s := string(raw)
						out = append(out, &s)
					}
				}
				continue
			}
			out = allTexts(x, out)
		}
	}
	return out
}

// checkList filters one list of definitions: entries the caller may not
// use, poisoned entries and (for tools) entries whose definition is not
// the approved one are withheld; it returns the entries kept.
func (gw *Gateway) checkList(ctx context.Context, s *server, c caller, kind string, list []any, v *verdict) []any {
	kept := make([]any, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok || i >= maxListed {
			continue
		}
		name, _ := obj["name"].(string)
		if kind == "tools" && (name == "" || !s.toolAllowed(c, name)) {
			continue
		}
		text := describedText(obj)
		findings, poisoned := gw.poisonOf(text)
		for j := range findings {
			findings[j].Message = i
		}
		if kind != "tools" {
			if poisoned {
				v.add(findings...)
				gw.withheld(s, kind, "poisoned")
				if gw.cfg.PoisonedTool == "block_server" {
					v.refuse(CodeBlocked, "the server lists a poisoned "+strings.TrimSuffix(kind, "s")+"; rampart withheld the answer")
					return nil
				}
				continue
			}
			kept = append(kept, e)
			continue
		}
		show, err := gw.pinTool(ctx, s, name, obj, findings, poisoned, v)
		if err != nil {
			v.unavailable = err
			return nil
		}
		if poisoned && gw.cfg.PoisonedTool == "block_server" && !show {
			v.refuse(CodeBlocked, "the server lists a poisoned tool; rampart withheld the answer")
			return nil
		}
		if show {
			kept = append(kept, e)
		}
	}
	return kept
}

// poisonOf checks definition text, with a bounded cache by content.
func (gw *Gateway) poisonOf(text string) ([]engine.Finding, bool) {
	sum := sha256.Sum256([]byte(text))
	key := string(sum[:])
	gw.mu.Lock()
	if r, ok := gw.poisonCache[key]; ok {
		gw.mu.Unlock()
		return append([]engine.Finding(nil), r.findings...), r.poisoned
	}
	gw.mu.Unlock()
	fs, bad := gw.poison.check(text)
	gw.mu.Lock()
	if len(gw.poisonCache) >= 4096 {
		clear(gw.poisonCache)
	}
	gw.poisonCache[key] = poisonResult{findings: fs, poisoned: bad}
	gw.mu.Unlock()
	return append([]engine.Finding(nil), fs...), bad
}

type poisonResult struct {
	findings []engine.Finding
	poisoned bool
}

// pinTool applies pinning to one listed tool and reports whether the
// client may see it. The first definition seen is approved when it is
// clean and pending (withheld) when it is poisoned; a definition that
// differs from the approved one is pending until an administrator decides.
func (gw *Gateway) pinTool(ctx context.Context, s *server, name string, tool map[string]any,
	findings []engine.Finding, poisoned bool, v *verdict) (bool, error) {
	if !gw.cfg.PinEnabled() {
		if poisoned {
			v.add(findings...)
			gw.withheld(s, "tools", "poisoned")
			return false, nil
		}
		return true, nil
	}
	def, hash := definition(tool)
	if len(def) > store.MaxMCPToolDefinition {
		v.add(engine.Finding{Layer: Layer, Rule: RuleTooLarge, Severity: engine.SeverityHigh, Text: "tool definition over 64 KiB"})
		gw.withheld(s, "tools", "too_large")
		return false, nil
	}
	reason := ""
	if poisoned {
		reason = "poisoned: " + ruleIDs(findings)
	}
	rec, ok, err := gw.pins.GetMCPTool(ctx, s.cfg.Name, name)
	if err != nil {
		return false, err
	}
	if !ok {
		t := store.MCPTool{Server: s.cfg.Name, Tool: name}
		if poisoned {
			t.Status, t.PendingHash, t.PendingDefinition, t.Reason = store.MCPToolPending, hash, def, reason
		} else {
			t.Status, t.ApprovedHash, t.ApprovedDefinition = store.MCPToolApproved, hash, def
		}
		if rec, err = gw.pins.PinMCPTool(ctx, t); err != nil {
			return false, err
		}
	}
	if rec.ApprovedHash == hash && rec.Status != store.MCPToolPending && rec.Status != store.MCPToolRejected {
		// The approved definition. One approved automatically (clean when
		// first seen) is withheld again if today's checks find poison;
		// one an administrator approved stays approved.
		if poisoned && rec.DecidedBy == "" {
			v.add(findings...)
			gw.withheld(s, "tools", "poisoned")
			return false, nil
		}
		return true, nil
	}
	if rec.PendingHash != hash {
		r := "changed definition"
		if rec.ApprovedHash == "" {
			r = "new definition"
		}
		if reason != "" {
			r += "; " + reason
		}
		if rec, err = gw.pins.SetMCPToolPending(ctx, s.cfg.Name, name, hash, def, r); err != nil {
			return false, err
		}
		gw.alert(ctx, s, name, r)
	} else if !ok {
		gw.alert(ctx, s, name, reason) // new and poisoned: pending from the start
	}
	if poisoned {
		v.add(findings...)
	}
	rule := RuleChanged
	if rec.ApprovedHash == "" {
		rule = RuleUnapproved
	}
	v.add(engine.Finding{Layer: Layer, Rule: rule, Severity: engine.SeverityHigh, Text: "tool " + rec.Status + " (" + truncate(rec.Reason, 120) + ")"})
	gw.withheld(s, "tools", rec.Status)
	return false, nil
}
