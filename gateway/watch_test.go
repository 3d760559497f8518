//go:build unix

package gateway

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// waitGeneration waits until generation id is in force.
func waitGeneration(t *testing.T, g *Gateway, id uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.cur.Load().id < id {
		if time.Now().After(deadline) {
			t.Fatalf("generation %d not reached (at %d)", id, g.cur.Load().id)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := g.cur.Load().id; got != id {
		t.Fatalf("generation %d, want %d", got, id)
	}
}

func watched(t *testing.T, g *Gateway, path string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := g.watchConfig(ctx, path, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// An editor-style replacement of the file reloads it; a touch that leaves
// the bytes as they were does not.
func TestWatchFileChange(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, policyYAML(dir, up.URL, "alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	watched(t, g, path)

	writeFile(t, path, policyYAML(dir, up.URL, "bravo"))
	waitGeneration(t, g, 2)
	if !blocked(t, base, "bravo") || blocked(t, base, "alpha") {
		t.Fatal("changed file not in force")
	}
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, policyYAML(dir, up.URL, "bravo")) // same bytes
	time.Sleep(200 * time.Millisecond)
	if id := g.cur.Load().id; id != 2 {
		t.Fatalf("unchanged file reloaded (generation %d)", id)
	}
	// An emptied file (a write in progress) is not loaded as "all defaults".
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if id := g.cur.Load().id; id != 2 {
		t.Fatalf("empty file reloaded (generation %d)", id)
	}
	// Written in place (truncate, write), as `cat > file` does.
	if err := os.WriteFile(path, []byte(policyYAML(dir, up.URL, "charlie")), 0o600); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, g, 3)
	if !blocked(t, base, "charlie") {
		t.Fatal("file written in place not in force")
	}
}

// A Kubernetes ConfigMap volume: the file is a symlink through ..data,
// and an update swaps ..data atomically to a new timestamped directory.
func TestWatchConfigMapSwap(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	version := func(name, term string) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "rampart.yaml"), []byte(policyYAML(data, up.URL, term)), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_11_22_01", "alpha")
	path := filepath.Join(dir, "rampart.yaml")
	if err := os.Symlink(filepath.Join("..data", "rampart.yaml"), path); err != nil {
		t.Fatal(err)
	}
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	watched(t, g, path)

	version("..2026_11_22_02", "bravo")
	waitGeneration(t, g, 2)
	if !blocked(t, base, "bravo") || blocked(t, base, "alpha") {
		t.Fatal("swapped ConfigMap not in force")
	}
}

// SIGHUP reloads; an invalid file on SIGHUP keeps the policy in force.
func TestWatchSIGHUP(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, policyYAML(dir, up.URL, "alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	// Only the signal triggers here: the file is not watched.
	watched(t, g, "")

	writeFile(t, path, policyYAML(dir, up.URL, "bravo"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, g, 2)
	if !blocked(t, base, "bravo") {
		t.Fatal("policy after SIGHUP not in force")
	}
	writeFile(t, path, "layers: [")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := g.reload.status(); st.LastReload != nil && st.LastReload.Result == "failure" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("failed reload on SIGHUP not recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g.cur.Load().id != 2 || !blocked(t, base, "bravo") {
		t.Fatal("invalid file on SIGHUP replaced the policy")
	}
}
