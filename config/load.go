package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultYAML is the embedded default policy, used when no file is given.
//
//go:embed default.yaml
var DefaultYAML []byte

// MaxFileBytes bounds a configuration file.
const MaxFileBytes = 4 << 20

// DefaultSource names the embedded default policy in messages.
const DefaultSource = "<embedded default.yaml>"

// Load reads the configuration file at path ("" for the embedded default
// policy), applies RAMPART_* environment overrides and defaults, and
// validates the result. Every problem found is reported, joined, each with
// its file line where known.
func Load(path string) (*Config, error) {
	return LoadEnv(path, os.Environ())
}

// LoadEnv is Load with an explicit environment (KEY=VALUE entries, as
// os.Environ returns); nil means no overrides.
func LoadEnv(path string, environ []string) (*Config, error) {
	data, src := DefaultYAML, DefaultSource
	if path != "" {
		var err error
		if data, err = readFile(path); err != nil {
			return nil, err
		}
		src = path
	}
	return parse(data, src, environ)
}

// Parse decodes, defaults and validates configuration YAML without
// environment overrides.
func Parse(data []byte) (*Config, error) { return parse(data, "config", nil) }

func parse(data []byte, src string, environ []string) (*Config, error) {
	cfg, root, err := decode(data, src)
	if err != nil {
		return nil, err
	}
	if err := cfg.applyEnv(environ); err != nil {
		return nil, err
	}
	cfg.applyDefaults()
	if errs := cfg.validate(); len(errs) > 0 {
		out := make([]error, len(errs))
		for i, fe := range errs {
			fe.Source = src
			fe.Line = lineOf(root, fe.path)
			out[i] = fe
		}
		return nil, errors.Join(out...)
	}
	return cfg, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("config: %s is larger than %d bytes", path, MaxFileBytes)
	}
	return data, nil
}

// decode parses data strictly into a Config and also returns the YAML node
// tree (for line numbers of later validation errors; nil for an empty file).
func decode(data []byte, src string) (*Config, *yaml.Node, error) {
	cfg := &Config{}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	err := safeDecode(dec, cfg)
	if errors.Is(err, io.EOF) { // empty file: all defaults
		return cfg, nil, nil
	}
	if err != nil {
		msgs := yamlMessages(err)
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			line, m := splitLine(m)
			errs[i] = &FieldError{Source: src, Line: line, Msg: m}
		}
		return nil, nil, errors.Join(errs...)
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		return nil, nil, &FieldError{Source: src, Line: extra.Line, Msg: "more than one YAML document; a config file holds one"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, &FieldError{Source: src, Msg: err.Error()}
	}
	cfg.Incident.attach("incident", src, &root)
	for name, l := range cfg.Layers {
		l.line = lineOf(&root, []any{"layers", name})
		l.source = src
		l.node = child(child(&root, "layers"), name)
		cfg.Layers[name] = l
	}
	return cfg, &root, nil
}

// safeDecode turns a panic inside the YAML library into an error, so that
// no input can crash the caller.
func safeDecode(dec *yaml.Decoder, into any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: malformed input (%v)", r)
		}
	}()
	return dec.Decode(into)
}

var (
	lineRE     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^field (\S+) not found in type (.+)$`)
)

// sections names the YAML section each config type decodes.
var sections = map[string]string{
	"config.Config":   "the top level",
	"config.Server":   "server",
	"config.Upstream": "upstreams[]",
	"config.Audit":    "audit",
	"config.Log":      "log",
}

// yamlMessages splits a yaml.v3 error into one message per problem.
func yamlMessages(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return te.Errors
	}
	return []string{err.Error()}
}

// splitLine separates yaml.v3's "line N: " prefix and rephrases its
// unknown-field message for operators.
func splitLine(msg string) (int, string) {
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if m := notFoundRE.FindStringSubmatch(msg); m != nil {
		if sec, ok := sections[m[2]]; ok {
			return line, fmt.Sprintf("unknown key %q in %s", m[1], sec)
		}
		return line, fmt.Sprintf("unknown key %q", m[1])
	}
	return line, strings.TrimPrefix(msg, "yaml: ")
}

// lineOf returns the line of the node at path (map keys as strings,
// sequence indexes as ints), or of its deepest existing ancestor.
func lineOf(root *yaml.Node, path []any) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}
