package postgres_test

import (
	"testing"

	"github.com/rampart-ai/rampart/store/storetest"
)

func TestMCPTools(t *testing.T) {
	storetest.RunMCPTools(t, func(t *testing.T) storetest.MCPToolStore { return openFresh(t) })
}
