package openai

import (
	"fmt"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

// New returns the OpenAI adapter. It is stateless and safe for concurrent use.
func New() provider.Adapter { return adapter{} }

type adapter struct{}

func (adapter) Provider() string { return "openai" }

func unsupported(kind conv.Kind) error {
	return &provider.Error{Status: 404, Code: "unsupported_route",
		Message: fmt.Sprintf("the openai adapter does not handle %q calls", kind)}
}
