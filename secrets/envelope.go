package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// Associated-data labels: each ciphertext is bound to its kind and owner.
const (
	adDataKey = "rampart/data-key/v1\x00"
	adSecret  = "rampart/secret/v1\x00"
	adContent = "rampart/audit-content/v1\x00"
)

// Data key purposes (store.DataKey.Purpose).
const (
	PurposeSecret = "secret"
	PurposeAudit  = "audit"
)

// errOpen is the one error of a failed decryption: wrong key, tampered
// bytes or a ciphertext moved to another row all look the same.
var errOpen = errors.New("secrets: decryption failed (wrong key, or the stored bytes were altered or moved)")

// seal encrypts plaintext under key: nonce || ciphertext+tag. AES-GCM with
// a random 96-bit nonce; a key encrypts few enough messages (one secret,
// or one day of audit records of one process) that nonce reuse is out of
// reach.
func seal(key, plaintext []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return aead.Seal(nonce, nonce, plaintext, []byte(ad)), nil
}

// open decrypts what seal produced with the same key and ad.
func open(key, sealed []byte, ad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errOpen
	}
	n := aead.NonceSize()
	p, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, errOpen
	}
	return p, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// newDataKey returns a fresh random data key and its record, wrapped under
// the keyring's current master key.
func (k *Keyring) newDataKey(purpose string, now time.Time) ([]byte, store.DataKey, error) {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	var idb [16]byte
	_, _ = rand.Read(idb[:])
	dk := store.DataKey{ID: "dk_" + hex.EncodeToString(idb[:]), Purpose: purpose, CreatedAt: now.UTC()}
	var err error
	dk.Wrapped, dk.MasterID, err = k.wrap(dk, key)
	if err != nil {
		return nil, store.DataKey{}, err
	}
	return key, dk, nil
}

// wrap encrypts a data key under the current master key, bound to the data
// key's id and purpose.
func (k *Keyring) wrap(dk store.DataKey, key []byte) ([]byte, string, error) {
	w, err := seal(k.current.key, key, adDataKey+dk.ID+"\x00"+dk.Purpose)
	if err != nil {
		return nil, "", err
	}
	return w, k.current.id, nil
}

// unwrap decrypts a stored data key with the master key that wrapped it.
func (k *Keyring) unwrap(dk store.DataKey) ([]byte, error) {
	mk, err := k.byID(dk.MasterID)
	if err != nil {
		return nil, err
	}
	key, err := open(mk.key, dk.Wrapped, adDataKey+dk.ID+"\x00"+dk.Purpose)
	if err != nil {
		return nil, errors.New("secrets: data key " + dk.ID + ": " + err.Error())
	}
	if len(key) != KeySize {
		return nil, errors.New("secrets: data key " + dk.ID + " has the wrong size")
	}
	return key, nil
}
