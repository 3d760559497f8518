// Package canary is the small API both halves of rampart's canary-token
// defence share. The request side (layers/canary) plants a random per-request
// token in the system prompt and records it with Set; the output side
// (layers/outputguard) reads it with Get and blocks any answer that contains
// it, because a model that repeats the token is leaking its system prompt.
//
// The token is stored as a plain string under the transaction state key
// "canary" (StateKey), so readers that predate this package, doing
// tx.State("canary").(string), keep working.
package canary

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/rampart-ai/rampart/engine"
)

// StateKey is the tx.State key under which the token is kept (a string).
const StateKey = "canary"

// Prefix starts every token New makes. It is distinctive so that a leak is
// unambiguous and so that operators can grep for it.
const Prefix = "rk-canary-"

// TokenLen is the length in bytes of a token made by New.
const TokenLen = len(Prefix) + 16

// New returns a fresh random token "rk-canary-" followed by 16 lowercase hex
// digits (64 bits from crypto/rand): unguessable, so an attacker cannot make
// a benign answer trip the check, and unique per request.
func New() string {
	var b [8]byte
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+
	// crashes the program instead of returning a weak value).
	_, _ = rand.Read(b[:])
	var out [TokenLen]byte
	copy(out[:], Prefix)
	hex.Encode(out[len(Prefix):], b[:])
	return string(out[:])
}

// Valid reports whether s has the shape of a token made by New.
func Valid(s string) bool {
	if len(s) != TokenLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	for i := len(Prefix); i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Set records token as this transaction's canary. An empty token clears it.
func Set(tx *engine.Tx, token string) {
	if token == "" {
		tx.SetState(StateKey, nil)
		return
	}
	tx.SetState(StateKey, token)
}

// Get returns this transaction's canary, if one was planted.
func Get(tx *engine.Tx) (string, bool) {
	s, ok := tx.State(StateKey).(string)
	if !ok || s == "" {
		return "", false
	}
	return s, true
}
