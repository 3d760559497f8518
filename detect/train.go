package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/rampart-ai/rampart/detect/model"
	"github.com/rampart-ai/rampart/detect/rules"
)

// Row is one line of the injection dataset (data/injection/*.jsonl).
type Row struct {
	Text    string `json:"text"`
	Label   int    `json:"label"`
	Kind    string `json:"kind"`
	Source  string `json:"source,omitempty"`
	License string `json:"license,omitempty"`
	// Role, when set, is the role to scan the text as (user, system,
	// assistant, document, tool); else RoleForKind(Kind) decides.
	Role string `json:"role,omitempty"`
}

// RoleForKind is the role a dataset row is scanned as: documents and the
// documents carrying indirect injections are untrusted data; everything
// else is user text.
func RoleForKind(kind string) Role {
	if kind == "document" || kind == "indirect" || kind == KindGeneratedDocument || kind == KindGeneratedIndirect {
		return RoleDocument
	}
	return RoleUser
}

// ReadRows reads a JSON-lines dataset file.
func ReadRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeRows(f)
}

// DecodeRows reads JSON lines (at most 4 MiB each).
func DecodeRows(r io.Reader) ([]Row, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var rows []Row
	for line := 1; sc.Scan(); line++ {
		var row Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if row.Label != 0 && row.Label != 1 {
			return nil, fmt.Errorf("line %d: label %d", line, row.Label)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// TrainConfig holds every training choice; DefaultTrainConfig is what
// tools/train uses (choices compared by group cross-validation over train,
// see CrossValidate).
type TrainConfig struct {
	Bits      uint8
	Epochs    int
	LR        float64
	L2        float64
	Seed      uint64
	MILRounds int // rounds adding each long text's best window as an example
	Folds     int // out-of-fold predictions for fitting the stacker
	// Target false-positive rates for choosing thresholds: user-role
	// negatives, and documents.
	UserFPR, UntrustedFPR float64
	// MLP trains the neural model too (a stacker signal); MLPBits and
	// MLPHidden are its hash size and hidden units, MLPEpochs its epochs.
	MLP     bool
	MLPBits uint8
	// MLPChars adds character n-grams of each word to the MLP's bag
	// (model.FeatMLPChars).
	MLPChars             bool
	MLPHidden, MLPEpochs int
	// NoLinear leaves the linear model's weights at zero (to measure the
	// MLP alone in cross-validation).
	NoLinear bool
	// WordClasses adds the WordNet class features (model.FeatWordClasses).
	WordClasses bool
	// GeneratedBenign adds the short benign prompts of GeneratedBenign and
	// the texts about prompting of GeneratedAboutPrompts to the train split
	// (hard negatives; see augment.go and augment_prompts.go).
	GeneratedBenign bool
	// Composed adds the composed hard negatives of GeneratedComposed
	// (augment_compose.go).
	Composed bool
	// Multilingual adds the multilingual hard negatives of
	// GeneratedMultilingual (augment_ml.go).
	Multilingual bool
	// Carriers is the number of planted carrier rows (and as many clean
	// twins) built from the train rows by CarrierRows (augment_carrier.go);
	// 0 adds none.
	Carriers int
	// SourceWeight weighs each train row by 1/sqrt of its source
	// repository's row count (clamped to [1/3, 3], then rescaled so each
	// label keeps its total weight), so that a few large collections do
	// not decide what an attack looks like.
	SourceWeight bool
	// SourceFolds makes the folds of the out-of-fold scores (the stacker's
	// inputs and the threshold pools) hold out whole source repositories
	// instead of near-duplicate groups, so thresholds are chosen on scores
	// of collections the fold's model never saw.
	SourceFolds bool
	// ShortSignals lets the stacker weigh short texts on their own
	// (sigShort, sigShortWindow); off, their coefficients are zero.
	ShortSignals bool
	// MixedStacker (with SourceFolds) fits the stacker on the source-fold
	// out-of-fold signals and, at equal weight, on near-duplicate-fold
	// ones: collections the model never saw and collections it knows.
	// The thresholds are still chosen on the source-fold scores.
	MixedStacker bool
	// ShortAttacks adds the generated short attacks of
	// GeneratedShortAttacks (augment_short.go).
	ShortAttacks bool
	// OverDefense adds the benign prompts with trigger words and the
	// polite e-mails of GeneratedOverDefense (augment_overdefense.go).
	OverDefense bool
}

// DefaultTrainConfig returns the committed model's training settings.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Bits: 18, Epochs: 8, LR: 0.05, L2: 1e-3, Seed: 20240601,
		MILRounds: 2, Folds: 3, UserFPR: 0.02, UntrustedFPR: 0.0075, GeneratedBenign: true, Composed: true, Multilingual: true,
		SourceWeight: true, SourceFolds: true, MixedStacker: true, ShortSignals: true, ShortAttacks: true, OverDefense: true,
		MLP: true, MLPBits: 15, MLPHidden: 32, MLPEpochs: 10}
}

// featRow is a row's model-independent features.
type featRow struct {
	label float64
	idx   []uint32 // features of the normalised text, then of each variant
	prev  []int32  // model.PrevOccurrence(idx)
	nNorm int      // features belonging to the normalised text
	// set is the whole-text example: the distinct buckets of the text,
	// then those of each variant, as analyze pools them
	set   []uint32
	wins  [][2]int // windows as ranges of idx (norm windows, then variants)
	nVar  int      // the last nVar windows are the decoded variants
	sig   [nSignals]float64
	allow bool // an allowlist rule matched and nothing else, or one word (capModel)
	short bool // fewer than shortBuckets distinct buckets in the normalised text
	kind  string
	row   int      // index of the row in the input
	mlp   []uint32 // distinct MLP buckets of the normalised text
	// weight of the row's examples in training (1 unless
	// TrainConfig.SourceWeight)
	weight float64
}

func (c TrainConfig) features() model.Features {
	var f model.Features
	if c.WordClasses {
		f |= model.FeatWordClasses
	}
	if c.MLP {
		f |= model.FeatMLP
		if c.MLPChars {
			f |= model.FeatMLPChars
		}
	}
	return f
}

func featurize(rows []Row, rs *rules.Set, bits, mlpBits uint8, feats model.Features, logf func(string, ...any)) []featRow {
	out := make([]featRow, 0, len(rows))
	var ms model.MLPScratch
	st := new(state)
	var l model.IndexList
	for i, r := range rows {
		untrusted := RoleForKind(r.Kind).Untrusted()
		dom := uint32(0)
		if untrusted {
			dom = model.DomainUntrusted
		}
		p, ok := safePrepare(st, rs, r.Text, untrusted)
		if !ok {
			logf("row %d: normalisation failed; row skipped", i)
			st = new(state)
			continue
		}
		fr := featRow{label: float64(r.Label), kind: r.Kind, row: i}
		p.ruleSignals(&fr.sig)
		fr.allow = p.allowed() || oneWord(p.norm, len(p.variants))
		l.Reset()
		model.FeaturizeSet(p.norm, bits, feats, dom, &l)
		fr.nNorm = len(l.Idx)
		for _, w := range p.windows {
			lo := sort.Search(len(l.End), func(k int) bool { return int(l.End[k]) > w[0] })
			hi := sort.Search(len(l.End), func(k int) bool { return int(l.End[k]) > w[1] })
			if hi > lo {
				fr.wins = append(fr.wins, [2]int{lo, hi})
			}
		}
		for _, v := range p.variants {
			lo := len(l.Idx)
			model.FeaturizeSet(v.text, bits, feats, dom, &l)
			if len(l.Idx) > lo {
				fr.wins = append(fr.wins, [2]int{lo, len(l.Idx)})
				fr.nVar++
			}
		}
		if feats&model.FeatMLP != 0 {
			fr.mlp = model.MLPFeatures(p.norm, mlpBits, feats, dom, &ms, nil)
		}
		fr.idx = append([]uint32(nil), l.Idx...)
		fr.prev = model.PrevOccurrence(fr.idx)
		fr.set = model.Distinct(nil, fr.idx, fr.prev, 0, fr.nNorm)
		fr.short = len(fr.set) < shortBuckets
		for _, w := range fr.wins[len(fr.wins)-fr.nVar:] {
			fr.set = model.Distinct(fr.set, fr.idx, fr.prev, w[0], w[1])
		}
		out = append(out, fr)
	}
	return out
}

// safePrepare is prepare that reports a panic (a bug in a dependency) as
// failure instead of crashing the training run.
func safePrepare(st *state, rs *rules.Set, text string, untrusted bool) (p prepared, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return prepare(st, rs, text, untrusted, DefaultMaxScanBytes, true), true
}

// rangeSum is the weight sum and number of the distinct buckets of
// fr.idx[lo:hi], as model.Trace computes them at inference.
func rangeSum(m *model.Model, fr *featRow, lo, hi int) (int32, int) {
	var s int32
	n := 0
	for k := lo; k < hi; k++ {
		if fr.prev[k] < int32(lo) {
			s += int32(m.W[fr.idx[k]])
			n++
		}
	}
	return s, n
}

// signals computes a featurised row's stacker inputs under model m, as
// analyze does at inference.
func signals(m *model.Model, fr *featRow) [nSignals]float64 {
	sig := fr.sig
	var whole int32
	for _, i := range fr.set {
		whole += int32(m.W[i])
	}
	best := m.Logit(rangeSum(m, fr, 0, fr.nNorm))
	for _, w := range fr.wins {
		best = math.Max(best, m.Logit(rangeSum(m, fr, w[0], w[1])))
	}
	sig[sigWhole], sig[sigWindow] = clip(m.Logit(whole, len(fr.set))), clip(best)
	if m.MLP != nil {
		var ms model.MLPScratch
		sig[sigMLP] = clip(m.MLP.Logit(fr.mlp, &ms))
	}
	capModel(&sig, fr.allow)
	roleSignals(&sig, RoleForKind(fr.kind).Untrusted())
	shortSignals(&sig, fr.short)
	return sig
}

// trainBase fits the linear model on rows, then MILRounds times adds each
// multi-window row's best-scoring window (positives always, negatives when
// they score above -2) as an extra example and refits: the detector takes a
// max over windows, so the model must learn what an attack window and the
// most suspicious innocent window look like.
func trainBase(rows []featRow, cfg TrainConfig) *model.Model {
	lc := model.LinearConfig{Bits: cfg.Bits, Epochs: cfg.Epochs, LR: cfg.LR, L2: cfg.L2, Seed: cfg.Seed}
	ex := make([]model.Example, 0, len(rows)*2)
	for i := range rows {
		ex = append(ex, model.Example{Idx: rows[i].set, Label: rows[i].label, Weight: rows[i].weight})
	}
	w, b := model.TrainLinear(ex, lc)
	for round := 0; round < cfg.MILRounds; round++ {
		ex2 := ex
		for i := range rows {
			r := &rows[i]
			best, bi := math.Inf(-1), -1
			for k, g := range r.wins {
				if k >= len(r.wins)-r.nVar {
					break // decoded variants are in the whole example already
				}
				if s := floatLogit(w, b, r, g[0], g[1]); s > best {
					best, bi = s, k
				}
			}
			if bi < 0 || (r.label == 0 && best < -2) {
				continue
			}
			g := r.wins[bi]
			ex2 = append(ex2, model.Example{Idx: model.Distinct(nil, r.idx, r.prev, g[0], g[1]), Label: r.label, Weight: r.weight})
		}
		w, b = model.TrainLinear(ex2, lc)
	}
	if cfg.NoLinear {
		clear(w)
		b = 0
	}
	m := model.Quantize(w, b, cfg.Bits, cfg.features())
	if cfg.MLP {
		mx := make([]model.Example, 0, len(rows))
		for i := range rows {
			mx = append(mx, model.Example{Idx: rows[i].mlp, Label: rows[i].label, Weight: rows[i].weight})
		}
		m.MLP = model.TrainMLP(mx, model.MLPConfig{Bits: cfg.MLPBits, H: cfg.MLPHidden, Epochs: cfg.MLPEpochs,
			LR: 0.05, L2: 1e-5, Seed: cfg.Seed})
	}
	return m
}

// floatLogit scores the distinct buckets of r.idx[lo:hi] with float
// weights (the model before quantisation).
func floatLogit(w []float64, b float64, r *featRow, lo, hi int) float64 {
	var z float64
	n := 0
	for k := lo; k < hi; k++ {
		if r.prev[k] < int32(lo) {
			z += w[r.idx[k]]
			n++
		}
	}
	if n == 0 {
		return b
	}
	return b + z/math.Sqrt(float64(n))
}

// Train builds the model from the train split and picks thresholds on its
// out-of-fold scores pooled with dev (dev may be empty).
func Train(train, dev []Row, cfg TrainConfig, logf func(string, ...any)) (*model.Model, error) {
	m, _, err := trainPools(train, dev, cfg, logf)
	return m, err
}

// thresholdPools are the negatives' scores the thresholds were chosen on
// (cross-validation tries other targets on them).
type thresholdPools struct{ user, doc []float64 }

// trainPools is Train that also returns the threshold pools.
func trainPools(train, dev []Row, cfg TrainConfig, logf func(string, ...any)) (*model.Model, thresholdPools, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if len(train) == 0 {
		return nil, thresholdPools{}, fmt.Errorf("train: empty split")
	}
	rs, err := rules.Default()
	if err != nil {
		return nil, thresholdPools{}, err
	}
	var weights []float64
	if cfg.SourceWeight {
		weights = sourceWeights(train)
	}
	if cfg.Carriers > 0 {
		train = append(train[:len(train):len(train)], CarrierRows(train, cfg.Carriers, cfg.Seed)...)
	}
	if cfg.GeneratedBenign {
		train = append(train[:len(train):len(train)], GeneratedBenign()...)
		train = append(train, GeneratedAboutPrompts()...)
	}
	if cfg.Composed {
		train = append(train[:len(train):len(train)], GeneratedComposed()...)
	}
	if cfg.Multilingual {
		train = append(train[:len(train):len(train)], GeneratedMultilingual()...)
	}
	if cfg.ShortAttacks {
		train = append(train[:len(train):len(train)], GeneratedShortAttacks(cfg.Seed)...)
	}
	if cfg.OverDefense {
		train = append(train[:len(train):len(train)], GeneratedOverDefense(cfg.Seed)...)
	}
	tr := featurize(train, rs, cfg.Bits, cfg.MLPBits, cfg.features(), logf)
	dv := featurize(dev, rs, cfg.Bits, cfg.MLPBits, cfg.features(), logf)
	for i := range tr {
		tr[i].weight = 1
		if tr[i].row < len(weights) {
			tr[i].weight = weights[tr[i].row]
		}
	}
	near := FoldKeys(train)
	keys := near
	if cfg.SourceFolds {
		// whole source repositories per fold; the generated rows (one
		// "repository") stay spread by near-duplicate group
		keys = append([]string(nil), near...)
		for i, k := range SourceKeys(train) {
			if !strings.HasPrefix(train[i].Source, "rampart:") {
				keys[i] = k
			}
		}
	}
	logf("featurised %d train and %d dev rows", len(tr), len(dv))

	// Out-of-fold signals for the stacker and the thresholds. Folds are
	// group-aware (FoldKeys): near-duplicates (a document and its injected
	// copies, variants of one template) are held out together; with
	// SourceFolds whole collections are.
	x, y, wt := oofSignals(tr, keys, cfg, logf)
	xs, ys, ws := x, y, wt
	if cfg.SourceFolds && cfg.MixedStacker {
		// the stacker also sees near-duplicate-fold signals (collections
		// it knows), each set at half weight; thresholds stay on the
		// source-fold scores
		xn, yn, wn := oofSignals(tr, near, cfg, logf)
		xs = append(append([][]float64(nil), x...), xn...)
		ys = append(append([]float64(nil), y...), yn...)
		ws = append(append([]float64(nil), wt...), wn...)
		for i := range ws {
			ws[i] *= 0.5
		}
	}
	coef, bias := model.TrainLogistic(xs, ys, ws, 1e-3, 2000)
	m := trainBase(tr, cfg)
	m.Stack = make([]float32, len(coef))
	for i, c := range coef {
		m.Stack[i] = float32(c)
	}
	m.StackBias = float32(bias)
	logf("stacker %v bias %.3f", coef, bias)

	// Thresholds: out-of-fold scores of the train negatives (many more
	// documents than dev holds, from carriers the fold's model never saw)
	// pooled with the final model's scores of the dev negatives.
	var userNeg, docNeg []float64
	add := func(kind string, label, p float64) {
		if label != 0 {
			return
		}
		switch {
		case kind == KindGeneratedDocument:
			// generated documents are training examples only
		case RoleForKind(kind).Untrusted():
			docNeg = append(docNeg, p)
		case kind != "harmful" && kind != KindGenerated:
			// harmful requests are trivially not injections, and generated
			// prompts are easy once trained on; counting them would loosen
			// the threshold on the rows that matter
			userNeg = append(userNeg, p)
		}
	}
	for i := range tr {
		add(tr[i].kind, tr[i].label, m.Calibrate(x[i]))
	}
	for i := range dv {
		s := signals(m, &dv[i])
		add(dv[i].kind, dv[i].label, m.Calibrate(s[:]))
	}
	m.UserThreshold = float32(thresholdAt(userNeg, cfg.UserFPR))
	m.UntrustedThreshold = float32(thresholdAt(docNeg, cfg.UntrustedFPR))
	pools := thresholdPools{user: append([]float64(nil), userNeg...), doc: append([]float64(nil), docNeg...)}
	logf("thresholds user %.4f untrusted %.4f (from %d user and %d document negatives)",
		m.UserThreshold, m.UntrustedThreshold, len(userNeg), len(docNeg))
	return m, pools, nil
}

// oofSignals returns the stacker inputs of every featurised row from the
// model of the cfg.Folds-fold split by keys (one per input row) that did
// not see it, with labels and weights.
func oofSignals(tr []featRow, keys []string, cfg TrainConfig, logf func(string, ...any)) (x [][]float64, y, wt []float64) {
	x = make([][]float64, len(tr))
	y = make([]float64, len(tr))
	wt = make([]float64, len(tr))
	fold := make([]int, len(keys))
	for i, k := range keys {
		fold[i] = foldOf(k, cfg.Folds)
	}
	for f := 0; f < cfg.Folds; f++ {
		var in []featRow
		for i := range tr {
			if fold[tr[i].row] != f {
				in = append(in, tr[i])
			}
		}
		m := trainBase(in, cfg)
		for i := range tr {
			if fold[tr[i].row] != f {
				continue
			}
			s := signals(m, &tr[i])
			if !cfg.ShortSignals {
				s[sigShort], s[sigShortWindow] = 0, 0
			}
			x[i], y[i], wt[i] = append([]float64(nil), s[:]...), tr[i].label, tr[i].weight
		}
		logf("fold %d/%d done", f+1, cfg.Folds)
	}
	return x, y, wt
}

// sourceWeights returns TrainConfig.SourceWeight's weight of each row.
func sourceWeights(rows []Row) []float64 {
	keys := SourceKeys(rows)
	n := map[string]int{}
	for _, k := range keys {
		n[k]++
	}
	mean := float64(len(rows)) / float64(max(len(n), 1))
	w := make([]float64, len(rows))
	var sum, raw [2]float64
	for i, k := range keys {
		w[i] = math.Max(1.0/3, math.Min(3, math.Sqrt(mean/float64(n[k]))))
		sum[rows[i].Label] += w[i]
		raw[rows[i].Label]++
	}
	for i := range w {
		w[i] *= raw[rows[i].Label] / sum[rows[i].Label]
	}
	return w
}

// thresholdAt returns the lowest threshold (score >= t flags) that flags at
// most fpr of the negatives, kept within [0.05, 0.99].
func thresholdAt(neg []float64, fpr float64) float64 {
	if len(neg) == 0 {
		return 0.5
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(neg)))
	k := int(math.Floor(fpr * float64(len(neg))))
	if k >= len(neg) {
		return 0.05
	}
	// the next float32 above the k-th highest negative: the model stores
	// thresholds as float32
	t := float64(math.Nextafter32(float32(neg[k]), 2))
	return math.Max(0.05, math.Min(0.99, t))
}

// Manifest records what the committed model was trained from, so a test
// can tell when data, code or weights drift apart.
type Manifest struct {
	TrainSHA256   string      `json:"train_sha256"`
	DevSHA256     string      `json:"dev_sha256"`
	WeightsSHA256 string      `json:"weights_sha256"`
	SmokeSHA256   string      `json:"smoke_sha256"` // weights of SmokeTrain: the training code's fingerprint
	Config        TrainConfig `json:"config"`
}

// TrainFromDir trains on dir/train.jsonl, tunes on dir/dev.jsonl and
// returns the model and its manifest.
func TrainFromDir(dir string, cfg TrainConfig, logf func(string, ...any)) (*model.Model, *Manifest, error) {
	trainB, err := os.ReadFile(dir + "/train.jsonl")
	if err != nil {
		return nil, nil, err
	}
	devB, err := os.ReadFile(dir + "/dev.jsonl")
	if err != nil {
		return nil, nil, err
	}
	train, err := DecodeRows(bytes.NewReader(trainB))
	if err != nil {
		return nil, nil, fmt.Errorf("train.jsonl: %w", err)
	}
	dev, err := DecodeRows(bytes.NewReader(devB))
	if err != nil {
		return nil, nil, fmt.Errorf("dev.jsonl: %w", err)
	}
	m, err := Train(train, dev, cfg, logf)
	if err != nil {
		return nil, nil, err
	}
	smoke, err := SmokeTrain(train, dev)
	if err != nil {
		return nil, nil, err
	}
	return m, &Manifest{TrainSHA256: model.Hash(trainB), DevSHA256: model.Hash(devB),
		WeightsSHA256: model.Hash(m.Marshal()), SmokeSHA256: model.Hash(smoke.Marshal()), Config: cfg}, nil
}

// SmokeTrain runs the whole training pipeline on a fixed small slice of the
// data (every 8th train row, every 4th dev row, 2 epochs, 12-bit hashing).
// Its weights fingerprint the training code: tests rerun it in seconds.
func SmokeTrain(train, dev []Row) (*model.Model, error) {
	var tr, dv []Row
	for i := 0; i < len(train); i += 8 {
		tr = append(tr, train[i])
	}
	for i := 0; i < len(dev); i += 4 {
		dv = append(dv, dev[i])
	}
	cfg := DefaultTrainConfig()
	cfg.Bits, cfg.Epochs, cfg.MLPBits, cfg.MLPEpochs = 12, 2, 12, 2
	return Train(tr, dv, cfg, nil)
}
