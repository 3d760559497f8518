// Package layers states the order of rampart's security chain. This file is
// the single place that order lives (like CoreDNS's plugin.cfg): requests
// pass the layers top to bottom in the request phase; responses and stream
// events pass them in the same order; every layer's finish phase runs last,
// also after a block.
package layers

import "github.com/rampart-ai/rampart/engine"

// Chain is the ordered list of layer modules. Each entry's comment says
// what the layer is for and why it stands where it does.
var Chain = []engine.Module{}
