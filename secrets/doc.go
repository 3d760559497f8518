// Package secrets keeps secrets at rest encrypted with envelope encryption:
// every value is sealed with AES-256-GCM under a random 256-bit data key,
// and data keys are stored only wrapped (AES-256-GCM) by a master key that
// comes from an environment variable or a file and is never stored or
// logged. Each ciphertext carries associated data binding it to what it
// belongs to (a secret's name, a data key's id, an audit record's request
// id), so ciphertexts cannot be swapped between rows.
//
// A wrapped data key records the fingerprint of the master key that
// wrapped it. A Keyring holds the current master key and, during a
// rotation, the previous one; it unwraps with whichever the fingerprint
// names and always wraps with the current one. Manager.RotateMaster
// re-wraps every data key under the current master key in one store
// transaction, so a failure leaves every key as it was.
//
// Manager stores upstream credentials and other named secrets
// (`rampart secrets`); ContentSealer encrypts captured audit content with
// a shared data key per day and process.
package secrets
