package config

import "gopkg.in/yaml.v3"

// Section is a top-level section whose keys another package defines and
// decodes (incident: the incident package's Config), so that package
// config does not depend on it. Like a layer's section it remembers where
// it came from: Decode is strict and Errors places each problem at the
// file line of its key.
type Section struct {
	// Options are the section's keys, decoded by Decode.
	Options map[string]any `yaml:",inline"`

	name   string
	line   int
	source string
	node   *yaml.Node
}

// IncidentSection is the top-level incident section, named for its
// errors.
func (c *Config) IncidentSection() Section {
	s := c.Incident
	s.name = "incident"
	return s
}

// IsSet reports whether the file has the section (even empty).
func (s Section) IsSet() bool { return s.node != nil || len(s.Options) > 0 }

// Line is the file line of the section's key (0: not in a file).
func (s Section) Line() int { return s.line }

// view is the section as a Layer with top-level field names.
func (s Section) view() *Layer {
	return &Layer{Options: s.Options, name: s.name, line: s.line, source: s.source, node: s.node, top: true}
}

// Decode fills into (a pointer to the section's config struct, pre-set
// with its defaults) strictly: unknown keys and wrong types are errors,
// each a *FieldError at its key's line. Without options, into is
// untouched.
func (s Section) Decode(into any) error { return s.view().Decode(into) }

// Errors turns the section's configuration errors into *FieldErrors (see
// Layer.Errors): "thresholds[0]: ..." is placed at that key's line.
func (s Section) Errors(err error) error { return s.view().Errors(err) }

// Error is one *FieldError about the section as a whole, at its line.
func (s Section) Error(msg string) error { return s.view().fieldError(nil, msg) }

// attach records where the section named name came from.
func (s *Section) attach(name, src string, root *yaml.Node) {
	s.name, s.source = name, src
	s.line = lineOf(root, []any{name})
	s.node = child(root, name)
}
