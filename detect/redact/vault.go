package redact

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
)

// MaxVaultEntries bounds how many distinct values one vault holds.
const MaxVaultEntries = 1024

// ErrVaultFull is returned when a vault already holds MaxVaultEntries values.
var ErrVaultFull = errors.New("redact: pseudonym vault full")

// Vault maps values to stable placeholders ("<EMAIL_ADDRESS_1>") and back,
// for one transaction. Values are kept sealed (AES-256-GCM under a random
// per-vault key) and looked up by HMAC, so the vault holds no plaintext; it
// is meant to live in tx state only and is never persisted. Not safe for
// concurrent use (a transaction is used by one goroutine at a time).
type Vault struct {
	aead    cipher.AEAD
	mac     []byte
	byMAC   map[string]string // hmac(entity,value) -> placeholder
	sealed  map[string][]byte // placeholder -> nonce||ciphertext
	counter map[string]int    // entity -> last number
}

// NewVault creates an empty vault with fresh random keys.
func NewVault() (*Vault, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	mac := make([]byte, 32)
	if _, err := rand.Read(mac); err != nil {
		return nil, err
	}
	return &Vault{aead: aead, mac: mac, byMAC: map[string]string{}, sealed: map[string][]byte{}, counter: map[string]int{}}, nil
}

// Len is the number of distinct values held.
func (v *Vault) Len() int { return len(v.sealed) }

// Placeholder returns the placeholder for value, creating it on first use.
// The same value always gets the same placeholder within the vault.
func (v *Vault) Placeholder(entity, value string) (string, error) {
	m := hmac.New(sha256.New, v.mac)
	m.Write([]byte(entity))
	m.Write([]byte{0})
	m.Write([]byte(value))
	id := string(m.Sum(nil))
	if p, ok := v.byMAC[id]; ok {
		return p, nil
	}
	if len(v.sealed) >= MaxVaultEntries {
		return "", ErrVaultFull
	}
	v.counter[entity]++
	p := "<" + entity + "_" + strconv.Itoa(v.counter[entity]) + ">"
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	v.sealed[p] = v.aead.Seal(nonce, nonce, []byte(value), []byte(p))
	v.byMAC[id] = p
	return p, nil
}

// value opens the sealed value for placeholder p.
func (v *Vault) value(p string) (string, bool) {
	s, ok := v.sealed[p]
	if !ok {
		return "", false
	}
	n := v.aead.NonceSize()
	out, err := v.aead.Open(nil, s[:n], s[n:], []byte(p))
	if err != nil {
		return "", false
	}
	return string(out), true
}

// Pseudonymize replaces each span (from Resolve) by its placeholder.
func (v *Vault) Pseudonymize(text string, spans []Span) (string, error) {
	var err error
	out := Apply(text, spans, func(s Span, val string) string {
		p, e := v.Placeholder(s.Entity, val)
		if e != nil {
			err = e
			return Label(s.Entity, val)
		}
		return p
	})
	return out, err
}

// maxPlaceholder bounds a placeholder's length: '<', entity, '_', number, '>'.
const maxPlaceholder = 48

// Restore replaces every placeholder this vault issued by its value.
// Unknown placeholders stay as they are.
func (v *Vault) Restore(text string) string {
	if len(v.sealed) == 0 || !strings.Contains(text, "<") {
		return text
	}
	var b strings.Builder
	i := 0
	for i < len(text) {
		k := strings.IndexByte(text[i:], '<')
		if k < 0 {
			break
		}
		k += i
		b.WriteString(text[i:k])
		if n := placeholderLen(text[k:]); n > 0 {
			if val, ok := v.value(text[k : k+n]); ok {
				b.WriteString(val)
				i = k + n
				continue
			}
		}
		b.WriteByte('<')
		i = k + 1
	}
	b.WriteString(text[i:])
	return b.String()
}

// placeholderLen returns the length of a complete placeholder at the start
// of s, or 0.
func placeholderLen(s string) int {
	n, complete := placeholderPrefix(s)
	if !complete {
		return 0
	}
	return n
}

// placeholderPrefix scans s (starting with '<') as a placeholder:
// "<" [A-Z_]+ "_" [0-9]+ ">". It returns how many bytes matched and whether
// they form a complete placeholder. When s ends while still matching,
// n == len(s) and complete is false: it may continue in the next chunk.
func placeholderPrefix(s string) (n int, complete bool) {
	if s == "" || s[0] != '<' {
		return 0, false
	}
	i := 1
	for i < len(s) && i < maxPlaceholder && (s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == len(s) && i < maxPlaceholder {
		return i, false
	}
	if i < len(s) && s[i] == '>' {
		body := s[1:i]
		u := strings.LastIndexByte(body, '_')
		if u > 0 && u < len(body)-1 {
			if _, err := strconv.Atoi(body[u+1:]); err == nil {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// Restorer restores placeholders in a stream of chunks, holding back a
// trailing partial placeholder (at most maxPlaceholder bytes) until the
// next chunk completes or breaks it.
type Restorer struct {
	V       *Vault
	pending string
}

// Feed returns the restored text that can be emitted after chunk.
func (r *Restorer) Feed(chunk string) string {
	s := r.pending + chunk
	r.pending = ""
	if k := strings.LastIndexByte(s, '<'); k >= 0 && len(s)-k < maxPlaceholder {
		if n, complete := placeholderPrefix(s[k:]); !complete && n == len(s)-k {
			r.pending = s[k:]
			s = s[:k]
		}
	}
	return r.V.Restore(s)
}

// Flush returns whatever is still held (restored where possible).
func (r *Restorer) Flush() string {
	s := r.pending
	r.pending = ""
	return r.V.Restore(s)
}

// Pending reports whether text is being held back.
func (r *Restorer) Pending() bool { return r.pending != "" }
