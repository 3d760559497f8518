package store

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

var encodeSamples = [][]engine.Outcome{
	nil,
	{},
	{{Layer: "identity", Phase: engine.PhaseHeaders, Action: "allow", Duration: 1200}},
	{{Layer: "injection", Phase: engine.PhaseRequest, Action: "block", Monitor: true, Rule: "ignore-previous", Code: "prompt_injection_detected",
		Error: "boom <&> \"q\" \\ \n\t\b\f\x01 é \u2028 \xff", Duration: -5,
		Findings: []engine.Finding{
			{Layer: "injection", Rule: "r", Severity: engine.SeverityHigh, Score: 0.93, Message: -1, Start: 3, End: 9, Entity: "X", Text: "t"},
			{Layer: "pii", Rule: "email"},
			{Layer: "x", Rule: "y", Score: 1e-7}, {Layer: "x", Rule: "y", Score: 1e21}, {Layer: "x", Rule: "y", Score: -2.5e-300},
			{Layer: "x", Rule: "y", Score: 123456789012345678901234.0}, {Layer: "x", Rule: "y", Score: 0.000001},
		}},
		{Layer: "extraction", Phase: engine.PhaseRequest, Action: "flag", Findings: []engine.Finding{}}},
}

func TestEncodeDecisionsMatchesJSON(t *testing.T) {
	for i, os := range encodeSamples {
		checkEncode(t, i, os)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		os := []engine.Outcome{{Layer: "a", Findings: []engine.Finding{{Score: bad}}}}
		if _, err := EncodeDecisions(os); err == nil {
			t.Errorf("score %v: no error (json.Marshal refuses it)", bad)
		}
	}
}

func checkEncode(t *testing.T, i int, os []engine.Outcome) {
	t.Helper()
	want, werr := json.Marshal(os)
	got, err := EncodeDecisions(os)
	if (err != nil) != (werr != nil) || err == nil && got != string(want) {
		t.Fatalf("sample %d:\n got %s, %v\nwant %s, %v", i, got, err, want, werr)
	}
}

func FuzzEncodeDecisions(f *testing.F) {
	f.Add("injection", "request", "block", true, "rule", "code", "err <x>", "layer", "r", "high", 0.5, -1, 2, 7, "EMAIL", "text", int64(time.Millisecond))
	f.Add("", "", "", false, "", "", "", "", "", "", 0.0, 0, 0, 0, "", "", int64(0))
	f.Add("é\u2028", "\xff", "\x00", false, "\"", "\\", "&", "<", ">", "\t", 1e-9, 1<<40, -3, 1, "\u2029", "\x7f", int64(-1))
	f.Fuzz(func(t *testing.T, layer, phase, action string, monitor bool, rule, code, errText, flayer, frule, sev string,
		score float64, msg, start, end int, entity, text string, dur int64) {
		o := engine.Outcome{Layer: layer, Phase: engine.Phase(phase), Action: action, Monitor: monitor, Rule: rule, Code: code,
			Error: errText, Duration: time.Duration(dur)}
		if flayer != "" || score != 0 {
			o.Findings = []engine.Finding{{Layer: flayer, Rule: frule, Severity: engine.Severity(sev), Score: score,
				Message: msg, Start: start, End: end, Entity: entity, Text: text}}
		}
		checkEncode(t, 0, []engine.Outcome{o, {Layer: text}})
	})
}

func BenchmarkEncodeDecisions(b *testing.B) {
	os := make([]engine.Outcome, 0, 16)
	for _, l := range []string{"netguard", "identity", "blocklist", "ratelimit", "inputpolicy", "injection", "extraction", "topics", "spotlight", "outputguard", "escalation"} {
		os = append(os, engine.Outcome{Layer: l, Phase: engine.PhaseRequest, Action: "allow", Duration: 12345})
	}
	os = append(os, engine.Outcome{Layer: "extraction", Phase: engine.PhaseRequest, Action: "flag", Rule: "model-extraction",
		Findings: []engine.Finding{{Layer: "extraction", Rule: "model-extraction/flag", Severity: engine.SeverityLow, Score: 0.612, Message: -1,
			Text: "model-extraction risk 0.61 (flag): volume 12.0x baseline (120 in 10m0s, 400 in 1h0m0s), pattern 0.98 (templated 0.98, sweep 0.00), diversity 0.02 over 64 prompts"}}})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(os); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeDecisions(os); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func FuzzEncodeAttempts(f *testing.F) {
	f.Add("openai", 503, "status_503", int64(1500), "azure", 0, "", int64(0))
	f.Add("<&>\xff\u2028", -1, "\"\\\n", int64(-7), "", 200, "é", int64(1)<<62)
	f.Fuzz(func(t *testing.T, up1 string, st1 int, r1 string, d1 int64, up2 string, st2 int, r2 string, d2 int64) {
		for _, as := range [][]engine.Attempt{nil, {{Upstream: up1, Status: st1, Reason: r1, Duration: time.Duration(d1)}},
			{{Upstream: up1, Status: st1, Reason: r1, Duration: time.Duration(d1)}, {Upstream: up2, Status: st2, Reason: r2, Duration: time.Duration(d2)}}} {
			got, err := EncodeAttempts(as)
			want := ""
			if len(as) > 0 {
				w, _ := json.Marshal(as)
				want = string(w)
			}
			if err != nil || got != want {
				t.Fatalf("EncodeAttempts(%+v) = %s, %v; want %s", as, got, err, want)
			}
		}
	})
}

// fillAll sets every field of the struct v points to a non-zero value
// (strings their field name, numbers 7, booleans true, slices one filled
// element), so that a field added to engine.Outcome, Finding or Attempt
// reaches the comparison with json.Marshal.
func fillAll(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(7)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(7)
		case reflect.Float32, reflect.Float64:
			f.SetFloat(0.75)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			if e := s.Index(0); e.Kind() == reflect.Struct {
				fillAll(t, e)
			} else {
				t.Fatalf("%s: slice of %s: extend fillAll", name, e.Kind())
			}
			f.Set(s)
		default:
			t.Fatalf("%s: field of kind %s: extend fillAll", name, f.Kind())
		}
	}
}

// TestEncodeEveryField: the hand-written encoders write every field the
// types have, as encoding/json does: a field added to engine.Outcome,
// engine.Finding or engine.Attempt without its encoder line fails here
// (the fuzz tests only fill the fields known when they were written).
func TestEncodeEveryField(t *testing.T) {
	var o engine.Outcome
	fillAll(t, reflect.ValueOf(&o).Elem())
	checkEncode(t, 0, []engine.Outcome{o})
	var a engine.Attempt
	fillAll(t, reflect.ValueOf(&a).Elem())
	want, _ := json.Marshal([]engine.Attempt{a})
	if got, err := EncodeAttempts([]engine.Attempt{a}); err != nil || got != string(want) {
		t.Fatalf("EncodeAttempts = %s, %v; want %s", got, err, want)
	}
}
