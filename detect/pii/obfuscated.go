package pii

import (
	"regexp"
	"strings"
)

// Obfuscated e-mail addresses ("name[at]domain[dot]com", "name (at)
// domain (dot) com", "name at domain dot com") are e-mail addresses too:
// writing them so keeps them from naive scrapers, not from being personal
// data.
var (
	reObfEmailBracket = regexp.MustCompile(`(?i)[a-z0-9][a-z0-9._%+\-]*[ ]?(?:\[at\]|\(at\)|\{at\}|<at>|\[@\]|\(@\))[ ]?[a-z0-9][a-z0-9\-]*(?:(?:[ ]?(?:\[dot\]|\(dot\)|\{dot\}|<dot>|\[\.\]|\(\.\))[ ]?|\.|[ ]dot[ ])[a-z0-9][a-z0-9\-]*)*(?:[ ]?(?:\[dot\]|\(dot\)|\{dot\}|<dot>|\[\.\]|\(\.\))[ ]?|\.|[ ]dot[ ])[a-z]{2,24}`)
	reObfEmailWords   = regexp.MustCompile(`(?i)[a-z0-9][a-z0-9._%+\-]*[ ]at[ ][a-z0-9][a-z0-9\-]*(?:[ ]dot[ ][a-z0-9][a-z0-9\-]*)*[ ]dot[ ](?:com|net|org|edu|gov|io|co|uk|de|fr|info|biz|me|us|ca|au|in|nl|es|it|ch)\b`)
)

// obfuscatedHint is a cheap test for the markers of an obfuscated address:
// "at" or '@' closed by a bracket, or the word "dot".
func obfuscatedHint(t string) bool {
	for _, close := range []byte{']', ')', '}', '>'} {
		for off := 0; ; {
			k := strings.IndexByte(t[off:], close)
			if k < 0 {
				break
			}
			i := off + k
			if i >= 1 && t[i-1] == '@' || i >= 2 && lower(t[i-1]) == 't' && lower(t[i-2]) == 'a' {
				return true
			}
			off = i + 1
		}
	}
	return strings.Contains(t, " dot ") || strings.Contains(t, " DOT ") || strings.Contains(t, " Dot ")
}

// obfuscatedEmails finds obfuscated addresses in text.
func obfuscatedEmails(text string) []cand {
	if !obfuscatedHint(text) {
		return nil
	}
	var out []cand
	for _, re := range []*regexp.Regexp{reObfEmailBracket, reObfEmailWords} {
		for _, loc := range re.FindAllStringIndex(text, -1) {
			st, en := loc[0], loc[1]
			if st > 0 && (isAlnum(text[st-1]) || text[st-1] == '@') || en < len(text) && isAlnum(text[en]) {
				continue
			}
			score := 0.7
			if re == reObfEmailWords {
				score = 0.5
				if strings.ContainsAny(text[st:en], "[({<") {
					continue
				}
			}
			out = append(out, cand{st, en, score})
		}
	}
	return out
}
