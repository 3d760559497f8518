package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

// scope ids (compiled from Rule.Scope).
const (
	scKey uint8 = iota + 1
	scUser
	scTenant
	scIP
	scRoute
	scModel
	scGlobal
)

var scopeIDs = map[string]uint8{ScopeKey: scKey, ScopeUser: scUser, ScopeTenant: scTenant, ScopeIP: scIP,
	ScopeRoute: scRoute, ScopeModel: scModel, ScopeGlobal: scGlobal}

// scopePhrase is how an answer names a scope ("... per API key").
var scopePhrase = map[uint8]string{scKey: "per API key", scUser: "per user", scTenant: "per tenant",
	scIP: "per client IP", scRoute: "per route", scModel: "per model", scGlobal: "in total"}

// scopeValue is the value a rule of scope sc counts per for tx, or "" when
// the request does not have it (the rule then does not count it).
func scopeValue(sc uint8, tx *engine.Tx, v6bits int) string {
	id := tx.Identity
	switch sc {
	case scKey:
		if id != nil && id.KeyID != "" {
			return id.Tenant + "\x00" + id.KeyID
		}
	case scUser:
		if id != nil && id.Subject != "" {
			return id.Tenant + "\x00" + id.Subject
		}
	case scTenant:
		if id != nil {
			return id.Tenant
		}
	case scIP:
		return ipValue(tx.ClientIP, v6bits)
	case scRoute:
		return tx.Route
	case scModel:
		if tx.Request != nil {
			return tx.Request.Model
		}
	case scGlobal:
		return "*"
	}
	return ""
}

// ipValue normalises a client address: IPv4 (also IPv4-mapped IPv6) as is,
// IPv6 reduced to its /v6bits network, anything unparseable verbatim.
func ipValue(s string, v6bits int) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	a = a.Unmap().WithZone("")
	if a.Is4() || v6bits >= 128 {
		return a.String()
	}
	p, err := a.Prefix(v6bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// maxRawValue is the longest scope value kept readable in a key; longer or
// unusual values are replaced by a hash.
const maxRawValue = 64

// safeByte reports bytes kept verbatim in keys (no ':' — it separates parts).
func safeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == '/' || c == '@' || c == '+' || c == '*'
}

// encodeValue makes a scope value safe for a key: "v" + value when short and
// plain, else "h" + 32 hex digits of its SHA-256. The two forms never
// collide, and a key's length is bounded whatever the client sent.
func encodeValue(v string) string {
	if len(v) <= maxRawValue {
		plain := true
		for i := 0; i < len(v); i++ {
			if !safeByte(v[i]) {
				plain = false
				break
			}
		}
		if plain {
			return "v" + v
		}
	}
	sum := sha256.Sum256([]byte(v))
	return "h" + hex.EncodeToString(sum[:16])
}

// buildKey is prefix + rule + ":" + limit + ":" + encoded value, and
// ":" + window for budgets.
func buildKey(prefix, rule, limit, value, window string) string {
	ev := encodeValue(value)
	n := len(prefix) + len(rule) + len(limit) + len(ev) + 2
	if window != "" {
		n += len(window) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, prefix...)
	b = append(b, rule...)
	b = append(b, ':')
	b = append(b, limit...)
	b = append(b, ':')
	b = append(b, ev...)
	if window != "" {
		b = append(b, ':')
		b = append(b, window...)
	}
	return string(b)
}

// dayWindow names the UTC calendar day of t and returns when it ends.
func dayWindow(t time.Time) (string, time.Time) {
	t = t.UTC()
	y, m, d := t.Date()
	return "d" + strconv.Itoa(y*10000+int(m)*100+d), time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// monthWindow names the UTC calendar month of t and returns when it ends.
func monthWindow(t time.Time) (string, time.Time) {
	t = t.UTC()
	y, m, _ := t.Date()
	return "m" + strconv.Itoa(y*100+int(m)), time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}
