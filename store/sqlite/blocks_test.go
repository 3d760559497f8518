package sqlite_test

import (
	"testing"

	"github.com/rampart-ai/rampart/store/storetest"
)

func TestBlockStoreSuite(t *testing.T) {
	storetest.RunBlocks(t, func(t *testing.T) storetest.BlockStore {
		db, _ := open(t)
		return db
	})
}
