package gateway

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/rampart-ai/rampart/config"
)

// DefaultReloadDebounce is how long the watcher waits after the last change
// to the configuration file before it reloads: editors and Kubernetes
// write a file in several steps.
const DefaultReloadDebounce = 500 * time.Millisecond

// WatchConfig reloads the configuration (Reload) on SIGHUP and, when path
// is not empty, when the file at path changes, until ctx ends. It watches
// the file's directory, so that an editor's write-to-temp-and-rename and a
// Kubernetes ConfigMap update (an atomic swap of the ..data symlink) are
// both seen; changes are debounced, and a change that leaves the file's
// bytes as they were is ignored. Failed reloads keep the running
// configuration (see ReloadConfig). WatchConfig returns once the signal
// handler and the watcher are installed; an error means the file is not
// watched (SIGHUP still reloads).
func (g *Gateway) WatchConfig(ctx context.Context, path string) error {
	return g.watchConfig(ctx, path, DefaultReloadDebounce)
}

func (g *Gateway) watchConfig(ctx context.Context, path string, debounce time.Duration) error {
	if g.reload.loader == nil {
		return ErrNoLoader
	}
	w, path, werr := watchDir(path)
	base := filepath.Base(path)
	// The bytes of the file last loaded: events that leave them as they
	// were (a touch, an editor's backup file) do not reload.
	last, seen := fileSum(path)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		var events <-chan fsnotify.Event
		var errs <-chan error
		if w != nil {
			defer w.Close()
			events, errs = w.Events, w.Errors
		}
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-hup:
				g.log.Info("config: SIGHUP received; reloading")
				last, seen = fileSum(path)
				_ = g.Reload() // a failure is logged, counted and shown on /readyz by Reload
			case ev, ok := <-events:
				if !ok {
					events = nil
					continue
				}
				if relevant(ev, base) {
					timer.Reset(debounce)
				}
			case err, ok := <-errs:
				if !ok {
					errs = nil
					continue
				}
				g.log.Warn("config: file watcher error; SIGHUP still reloads", "error", err.Error())
			case <-timer.C:
				sum, ok := fileSum(path)
				if ok && seen && sum == last {
					continue
				}
				if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
					// An empty file is valid (all defaults), but here it is
					// far more likely a write in progress.
					g.log.Warn("config: file is empty; not reloading (send SIGHUP to load it anyway)", "file", path)
					continue
				}
				last, seen = sum, ok
				g.log.Info("config: file changed; reloading", "file", path)
				_ = g.Reload()
			}
		}
	}()
	return werr
}

// watchDir watches the directory of path (made absolute); no watcher for
// an empty path. On error the watcher is nil and SIGHUP still reloads.
func watchDir(path string) (*fsnotify.Watcher, string, error) {
	if path == "" {
		return nil, "", nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, path, fmt.Errorf("watch config: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, abs, fmt.Errorf("watch config: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return nil, abs, fmt.Errorf("watch config: %w", err)
	}
	return w, abs, nil
}

// relevant reports whether ev may have changed the file named base in the
// watched directory: the file itself, or Kubernetes' ..data symlink.
func relevant(ev fsnotify.Event, base string) bool {
	if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) {
		return false
	}
	n := filepath.Base(ev.Name)
	return n == base || n == "..data"
}

// fileSum is the SHA-256 of the file at path (bounded like config.Load).
func fileSum(path string) ([sha256.Size]byte, bool) {
	var sum [sha256.Size]byte
	if path == "" {
		return sum, false
	}
	f, err := os.Open(path)
	if err != nil {
		return sum, false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, config.MaxFileBytes+1)); err != nil {
		return sum, false
	}
	copy(sum[:], h.Sum(nil))
	return sum, true
}
