// Package k8s holds rampart's Kubernetes manifests (deploy/k8s/*.yaml); its
// test parses them and checks what a production deployment relies on.
package k8s

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/config"
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

	// Secrets come from the Secret, by the names the config file uses.
	secret := one(t, byKind, "Secret")
	keys := get(t, secret, "stringData").(object)
	env := map[string]string{}
	for _, e := range get(t, c, "env").([]any) {
		name := str(t, e, "name")
		if ref, ok := get(t, e, "valueFrom").(object); ok && ref["secretKeyRef"] != nil {
			if str(t, ref, "secretKeyRef", "name") != str(t, secret, "metadata", "name") {
				t.Errorf("%s: secretKeyRef names another Secret", name)
			}
			key := str(t, ref, "secretKeyRef", "key")
			if _, ok := keys[key]; !ok {
				t.Errorf("%s: key %q not in the Secret template", name, key)
			}
			env[name] = key
		} else if get(t, e, "value") != nil && strings.Contains(strings.ToUpper(name), "KEY") {
			t.Errorf("%s: a key given as a literal value", name)
		}
	}
	for _, name := range []string{"RAMPART_MASTER_KEY", "OPENAI_API_KEY", "RAMPART_POSTGRES_DSN", "RAMPART_REDIS_URL", "RAMPART_KEY_PEPPER", "RAMPART_AUDIT_HMAC_KEY"} {
		if env[name] == "" {
			t.Errorf("%s is not taken from the Secret", name)
		}
	}
	for k, v := range keys {
		if s, _ := v.(string); s != "REPLACE_ME" {
			t.Errorf("Secret template key %s holds a value, want REPLACE_ME", k)
		}
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

// The production policy in the ConfigMap is a valid rampart configuration,
// and every layer section decodes with the layer's own strict decoder.
func TestConfigMapPolicy(t *testing.T) {
	byKind, _ := manifests(t)
	cm := one(t, byKind, "ConfigMap")
	text := str(t, cm, "data", "rampart.yaml")
	path := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadEnv(path, nil)
	if err != nil {
		t.Fatal(err)
	}
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
