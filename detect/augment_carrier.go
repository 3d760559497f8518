package detect

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Carrier augmentation (2026-12-07, issue 20): the train split's attack
// texts (direct hijacks, prompt extraction, jailbreaks) planted at a random
// sentence boundary of the train split's benign documents and prompts,
// wrapped in one of seven formats a tool result or a retrieved document
// has (plain text, an e-mail, a JSON record, a web page with the payload
// visible, in a comment or in a hidden element, a Markdown table, a
// comment block, a list of search results); each planted row is paired
// with the same carrier in the same format without the payload, so that
// the format is no evidence either way. Documents in the pool carry few
// distinct payloads (its indirect rows are a handful of templates), while
// the user-role attacks are thousands: this moves them into the untrusted
// domain. Built from the rows given to Train only — inside a
// cross-validation fold, from that fold's training rows — so nothing
// held out leaks in.

// KindGeneratedIndirect marks a planted carrier row (label 1, scanned as a
// document). Like the other generated kinds it is a training example only.
const KindGeneratedIndirect = "generated_indirect"

// CarrierRows returns n planted rows and n clean counterparts built from
// rows (deterministic for a given rows slice and seed).
func CarrierRows(rows []Row, n int, seed uint64) []Row {
	var payloads, docs, prompts []string
	for _, r := range rows {
		switch {
		case r.Label == 1 && (r.Kind == "direct" || r.Kind == "extraction" || r.Kind == "jailbreak"):
			if len(r.Text) >= 20 && len(r.Text) <= 1000 {
				payloads = append(payloads, strings.TrimSpace(r.Text))
			}
		case r.Label == 0 && r.Kind == "document":
			if len(r.Text) >= 120 {
				docs = append(docs, r.Text)
			}
		case r.Label == 0 && (r.Kind == "benign" || r.Kind == "hard_negative"):
			if len(r.Text) >= 120 {
				prompts = append(prompts, r.Text)
			}
		}
	}
	if len(payloads) == 0 || len(docs)+len(prompts) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x63617272))
	out := make([]Row, 0, 2*n)
	for i := 0; i < n; i++ {
		var c string
		if len(prompts) == 0 || (len(docs) > 0 && rng.IntN(3) != 0) {
			c = docs[rng.IntN(len(docs))]
		} else {
			c = prompts[rng.IntN(len(prompts))]
		}
		c = clipSentences(c, 1800)
		p := payloads[rng.IntN(len(payloads))]
		sents := splitSentences(c)
		at := rng.IntN(len(sents) + 1)
		f := rng.IntN(carrierFormats)
		v := rng.Uint64()
		out = append(out,
			Row{Text: wrapCarrier(f, v, sents, at, p), Label: 1, Kind: KindGeneratedIndirect, Source: "rampart:detect/augment_carrier.go"},
			Row{Text: wrapCarrier(f, v, sents, -1, ""), Kind: KindGeneratedDocument, Source: "rampart:detect/augment_carrier.go"})
	}
	return out
}

// clipSentences cuts s to at most max bytes at a sentence or line end when
// there is one in the second half.
func clipSentences(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && (s[cut]&0xc0) == 0x80 {
		cut--
	}
	if k := strings.LastIndexAny(s[:cut], ".!?\n"); k > max/2 {
		return s[:k+1]
	}
	return s[:cut]
}

// splitSentences splits s after ". ", "! ", "? " and newlines (keeping
// the separators with the sentence before them).
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		end := -1
		switch {
		case s[i] == '\n':
			end = i + 1
		case (s[i] == '.' || s[i] == '!' || s[i] == '?') && i+1 < len(s) && s[i+1] == ' ':
			end = i + 2
		}
		if end > start {
			out = append(out, s[start:end])
			start = end
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

const carrierFormats = 8

var (
	carrierNames   = []string{"Dana Whitfield", "Omar Haddad", "Lena Kovac", "Priya Raman", "Tom Becker", "Ines Duarte", "Kenji Mori", "Sara Lindqvist"}
	carrierDomains = []string{"example.com", "example.org", "mail.example.net", "corp.example"}
	carrierTypes   = []string{"note", "ticket", "review", "page", "comment", "message", "record"}
)

// wrapCarrier renders sentences in format f (v seeds the format's random
// choices, so a planted row and its clean twin look alike), with payload
// inserted before sentence at (at < 0: no payload).
func wrapCarrier(f int, v uint64, sents []string, at int, payload string) string {
	rng := rand.New(rand.NewPCG(v, 1))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	body := func(sep string) string {
		var parts []string
		for i, s := range sents {
			if i == at {
				parts = append(parts, payload)
			}
			if t := strings.TrimSpace(s); t != "" {
				parts = append(parts, t)
			}
		}
		if at >= len(sents) {
			parts = append(parts, payload)
		}
		return strings.Join(parts, sep)
	}
	title := strings.Join(firstWords(strings.Join(sents, " "), 6), " ")
	switch f {
	case 0: // plain text
		return body(" ")
	case 1: // e-mail
		n := pick(carrierNames)
		return "From: " + n + " <" + strings.ToLower(strings.ReplaceAll(n, " ", ".")) + "@" + pick(carrierDomains) + ">\nTo: team@" +
			pick(carrierDomains) + "\nSubject: " + title + "\n\n" + body("\n") + "\n\nBest,\n" + n
	case 2: // JSON record
		b, _ := json.Marshal(map[string]any{"id": rng.IntN(90000) + 10000, "type": pick(carrierTypes), "title": title,
			"author": pick(carrierNames), "text": body(" ")})
		return string(b)
	case 3: // web page, payload visible or hidden in a comment or a hidden element
		var b strings.Builder
		b.WriteString("<html><head><title>" + title + "</title></head><body>\n<h1>" + title + "</h1>\n")
		hide := rng.IntN(3)
		for i, s := range sents {
			if i == at {
				b.WriteString(hiddenPayload(hide, payload))
			}
			b.WriteString("<p>" + strings.TrimSpace(s) + "</p>\n")
		}
		if at >= len(sents) {
			b.WriteString(hiddenPayload(hide, payload))
		}
		b.WriteString("</body></html>")
		return b.String()
	case 4: // Markdown table
		var b strings.Builder
		b.WriteString("| # | " + pick(carrierTypes) + " |\n|---|---|\n")
		k := 1
		for _, s := range strings.Split(body("\x00"), "\x00") {
			b.WriteString("| " + strconv.Itoa(k) + " | " + strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") + " |\n")
			k++
		}
		return b.String()
	case 5: // comment block in code
		lines := strings.Split(body("\n"), "\n")
		return "/*\n * " + strings.Join(lines, "\n * ") + "\n */\nfunc handle" + strconv.Itoa(rng.IntN(100)) + "(req *Request) error {\n\treturn nil\n}"
	case 6: // search results
		var b strings.Builder
		b.WriteString("Search results for \"" + title + "\":\n")
		for i, s := range strings.Split(body("\x00"), "\x00") {
			b.WriteString(strconv.Itoa(i+1) + ". https://" + pick(carrierDomains) + "/" + strconv.Itoa(rng.IntN(9000)) + " - " + strings.TrimSpace(s) + "\n")
		}
		return b.String()
	default: // a chat or review log
		var b strings.Builder
		for _, s := range strings.Split(body("\x00"), "\x00") {
			b.WriteString("[" + pick(carrierNames) + "] " + strings.TrimSpace(s) + "\n")
		}
		return b.String()
	}
}

func hiddenPayload(kind int, p string) string {
	switch kind {
	case 0:
		return "<p>" + p + "</p>\n"
	case 1:
		return "<!-- " + p + " -->\n"
	default:
		return "<div style=\"display:none\">" + p + "</div>\n"
	}
}

func firstWords(s string, n int) []string {
	w := strings.Fields(s)
	if len(w) > n {
		w = w[:n]
	}
	return w
}
