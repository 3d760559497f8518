package postgres_test

import (
	"testing"

	"github.com/rampart-ai/rampart/store/storetest"
)

func TestFeedback(t *testing.T) {
	storetest.RunFeedback(t, func(t *testing.T) storetest.FeedbackStore { return openFresh(t) })
}
