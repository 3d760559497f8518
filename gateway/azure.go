package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider"
)

// Upstream credentials and URLs beyond the OpenAI/Anthropic defaults:
// Azure OpenAI's api-key header, Microsoft Entra ID tokens, and base URLs
// that carry a query string (Azure's ?api-version=).

const (
	defaultEntraScope        = "https://cognitiveservices.azure.com/.default"
	defaultEntraSecretEnv    = "AZURE_CLIENT_SECRET"
	entraTokenTimeout        = 10 * time.Second
	entraTokenEarlyRenewal   = 5 * time.Minute
	maxEntraTokenAnswerBytes = 64 << 10
)

// upstreamAuth sends an upstream's credential.
type upstreamAuth struct {
	mode  string             // bearer, x-api-key, api-key or entra
	token oauth2.TokenSource // entra: cached, renewed before expiry
}

// setAuth picks how u sends its credential and splits a query string off
// the base URL.
func (u *upstream) setAuth(c config.Upstream, getenv func(string) string) error {
	if i := strings.IndexByte(u.base, '?'); i >= 0 {
		q, err := url.ParseQuery(u.base[i+1:])
		if err != nil {
			return fmt.Errorf("upstream %q: base_url query: %v", u.name, err)
		}
		u.base, u.query = strings.TrimRight(u.base[:i], "/"), q
	}
	mode := c.Auth
	if mode == "" {
		mode = "bearer"
		switch c.Provider {
		case "anthropic":
			mode = "x-api-key"
		case "gemini":
			mode = "x-goog-api-key"
		}
	}
	u.auth.mode = mode
	if mode != "entra" {
		return nil
	}
	e := c.Entra
	if e == nil || e.TenantID == "" || e.ClientID == "" {
		return fmt.Errorf("upstream %q: auth entra needs entra.tenant_id and entra.client_id", u.name)
	}
	secretEnv := e.ClientSecretEnv
	if secretEnv == "" {
		secretEnv = defaultEntraSecretEnv
	}
	secret := getenv(secretEnv)
	if secret == "" {
		return fmt.Errorf("upstream %q: the Entra client secret variable %s is empty", u.name, secretEnv)
	}
	tokenURL := e.TokenURL
	if tokenURL == "" {
		tokenURL = "https://login.microsoftonline.com/" + url.PathEscape(e.TenantID) + "/oauth2/v2.0/token"
	}
	scope := e.Scope
	if scope == "" {
		scope = defaultEntraScope
	}
	cc := &clientcredentials.Config{ClientID: e.ClientID, ClientSecret: secret, TokenURL: tokenURL,
		Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams}
	// The token endpoint is called with its own bounded client, never
	// with a request's context (a cancelled request must not poison the
	// cached token source).
	hc := &http.Client{Timeout: entraTokenTimeout, Transport: limitedBody{newTransport(orDur(c.ConnectTimeout, config.DefaultConnectTimeout))}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	u.auth.token = oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(ctx), entraTokenEarlyRenewal)
	return nil
}

// limitedBody bounds what the token endpoint may send.
type limitedBody struct{ rt http.RoundTripper }

func (l limitedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err == nil {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxEntraTokenAnswerBytes), resp.Body}
	}
	return resp, err
}

// apply sets the credential header on h.
func (a *upstreamAuth) apply(ctx context.Context, h http.Header, key string) error {
	switch a.mode {
	case "entra":
		tok, err := a.token.Token()
		if err != nil {
			// The error can quote the token endpoint's answer: logged by
			// the engine as the transaction's error, never sent on.
			return &engine.HTTPError{Status: http.StatusBadGateway, Code: engine.CodeUpstreamAuth,
				Message: "the gateway could not obtain a Microsoft Entra ID token for the upstream; the gateway's operator must fix its entra settings",
				Err:     fmt.Errorf("entra token: %w", err)}
		}
		h.Set("Authorization", "Bearer "+tok.AccessToken)
	case "api-key":
		if key != "" {
			h.Set("Api-Key", key)
		}
	case "x-api-key":
		if key != "" {
			h.Set("X-Api-Key", key)
		}
	case "x-goog-api-key":
		if key != "" {
			h.Set("X-Goog-Api-Key", key)
		}
	default:
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
	}
	return nil
}

// target is the upstream URL of a route: the base URL's path, the route
// (without /v1), then the base URL's query (api-version ...) merged with
// the client's query, the base URL's parameters winning. Client parameters
// that carry a credential (credentialParams) are not sent on.
func (u *upstream) target(route, clientQuery string) string {
	t := u.base + strings.TrimPrefix(route, "/v1")
	clientQuery = dropCredentialParams(clientQuery)
	if len(u.query) == 0 {
		if clientQuery != "" {
			t += "?" + clientQuery
		}
		return t
	}
	q := url.Values{}
	if cq, err := url.ParseQuery(clientQuery); err == nil {
		for k, v := range cq {
			q[k] = v
		}
	}
	for k, v := range u.query {
		q[k] = v
	}
	return t + "?" + q.Encode()
}

// credentialParams are query parameter names (lower-cased) that carry a
// credential: a client may put its rampart key there (Gemini's REST
// examples use ?key=, Azure's ?api-key=); the gateway reads keys from
// headers only and never forwards these to a provider.
var credentialParams = map[string]bool{"key": true, "api-key": true, "api_key": true, "apikey": true, "access_token": true}

// dropCredentialParams removes credentialParams from raw query q, keeping
// every other parameter byte for byte.
func dropCredentialParams(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	out := parts[:0]
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !credentialParams[strings.ToLower(strings.TrimSpace(name))] {
			out = append(out, p)
		}
	}
	return strings.Join(out, "&")
}

// Azure OpenAI client paths. Clients built for Azure (openai-go's azure
// package, openai-python's AzureOpenAI, ...) put the deployment in the path
// (/openai/deployments/{deployment}/chat/completions?api-version=...) and
// their key in the api-key header. rampart serves these paths as the
// matching /v1 route (same chain, same permission row, same audit route):
// the deployment is the model the call is for, so the body's "model" must
// name it (the SDKs send the deployment there) and routing, model policy
// and limits read it; api-version is not forwarded (an Azure upstream's
// base URL carries its own).
const azureClientPrefix = "/openai/deployments/"

// azureClientRoutes maps the part after the deployment to its /v1 route.
var azureClientRoutes = map[string]string{
	"chat/completions": "/v1/chat/completions",
	"completions":      "/v1/completions",
	"embeddings":       "/v1/embeddings",
}

// azureRouteSet holds the /v1 routes Azure client paths map to.
var azureRouteSet = map[string]struct{}{"/v1/chat/completions": {}, "/v1/completions": {}, "/v1/embeddings": {}}

type azureDeploymentKey struct{}

// azureClientPath rewrites an Azure client path to its /v1 route and
// remembers the deployment in the request's context. ok is false for a
// path under /openai/deployments/ that rampart does not serve, or a
// malformed deployment name.
func azureClientPath(r *http.Request) (*http.Request, bool) {
	rest := strings.TrimPrefix(r.URL.Path, azureClientPrefix)
	dep, op, found := strings.Cut(rest, "/")
	route, known := azureClientRoutes[op]
	if !found || !known || dep == "" || len(dep) > maxModelID {
		return r, false
	}
	for i := 0; i < len(dep); i++ {
		b := dep[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return r, false
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), azureDeploymentKey{}, dep))
	r.URL.Path, r.URL.RawPath = route, ""
	if q := r.URL.Query(); q.Has("api-version") {
		q.Del("api-version")
		r.URL.RawQuery = q.Encode()
	}
	r.RequestURI = ""
	return r, true
}

// azureDeploymentModel, the FromRequest hook of the routes Azure clients
// reach, refuses a body whose model is not the deployment of the path.
func azureDeploymentModel(r *http.Request, c *conv.Conversation) error {
	dep, ok := r.Context().Value(azureDeploymentKey{}).(string)
	if !ok || c.Model == dep {
		return nil
	}
	return &provider.Error{Status: http.StatusBadRequest, Code: "invalid_value", Param: "model",
		Message: fmt.Sprintf("the request's model %q is not the deployment %q of the path: rampart routes by model, so they must agree", c.Model, dep)}
}
