// Package topics is rampart's topic-rail layer: banned terms and
// substrings, competitor names and denied topics (keyword sets matched
// through a word index or an Aho-Corasick automaton, example sentences
// matched by word uni/bigram similarity), each with action block, redact or flag, and an allow-topic
// mode that refuses requests about anything else. All matching runs on
// text normalised by detect/normalize (shared with other layers through
// layers/internal/normtext), so homoglyphs, invisible characters
// and case do not evade it; findings carry code-point spans of the
// original text. See README.md.
package topics
