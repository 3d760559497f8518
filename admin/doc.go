// Package admin serves rampart's admin API: JSON REST under /admin/ for
// keys, tenants, roles and the audit log. Every call is authenticated by
// the same identity service as the model API (API key, JWT or client
// certificate) and authorised by the one permission table
// (identity/permissions.go); in addition every call is tenant-scoped: a
// tenant admin sees and changes only its own tenant, a global admin
// (tenant "*") all of them. Errors are OpenAI-shaped.
package admin
