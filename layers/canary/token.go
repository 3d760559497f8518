package canary

// The token API both halves of the canary defence share: this layer
// plants a token made by NewToken and records it with Set; layers/outputguard
// reads it with Get and applies its `canary` action (block by default,
// redact or flag) to any answer, whole or streamed, that contains it. The
// token is kept as a plain string under the transaction state key StateKey.

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/rampart-ai/rampart/engine"
)

// StateKey is the tx.State key under which the token is kept (a string).
const StateKey = "canary"

// Prefix starts every token NewToken makes. It is distinctive so that a leak is
// unambiguous and so that operators can grep for it.
const Prefix = "rk-canary-"

// TokenLen is the length in bytes of a token made by NewToken.
const TokenLen = len(Prefix) + 16

// NewToken returns a fresh random token "rk-canary-" followed by 16 lowercase hex
// digits (64 bits from crypto/rand): unguessable, so an attacker cannot make
// a benign answer trip the check, and unique per request.
func NewToken() string {
	var b [8]byte
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+
	// crashes the program instead of returning a weak value).
	_, _ = rand.Read(b[:])
	var out [TokenLen]byte
	copy(out[:], Prefix)
	hex.Encode(out[len(Prefix):], b[:])
	return string(out[:])
}

// Valid reports whether s has the shape of a token made by NewToken.
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
