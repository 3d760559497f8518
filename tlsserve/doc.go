// Package tlsserve terminates TLS for the gateway: a tls.Config with TLS 1.2
// as the floor (1.3 is negotiated whenever the client offers it), only
// forward-secret AEAD cipher suites for TLS 1.2, modern curves (hybrid
// post-quantum X25519MLKEM768 first), optional client-certificate
// verification (mTLS) against a CA bundle, and certificate, key and CA
// files that are reloaded while serving.
//
// Reloading polls the files' contents (SHA-256 of what is read, every
// ReloadInterval) rather than watching file-system events: a content poll
// sees every way a file can change — rewrite in place, atomic rename,
// Kubernetes' "..data" symlink swap, network file systems without inotify —
// at the cost of reading a few kilobytes every few seconds. A change that
// does not load (a half-written pair, a key that does not match its
// certificate, a CA file without certificates) is logged and counted; the
// previous certificate keeps serving and the next poll tries again. New
// handshakes use the new files; established connections keep theirs.
package tlsserve
