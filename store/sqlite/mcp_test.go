package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/rampart-ai/rampart/store/storetest"
)

func TestMCPTools(t *testing.T) {
	storetest.RunMCPTools(t, func(t *testing.T) storetest.MCPToolStore {
		db, err := Open(filepath.Join(t.TempDir(), FileName))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
