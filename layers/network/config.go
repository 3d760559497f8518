package network

import (
	"fmt"
	"net/netip"

	"github.com/rampart-ai/rampart/netguard"
)

// Config is the layer's section under "layers: network:".
type Config struct {
	// Allow lists the client addresses that may call rampart, as CIDRs
	// ("10.0.0.0/8", "2001:db8::/32") or single addresses. Empty (the
	// default): every address not denied.
	Allow []string `yaml:"allow"`
	// Deny lists client addresses refused even when Allow includes them.
	// Default empty.
	Deny []string `yaml:"deny"`
}

// Defaults returns the zero-config configuration: no lists, every client
// address passes.
func Defaults() Config { return Config{} }

// compiled is a validated Config.
type compiled struct {
	allow, deny *netguard.PrefixSet
}

func (c Config) compile() (compiled, error) {
	allow, err := netguard.ParsePrefixes(c.Allow)
	if err != nil {
		return compiled{}, fmt.Errorf("network: allow%w", err)
	}
	deny, err := netguard.ParsePrefixes(c.Deny)
	if err != nil {
		return compiled{}, fmt.Errorf("network: deny%w", err)
	}
	return compiled{allow: netguard.NewPrefixSet(allow), deny: netguard.NewPrefixSet(deny)}, nil
}

// Validate checks every entry of both lists.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// verdict is why an address is refused ("" when it is not).
func (c compiled) verdict(a netip.Addr) string {
	if c.deny.Contains(a) {
		return ruleDenied
	}
	if c.allow.Len() > 0 && !c.allow.Contains(a) {
		return ruleNotAllowed
	}
	return ""
}
