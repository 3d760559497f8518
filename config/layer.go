package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layer returns the named layer's section with its name attached, so that
// Decode errors name it. A layer not in the file gets an empty section
// (mode and failure unset, no options).
func (c *Config) Layer(name string) Layer {
	l := c.Layers[name]
	l.name = name
	return l
}

// Name is the layer's config key ("" for a Layer built by hand).
func (l *Layer) Name() string { return l.name }

// ModeOr returns the configured mode, or def when none is set.
func (l *Layer) ModeOr(def string) string {
	if l.Mode == "" {
		return def
	}
	return l.Mode
}

// FailureOr returns the configured failure mode, or def when none is set.
func (l *Layer) FailureOr(def string) string {
	if l.Failure == "" {
		return def
	}
	return l.Failure
}

// Decode fills into (a pointer to the layer's config struct, pre-set with
// its defaults) from the layer's options. Unknown keys and wrong types are
// errors, every one of them, each a *FieldError with the file line of the
// offending key. Without options, into is untouched.
func (l *Layer) Decode(into any) error {
	if len(l.Options) == 0 {
		return nil
	}
	data, err := yaml.Marshal(l.Options)
	if err != nil {
		return l.fieldError(nil, err.Error())
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := safeDecode(dec, into); err != nil {
		// yaml.v3's lines refer to the re-encoded options: find the key
		// at that line there, and the same key in the file.
		var enc yaml.Node
		_ = yaml.Unmarshal(data, &enc)
		var errs []error
		for _, m := range yamlMessages(err) {
			line, m := splitLine(m)
			p := pathAtLine(&enc, line)
			fe := l.fieldError(p, m)
			if strings.HasPrefix(m, "unknown key ") && len(p) > 0 {
				// The message names the key: the field is its parent,
				// the line still the key's.
				fe = l.fieldError(p[:len(p)-1], m)
				if kl := lineOf(l.node, p); kl > 0 {
					fe.Line = kl
				}
			}
			errs = append(errs, fe)
		}
		return errors.Join(errs...)
	}
	return nil
}

// Errors turns the errors of a layer's New or configuration check into
// *FieldErrors of this section: each joined error separately, the layer's
// own "<name>: " and "config: " prefixes dropped, and the line of the
// deepest key the message starts with ("rules[2]: duplicate name",
// "incident: backend \"mongo\"", "user_threshold 5 outside [0, 1]") when
// the file has it, else the section's line. FieldErrors pass unchanged.
func (l *Layer) Errors(err error) error {
	if err == nil {
		return nil
	}
	var out []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
			return
		}
		out = append(out, l.guessField(err.Error()))
	}
	walk(err)
	return errors.Join(out...)
}

// keyTokenRE is a leading key path in a message: "incident", "rules[2]",
// "output.EMAIL_ADDRESS", followed by ": " (a prefix) or " " (a value).
var keyTokenRE = regexp.MustCompile(`^([A-Za-z0-9_\-]+(?:\[\d+\])*(?:\.[A-Za-z0-9_\-]+(?:\[\d+\])*)*)(: | )`)

// guessField locates msg in the section by the key path it starts with.
func (l *Layer) guessField(msg string) *FieldError {
	for _, p := range []string{l.name + ": ", "config: ", "layers." + l.name + ": "} {
		if l.top && p == "layers."+l.name+": " {
			continue
		}
		for strings.HasPrefix(msg, p) {
			msg = strings.TrimPrefix(msg, p)
		}
	}
	var prefix, deepest []any
	rest := msg
	for {
		m := keyTokenRE.FindStringSubmatch(rest)
		if m == nil {
			break
		}
		p, ok := parseKeyPath(m[1])
		if !ok {
			break
		}
		full := at(deepest, p...)
		if l.node == nil || !hasPath(l.node, full) {
			break
		}
		deepest = full
		if m[2] != ": " {
			break // "key value ...": the message names the key itself
		}
		prefix, rest = full, rest[len(m[0]):]
	}
	fe := l.fieldError(prefix, rest)
	if len(deepest) > len(prefix) {
		if line := lineOf(l.node, deepest); line > 0 {
			fe.Line = line
		}
	}
	return fe
}

// fieldError is a *FieldError at path p inside this section.
func (l *Layer) fieldError(p []any, msg string) *FieldError {
	field := "layers"
	if l.name != "" {
		field += "." + l.name
	}
	if l.top {
		field = l.name
	}
	if len(p) > 0 {
		field += "." + fieldName(p)
	}
	fe := &FieldError{Source: l.source, Line: l.line, Field: field, Msg: msg}
	if l.env != "" && l.node == nil {
		fe.Source, fe.Line, fe.Field = "", 0, l.env+" ("+field+")"
	}
	if line := lineOf(l.node, p); len(p) > 0 && line > 0 {
		fe.Line = line
	}
	return fe
}

// parseKeyPath splits "a.b[2].c" into map keys and sequence indexes.
func parseKeyPath(s string) ([]any, bool) {
	var p []any
	for _, part := range strings.Split(s, ".") {
		key, idx, _ := strings.Cut(part, "[")
		if key == "" {
			return nil, false
		}
		p = append(p, key)
		for idx != "" {
			n, more, ok := strings.Cut(idx, "]")
			i, err := strconv.Atoi(n)
			if !ok || err != nil {
				return nil, false
			}
			p = append(p, i)
			idx = strings.TrimPrefix(more, "[")
		}
	}
	return p, true
}

// hasPath reports whether node (a mapping) has every key and index of p.
func hasPath(node *yaml.Node, p []any) bool {
	n := node
	for _, k := range p {
		n = child(n, k)
		if n == nil {
			return false
		}
	}
	return true
}

func child(n *yaml.Node, k any) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return nil
	}
	switch k := k.(type) {
	case string:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					return n.Content[i+1]
				}
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
			return n.Content[k]
		}
	}
	return nil
}

// pathAtLine is the path of the first key or item at line in the tree
// (nil when none is).
func pathAtLine(root *yaml.Node, line int) []any {
	if line <= 0 {
		return nil
	}
	var find func(n *yaml.Node, p []any) []any
	find = func(n *yaml.Node, p []any) []any {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) > 0 {
				return find(n.Content[0], p)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				kp := at(p, n.Content[i].Value)
				if n.Content[i].Line == line {
					return kp
				}
				if r := find(n.Content[i+1], kp); r != nil {
					return r
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				ip := at(p, i)
				if c.Line == line && c.Kind != yaml.MappingNode {
					return ip
				}
				if r := find(c, ip); r != nil {
					return r
				}
				if c.Line == line {
					return ip
				}
			}
		}
		return nil
	}
	return find(root, nil)
}

// CheckLayers reports every configured layer name not in known (the names
// of the chain's modules), so that a typo such as "pii_redact" for
// "outputguard" is an error rather than a silently ignored section; a
// RAMPART_LAYERS_<NAME>_MODE or _FAILURE variable naming no layer is
// reported by its variable.
func (c *Config) CheckLayers(known []string) error {
	var errs []error
	for _, name := range sortedKeys(c.Layers) {
		if !slices.Contains(known, name) {
			l := c.Layer(name)
			errs = append(errs, l.fieldError(nil, fmt.Sprintf("unknown layer %q (known: %s)", name, strings.Join(known, ", "))))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
