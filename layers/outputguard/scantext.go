package outputguard

import "github.com/rampart-ai/rampart/engine"

// ScanText applies the output policy of a provisioned layer to one text,
// as for an answer without a system prompt, canary or tools: it returns
// the findings (Entity set, Start/End in code points, Message 0) and the
// text rewritten per policy (redactions applied). A block decision shows
// as findings whose Text starts with "block".
func (l *Layer) ScanText(text string) ([]engine.Finding, string) {
	hs := l.detect(text, true, "")
	out, fs, _ := l.rewrite(text, hs, 0)
	if l.cfg.Links.EscapeHTML {
		out = escapeHTML(out)
	}
	return fs, out
}

// ScanText builds a layer from policy (New and Provision) and scans text
// with it; for `rampart scan --direction output`. Building costs a few
// milliseconds (rule compilation); callers scanning many texts should keep
// a Layer and call its ScanText method.
func ScanText(text string, policy Config) ([]engine.Finding, string, error) {
	l, err := New(policy)
	if err != nil {
		return nil, "", err
	}
	if err := l.Provision(&engine.Host{}); err != nil {
		return nil, "", err
	}
	fs, out := l.ScanText(text)
	return fs, out, nil
}
