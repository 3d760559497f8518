package bench

import (
	"os"
	"path/filepath"
	"strings"
)

// StartTargets starts every target of a run on loopback: the mock upstream
// (called directly), a bare reverse proxy in front of it, and a rampart
// gateway per Policy. closeAll stops them and removes their data.
func StartTargets(mock MockUpstream) (targets []Target, closeAll func(), err error) {
	var closers []func()
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	m, err := Serve(&mock)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = m.Close() })
	bp, err := BareProxy(strings.TrimSuffix(m.URL, "/v1"))
	if err != nil {
		return nil, nil, err
	}
	bare, err := Serve(bp)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = bare.Close() })
	dir, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = os.RemoveAll(dir) })
	targets = []Target{{Name: "direct", BaseURL: m.URL}, {Name: "bare-proxy", BaseURL: bare.URL}}
	for _, p := range []Policy{PolicySpine, PolicyOutput, PolicyDefault} {
		rp, hdr, closeGW, err := Rampart(m.URL, filepath.Join(dir, string(p)), p)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { _ = closeGW() }, func() { _ = rp.Close() })
		targets = append(targets, Target{Name: "rampart-" + string(p), BaseURL: rp.URL, Header: hdr})
	}
	return targets, closeAll, nil
}
