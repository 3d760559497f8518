// Package blocklist is the layer that enforces blocks and throttles: API
// keys, users, client addresses and networks refused (403 blocked) or
// slowed (429 throttled, with Retry-After) until a TTL ends. Blocks come
// from administrators (admin API, `rampart blocks`) and from automatic
// incident response (package incident).
//
// Blocks live in the store (store.BlockStore: SQLite, or PostgreSQL shared
// by every replica). Each replica keeps them in a Cache: hash maps for keys
// and users and prefix tables (github.com/gaissmai/bart) for addresses and
// networks, rebuilt off the request path, so a lookup costs two map and two
// table lookups whatever the number of blocks. A refresher polls the
// store's blocks version every refresh_interval and reloads only when it
// moved; expired blocks drop out of the cache on time, from memory, and are
// purged from the store every purge_interval. A store that cannot be
// reached leaves the last loaded blocks in force (counted and logged).
//
// The layer runs in the headers phase, right after identity, so a blocked
// caller is refused before its body is read. Its answers name what is
// blocked (key, user or address) but never why, by whom or until when.
package blocklist
