package detect

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/rampart-ai/rampart/detect/model"
)

// TestManifest checks that the committed weights are what `go run
// ./tools/train` produces: the dataset hashes match the manifest, the
// embedded weights match its hash, and a short rerun of the whole training
// pipeline (SmokeTrain) reproduces the recorded fingerprint — so a change
// to the features, normaliser, rules or trainer without retraining fails
// here. Retrain with `go run ./tools/train` after such a change.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("model/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if man.Config != DefaultTrainConfig() {
		t.Errorf("manifest config %+v differs from DefaultTrainConfig %+v", man.Config, DefaultTrainConfig())
	}
	trainB, err := os.ReadFile("../data/injection/train.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	devB, err := os.ReadFile("../data/injection/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if model.Hash(trainB) != man.TrainSHA256 || model.Hash(devB) != man.DevSHA256 {
		t.Fatal("data/injection changed since the model was trained: run go run ./tools/train")
	}
	if got := model.Hash(model.EmbeddedBytes()); got != man.WeightsSHA256 {
		t.Fatalf("embedded weights %s, manifest %s: run go run ./tools/train", got, man.WeightsSHA256)
	}
	train, err := ReadRows("../data/injection/train.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := ReadRows("../data/injection/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	smoke, err := SmokeTrain(train, dev)
	if err != nil {
		t.Fatal(err)
	}
	if got := model.Hash(smoke.Marshal()); got != man.SmokeSHA256 {
		t.Fatalf("training code fingerprint %s, manifest %s: the pipeline changed; run go run ./tools/train", got, man.SmokeSHA256)
	}
}
