// Package k8s holds rampart's Kubernetes manifests (deploy/k8s/*.yaml); its
// test parses them and checks what a production deployment relies on.
package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/layers"
)

type object = map[string]any

// manifests returns every document of every YAML file here, by kind.
func manifests(t *testing.T) (map[string][]object, []string) {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	byKind := map[string][]object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o == nil {
				continue
			}
			kind, _ := o["kind"].(string)
			if kind == "" || o["apiVersion"] == nil {
				t.Fatalf("%s: a document without kind or apiVersion", f)
			}
			byKind[kind] = append(byKind[kind], o)
		}
	}
	return byKind, files
}

// get follows a path of map keys and list indexes; nil where it ends.
func get(t *testing.T, o any, path ...any) any {
	t.Helper()
	cur := o
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(object)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func str(t *testing.T, o any, path ...any) string {
	t.Helper()
	s, _ := get(t, o, path...).(string)
	return s
}

func one(t *testing.T, byKind map[string][]object, kind string) object {
	t.Helper()
	if len(byKind[kind]) != 1 {
		t.Fatalf("want one %s, have %d", kind, len(byKind[kind]))
	}
	return byKind[kind][0]
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	byKind, files := manifests(t)
	k := one(t, byKind, "Kustomization")
	var listed []string
	for _, r := range get(t, k, "resources").([]any) {
		listed = append(listed, r.(string))
	}
	for _, f := range files {
		if f != "kustomization.yaml" && !slices.Contains(listed, f) {
			t.Errorf("%s is not in kustomization.yaml", f)
		}
	}
	for _, r := range listed {
		if !slices.Contains(files, r) {
			t.Errorf("kustomization.yaml lists missing %s", r)
		}
	}
}

func TestDeployment(t *testing.T) {
	byKind, _ := manifests(t)
	d := one(t, byKind, "Deployment")
	if n, _ := get(t, d, "spec", "replicas").(int); n < 2 {
		t.Errorf("replicas %d, want at least 2", n)
	}
	pod := get(t, d, "spec", "template", "spec")
	if get(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if uid, _ := get(t, pod, "securityContext", "runAsUser").(int); uid == 0 {
		t.Error("pod runs as uid 0")
	}
	if get(t, pod, "automountServiceAccountToken") != false {
		t.Error("service account token mounted")
	}
	c := get(t, pod, "containers", 0)
	sc := get(t, c, "securityContext")
	if get(t, sc, "readOnlyRootFilesystem") != true || get(t, sc, "allowPrivilegeEscalation") != false {
		t.Error("container securityContext: want readOnlyRootFilesystem true, allowPrivilegeEscalation false")
	}
	if caps := get(t, sc, "capabilities", "drop"); !slices.Contains(caps.([]any), any("ALL")) {
		t.Error("capabilities not dropped")
	}
	for _, r := range []string{"requests", "limits"} {
		if get(t, c, "resources", r, "memory") == nil {
			t.Errorf("no resources.%s.memory", r)
		}
	}
	if get(t, c, "resources", "requests", "cpu") == nil {
		t.Error("no resources.requests.cpu")
	}
	if p := str(t, c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("livenessProbe on %q, want /healthz", p)
	}
	if p := str(t, c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readinessProbe on %q, want /readyz", p)
	}

	// Secrets come from the Secret (checked against the template there;
	// upstream keys are checked against the policy in TestStoreAndSecretRefs).
	env := containerEnv(t, byKind)
	for _, name := range []string{"RAMPART_MASTER_KEY", "RAMPART_POSTGRES_DSN", "RAMPART_REDIS_URL", "RAMPART_KEY_PEPPER", "RAMPART_AUDIT_HMAC_KEY"} {
		if env.secret[name] == "" || env.optional[name] {
			t.Errorf("%s is not taken (as a required value) from the Secret", name)
		}
	}
	if env.secret["RAMPART_PREVIOUS_MASTER_KEY"] == "" || !env.optional["RAMPART_PREVIOUS_MASTER_KEY"] {
		t.Error("RAMPART_PREVIOUS_MASTER_KEY (master key rotation) is not an optional Secret reference")
	}

	// The ConfigMap is mounted as a directory (subPath mounts never see
	// updates, so the policy could not reload) and --config points into it.
	cm := one(t, byKind, "ConfigMap")
	var volume string
	for _, v := range get(t, pod, "volumes").([]any) {
		if str(t, v, "configMap", "name") == str(t, cm, "metadata", "name") {
			volume = str(t, v, "name")
		}
	}
	if volume == "" {
		t.Fatal("the ConfigMap is not a volume")
	}
	var mount string
	for _, m := range get(t, c, "volumeMounts").([]any) {
		if str(t, m, "name") == volume {
			if get(t, m, "subPath") != nil {
				t.Error("the ConfigMap is mounted with subPath: updates would never reach the pod")
			}
			mount = str(t, m, "mountPath")
		}
	}
	args := get(t, c, "args").([]any)
	i := slices.Index(args, any("--config"))
	if mount == "" || i < 0 || i+1 >= len(args) {
		t.Fatal("no --config into the ConfigMap mount")
	}
	want := filepath.Join(mount, "rampart.yaml")
	if args[i+1] != want {
		t.Errorf("--config %v, want %s", args[i+1], want)
	}
	grace, _ := get(t, pod, "terminationGracePeriodSeconds").(int)
	if grace < 35 {
		t.Errorf("terminationGracePeriodSeconds %d leaves streams no time to finish", grace)
	}
	// The selector must select the pods, and the Service and PDB too.
	sel := get(t, d, "spec", "selector", "matchLabels").(object)
	labels := get(t, d, "spec", "template", "metadata", "labels").(object)
	for _, o := range []any{sel, get(t, one(t, byKind, "Service"), "spec", "selector"), get(t, one(t, byKind, "PodDisruptionBudget"), "spec", "selector", "matchLabels")} {
		for k, v := range o.(object) {
			if labels[k] != v {
				t.Errorf("selector %s=%v does not match the pod labels", k, v)
			}
		}
	}
}

// deploymentEnv is the rampart container's environment: variables taken
// from the Secret (name -> Secret key; optional ones marked) and literal
// values.
type deploymentEnv struct {
	secret   map[string]string
	optional map[string]bool
	literal  map[string]string
}

// containerEnv reads the container's env and checks every Secret reference
// against the Secret template: same Secret, a key the template has (an
// optional reference may name a key the template leaves out), and no
// credential given as a literal value.
func containerEnv(t *testing.T, byKind map[string][]object) deploymentEnv {
	t.Helper()
	c := get(t, one(t, byKind, "Deployment"), "spec", "template", "spec", "containers", 0)
	secret := one(t, byKind, "Secret")
	keys := get(t, secret, "stringData").(object)
	for k, v := range keys {
		if s, _ := v.(string); s != "REPLACE_ME" {
			t.Errorf("Secret template key %s holds a value, want REPLACE_ME", k)
		}
	}
	env := deploymentEnv{secret: map[string]string{}, optional: map[string]bool{}, literal: map[string]string{}}
	for _, e := range get(t, c, "env").([]any) {
		name := str(t, e, "name")
		if _, dup := env.secret[name]; dup {
			t.Errorf("%s set twice", name)
		}
		if _, dup := env.literal[name]; dup {
			t.Errorf("%s set twice", name)
		}
		if ref, ok := get(t, e, "valueFrom").(object); ok && ref["secretKeyRef"] != nil {
			if str(t, ref, "secretKeyRef", "name") != str(t, secret, "metadata", "name") {
				t.Errorf("%s: secretKeyRef names another Secret", name)
			}
			key := str(t, ref, "secretKeyRef", "key")
			optional := get(t, ref, "secretKeyRef", "optional") == true
			if _, ok := keys[key]; !ok && !optional {
				t.Errorf("%s: key %q not in the Secret template", name, key)
			}
			env.secret[name], env.optional[name] = key, optional
		} else if v, ok := get(t, e, "value").(string); ok {
			up := strings.ToUpper(name)
			if strings.Contains(up, "KEY") || strings.Contains(up, "DSN") || strings.Contains(up, "PEPPER") || strings.Contains(up, "URL") {
				t.Errorf("%s: a credential given as a literal value", name)
			}
			env.literal[name] = v
		}
	}
	return env
}

// environ is the process environment the Deployment gives rampart, with
// placeholder values for what comes from the Secret.
func (e deploymentEnv) environ() []string {
	var out []string
	for k, v := range e.literal {
		out = append(out, k+"="+v)
	}
	for k := range e.secret {
		out = append(out, k+"=from-the-secret")
	}
	return out
}

// configMapPolicy writes the ConfigMap's rampart.yaml to a file and loads
// it with the given environment.
func configMapPolicy(t *testing.T, byKind map[string][]object, environ []string) *config.Config {
	t.Helper()
	text := str(t, one(t, byKind, "ConfigMap"), "data", "rampart.yaml")
	if text == "" {
		t.Fatal("the ConfigMap has no rampart.yaml")
	}
	path := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadEnv(path, environ)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The production policy in the ConfigMap is a valid rampart configuration,
// and every layer section decodes with the layer's own strict decoder.
func TestConfigMapPolicy(t *testing.T) {
	byKind, _ := manifests(t)
	cfg := configMapPolicy(t, byKind, nil)
	for _, m := range layers.Chain {
		sec := cfg.Layer(m.Name)
		if _, err := m.New(sec.Decode); err != nil {
			t.Errorf("layers.%s: %v", m.Name, err)
		}
	}
	if cfg.Layer("ratelimit").Options["backend"] != "redis" {
		t.Error("replicas must share rate limits: ratelimit.backend is not redis")
	}
	if cfg.Audit.HMACKeyEnv == "" {
		t.Error("audit.hmac_key_env unset: replicas would each generate their own key")
	}
	if len(cfg.Server.TrustedProxies) == 0 {
		t.Error("no server.trusted_proxies: behind an ingress every client shares one IP")
	}
}

// The ConfigMap's store is the shared PostgreSQL, and every variable the
// policy names for a credential (store DSN, master keys, audit HMAC key,
// Redis URL, upstream keys, telemetry headers) is set from the Secret,
// with the key pepper the postgres store requires.
func TestStoreAndSecretRefs(t *testing.T) {
	byKind, _ := manifests(t)
	env := containerEnv(t, byKind)
	cfg := configMapPolicy(t, byKind, env.environ())

	if cfg.Store.Driver != "postgres" {
		t.Errorf("store.driver %q: replicas would each keep their own keys, blocks and audit log; want postgres", cfg.Store.Driver)
	}
	fromSecret := func(what, name string, optional bool) {
		t.Helper()
		switch {
		case name == "":
			t.Errorf("%s names no environment variable", what)
		case env.secret[name] == "":
			t.Errorf("%s names $%s, which the Deployment does not take from the Secret", what, name)
		case env.optional[name] && !optional:
			t.Errorf("%s: $%s is an optional Secret reference; a pod could start without it", what, name)
		}
	}
	fromSecret("store.dsn_env", cfg.Store.DSNEnv, false)
	fromSecret("the postgres store's key pepper", identity.PepperEnv, false)
	if cfg.Secrets.MasterKeyFile == "" {
		fromSecret("secrets.master_key_env", cfg.Secrets.MasterKeyEnv, false)
	}
	if cfg.Secrets.PreviousMasterKeyFile == "" {
		fromSecret("secrets.previous_master_key_env", cfg.Secrets.PreviousMasterKeyEnv, true)
	}
	fromSecret("audit.hmac_key_env", cfg.Audit.HMACKeyEnv, false)
	if cfg.Telemetry.HeadersEnv != "" {
		fromSecret("telemetry.headers_env", cfg.Telemetry.HeadersEnv, false)
	}
	rl := cfg.Layer("ratelimit").Options
	if rl["redis_url"] != nil && rl["redis_url"] != "" {
		t.Error("layers.ratelimit.redis_url is written in the ConfigMap; use redis_url_env (its password belongs in the Secret)")
	}
	name, _ := rl["redis_url_env"].(string)
	fromSecret("layers.ratelimit.redis_url_env", name, false)
	for i, u := range cfg.Upstreams {
		if u.APIKeySecret == "" {
			fromSecret(fmt.Sprintf("upstreams[%d].api_key_env", i), u.APIKeyEnv, false)
		}
	}
	// A secret the gateway reads at start must not have been left for the
	// environment's literal values either.
	for _, name := range []string{cfg.Store.DSNEnv, identity.PepperEnv, cfg.Secrets.MasterKeyEnv, cfg.Audit.HMACKeyEnv} {
		if _, ok := env.literal[name]; ok {
			t.Errorf("$%s is a literal value in the Deployment", name)
		}
	}
}

// rampart serves HTTPS itself: the certificate files of server.tls come
// from a mounted Secret (as a directory, so renewals arrive), the listener
// is the container port the probes, the Service and the NetworkPolicy use,
// and the probes speak HTTPS.
func TestTLSWiring(t *testing.T) {
	byKind, _ := manifests(t)
	env := containerEnv(t, byKind)
	cfg := configMapPolicy(t, byKind, env.environ())
	d := one(t, byKind, "Deployment")
	pod := get(t, d, "spec", "template", "spec")
	c := get(t, pod, "containers", 0)

	tls := cfg.Server.TLS
	if !tls.Enabled() {
		t.Fatal("server.tls is not configured; the manifests and docs/DEPLOY.md describe TLS in rampart")
	}
	secretVolumes := map[string]string{} // volume -> Secret
	for _, v := range get(t, pod, "volumes").([]any) {
		if s := str(t, v, "secret", "secretName"); s != "" {
			secretVolumes[str(t, v, "name")] = s
		}
	}
	for _, f := range []string{tls.CertFile, tls.KeyFile} {
		var found bool
		for _, m := range get(t, c, "volumeMounts").([]any) {
			if _, ok := secretVolumes[str(t, m, "name")]; ok && filepath.Dir(f) == str(t, m, "mountPath") {
				found = true
				if get(t, m, "subPath") != nil {
					t.Errorf("%s: Secret mounted with subPath: renewed certificates would never reach the pod", f)
				}
			}
		}
		if !found {
			t.Errorf("server.tls file %s is not in a mounted Secret", f)
		}
	}

	// The listen address in force is RAMPART_LISTEN's when set.
	_, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil {
		t.Fatal(err)
	}
	var portName string
	for _, p := range get(t, c, "ports").([]any) {
		if n, _ := get(t, p, "containerPort").(int); strconv.Itoa(n) == port {
			portName = str(t, p, "name")
		}
	}
	if portName == "" {
		t.Fatalf("rampart listens on %s, which is not a container port", cfg.Server.Listen)
	}
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		if str(t, c, probe, "httpGet", "scheme") != "HTTPS" {
			t.Errorf("%s: scheme is not HTTPS", probe)
		}
		if p := get(t, c, probe, "httpGet", "port"); p != portName && p != any(mustAtoi(t, port)) {
			t.Errorf("%s: port %v, want %s", probe, p, portName)
		}
	}
	svc := one(t, byKind, "Service")
	for _, p := range get(t, svc, "spec", "ports").([]any) {
		if tp := get(t, p, "targetPort"); tp != portName && tp != any(mustAtoi(t, port)) {
			t.Errorf("Service targetPort %v, want %s", tp, portName)
		}
	}
	np := one(t, byKind, "NetworkPolicy")
	var open bool
	for _, rule := range get(t, np, "spec", "ingress").([]any) {
		for _, p := range get(t, rule, "ports").([]any) {
			if n, _ := get(t, p, "port").(int); strconv.Itoa(n) == port {
				open = true
			}
		}
	}
	if !open {
		t.Errorf("the NetworkPolicy does not admit the gateway port %s", port)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Nothing in the manifests or the deployment guide is still described as
// waiting for a feature: each step names what exists.
func TestNoPendingNotes(t *testing.T) {
	_, files := manifests(t)
	files = append(files, filepath.Join("..", "..", "docs", "DEPLOY.md"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(strings.ToLower(line), "pending") {
				t.Errorf("%s:%d: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
