// Package detect is rampart's prompt-injection and jailbreak detector.
//
// A text is normalised (package normalize: NFKC, invisible characters
// removed, confusables folded, lower-cased), decoded variants are produced
// (base64, base32, hex, URL encoding, ROT13, leetspeak, reversed text, tag
// characters), and three kinds of evidence are gathered:
//
//   - rules (package rules): phrase rules found with Aho-Corasick and
//     confirmed by RE2 patterns, on the text and on every decoded variant;
//     some rules apply only to untrusted content (documents, tool results);
//   - a linear model (package model) over hashed word uni/bi-grams and
//     character 3–5-grams, trained by tools/train on data/injection and
//     embedded; it scores the whole text and every sentence window (one
//     injected sentence in a long document still stands out) as binary
//     feature vectors (each bucket once per span, so repeating a word or a
//     sentence raises no score), all windows in one pass over the features;
//   - structure: chat-template special tokens, which are a finding by
//     themselves.
//
// A logistic stacker, fitted on out-of-fold scores of the training split,
// turns these signals into one calibrated score in [0, 1]. User text and
// untrusted content have separate thresholds, chosen on group out-of-fold
// scores of the train split pooled with the dev split.
//
// Findings carry rule ids, severities and code-point spans into the
// original text, never the text itself.
package detect
