package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/rampart-ai/rampart/store/storetest"
)

func TestFeedback(t *testing.T) {
	storetest.RunFeedback(t, func(t *testing.T) storetest.FeedbackStore {
		db, err := Open(filepath.Join(t.TempDir(), FileName))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
