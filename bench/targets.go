package bench

import (
	"os"
	"path/filepath"
	"strings"
)

// TargetNames are the targets StartTargets can start, in report order:
// the mock upstream called directly, a bare reverse proxy in front of it,
// and rampart with every layer off (spine), with only the output guard,
// with the default policy and the bootstrap admin key (no limits), with
// the default policy and a key with rpm and tpm limits, and the same
// without the injection layer (rampart-noinjection: what a request pays
// besides the prompt-injection detector).
var TargetNames = []string{"direct", "bare-proxy", "rampart-spine", "rampart-output", "rampart-default", "rampart-limits", "rampart-noinjection"}

// StartTargets starts the targets of a run on loopback (only those named
// in want; all when want is empty). The mock upstream always runs.
// closeAll stops them and removes their data.
func StartTargets(mock *MockUpstream, want ...string) (targets []Target, closeAll func(), err error) {
	wanted := func(name string) bool {
		if len(want) == 0 {
			return true
		}
		for _, w := range want {
			if strings.TrimSpace(w) == name {
				return true
			}
		}
		return false
	}
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
	m, err := Serve(mock)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = m.Close() })
	if wanted("direct") {
		targets = append(targets, Target{Name: "direct", BaseURL: m.URL, Mock: m.URL})
	}
	if wanted("bare-proxy") {
		bp, err := BareProxy(strings.TrimSuffix(m.URL, "/v1"))
		if err != nil {
			return nil, nil, err
		}
		bare, err := Serve(bp)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { _ = bare.Close() })
		targets = append(targets, Target{Name: "bare-proxy", BaseURL: bare.URL, Mock: m.URL})
	}
	dir, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { _ = os.RemoveAll(dir) })
	for _, p := range []Policy{PolicySpine, PolicyOutput, PolicyDefault, PolicyNoInjection} {
		name := "rampart-" + string(p)
		limited := p == PolicyDefault && wanted("rampart-limits") || p == PolicyNoInjection && wanted("rampart-noinjection")
		if p == PolicyNoInjection {
			name = "" // only with the limited key
		}
		if !wanted(name) && !limited {
			continue
		}
		rp, hdr, closeGW, err := Rampart(m.URL, filepath.Join(dir, string(p)), p)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { _ = closeGW() }, func() { _ = rp.Close() })
		if name != "" && wanted(name) {
			targets = append(targets, Target{Name: name, BaseURL: rp.URL, Header: hdr, Mock: m.URL})
		}
		if limited {
			lh, err := LimitedKey(rp.URL, hdr)
			if err != nil {
				return nil, nil, err
			}
			lname := "rampart-limits"
			if p == PolicyNoInjection {
				lname = "rampart-noinjection"
			}
			targets = append(targets, Target{Name: lname, BaseURL: rp.URL, Header: lh, Mock: m.URL})
		}
	}
	return targets, closeAll, nil
}
