package gateway

import (
	"net/http"
	"os"

	"github.com/rampart-ai/rampart/ui"
)

// isConsolePath reports whether path belongs to the admin console.
func isConsolePath(path string) bool {
	return path == "/ui" || len(path) >= 4 && path[:4] == "/ui/"
}

// consoleHandler serves the admin console (package ui) at /ui/. The
// console is a client of this gateway: every page and action is an admin
// API (or /v1/scan) call through g with the signed-in credential.
func (g *Gateway) consoleHandler(w http.ResponseWriter, r *http.Request) {
	g.consoleOnce.Do(func() {
		o := ui.Options{API: g, Status: g.consoleStatus, Log: g.log, AuthFailed: g.AuthFailed}
		if g.ident != nil {
			if c := g.ident.Config().OIDC; c.Issuer != "" {
				o.OIDC = &ui.OIDC{Issuer: c.Issuer, ClientID: c.Audience, ClientSecret: os.Getenv("RAMPART_UI_OIDC_CLIENT_SECRET")}
			}
		}
		h, err := ui.New(o)
		if err != nil {
			g.log.Error("admin console", "err", err)
			return
		}
		g.console = h
	})
	if g.console == nil {
		g.fail(w, g.adapters["openai"], http.StatusServiceUnavailable, "console_unavailable", "the admin console could not start; see the gateway's log")
		return
	}
	g.console.ServeHTTP(w, r)
}

// consoleStatus is the configuration state the console's overview shows
// global admins (the same as /readyz's config object).
func (g *Gateway) consoleStatus() ui.Status {
	st := g.reload.status()
	out := ui.Status{Generation: st.Generation, LoadedAt: st.LoadedAt, RestartRequired: st.RestartRequired}
	if st.LastReload != nil {
		out.LastResult, out.LastAt, out.LastError = st.LastReload.Result, st.LastReload.At, st.LastReload.Error
	}
	return out
}

// consoleRoutes are the console's routes for Routes().
func consoleRoutes() []Route {
	var out []Route
	for _, r := range ui.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Pattern, Console: true})
	}
	return out
}
