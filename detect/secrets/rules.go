package secrets

import "regexp"

// extraRule is one of rampart's own rules, for secrets gitleaks' default
// rules miss in chat text: OpenAI keys without the "T3BlbkFJ" marker,
// Anthropic and Google keys without a following delimiter, AWS key ids,
// JWTs, and private-key blocks whose END line has not arrived yet.
type extraRule struct {
	id       string
	keywords []string
	rule     rule
}

const pemClass = `A-Za-z0-9+/=\s:,\\\-`

var extraRules = []extraRule{
	{id: "rampart-openai-key", keywords: []string{"sk-"}, rule: rule{
		id: "rampart-openai-key", entity: "OPENAI_API_KEY", entropy: 3.5,
		re: regexp.MustCompile(`\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,200})`), secretGroup: 1,
		check: mixedCaseAndDigit,
	}},
	{id: "rampart-anthropic-key", keywords: []string{"sk-ant-"}, rule: rule{
		id: "rampart-anthropic-key", entity: "ANTHROPIC_API_KEY",
		re: regexp.MustCompile(`\b(sk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_\-]{20,200})`), secretGroup: 1,
	}},
	{id: "rampart-google-api-key", keywords: []string{"aiza"}, rule: rule{
		id: "rampart-google-api-key", entity: "GOOGLE_API_KEY",
		re: regexp.MustCompile(`\b(AIza[0-9A-Za-z_\-]{35})`), secretGroup: 1,
		check: mixedCaseAndDigit,
	}},
	{id: "rampart-aws-access-key", keywords: []string{"akia", "asia", "abia", "acca"}, rule: rule{
		id: "rampart-aws-access-key", entity: "AWS_ACCESS_KEY",
		re: regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`), secretGroup: 1,
	}},
	// An AWS secret access key is 40 characters of base64's alphabet:
	// alone it cannot be told from other tokens, so the rule needs an AWS
	// context word or an access key id shortly before it.
	{id: "rampart-aws-secret-key", keywords: []string{"aws", "secret_access", "secretaccess", "secret access", "akia", "asia"}, rule: rule{
		id: "rampart-aws-secret-key", entity: "AWS_SECRET_KEY",
		re: regexp.MustCompile(`(?i:aws.{0,30}secret|secret.?access.?key|(?-i:(?:AKIA|ASIA)[A-Z2-7]{16}))` +
			`[^\n]{0,60}?[^A-Za-z0-9/+=]([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)`),
		secretGroup: 1,
		check:       mixedCaseAndDigit,
	}},
	// A password in a URL's userinfo (scheme://user:password@host): a
	// credential, not an e-mail address.
	{id: "rampart-url-credentials", keywords: []string{"://"}, rule: rule{
		id: "rampart-url-credentials", entity: "URL_CREDENTIALS",
		re:          regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/?#@\[\]"'<>]{1,128}:([^\s/?#@"'<>]{1,256})@[A-Za-z0-9\[]`),
		secretGroup: 1,
	}},
	{id: "rampart-jwt", keywords: []string{"eyj"}, rule: rule{
		id: "rampart-jwt", entity: "JWT",
		re: regexp.MustCompile(`\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)`), secretGroup: 1,
	}},
	{id: "rampart-private-key", keywords: []string{"-----begin"}, rule: rule{
		id: "rampart-private-key", entity: "PRIVATE_KEY", open: true,
		re:          regexp.MustCompile(`(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[` + pemClass + `]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|(?:(?:\\n|\s)+[A-Za-z0-9+/=]{8,})*))`),
		secretGroup: 1,
	}},
}

// mixedCaseAndDigit rejects identifiers that look like keys only by shape
// (e.g. "sk-" followed by a long kebab-case word): real keys mix upper and
// lower case letters and digits.
func mixedCaseAndDigit(s string) bool {
	var up, lo, dg bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			lo = true
		case c >= '0' && c <= '9':
			dg = true
		}
	}
	return up && lo && dg
}

// ContinueOpen reports how many bytes at the start of next continue an open
// private-key match (base64 body lines and the END line), and whether the
// block is complete there. When done is false the block may go on: the
// first n bytes belong to it and next[n:] (a partial END line) must be
// offered again together with the following text.
func ContinueOpen(next string) (n int, done bool) {
	i := 0
	for i < len(next) {
		c := next[i]
		if c == '-' {
			// an END line: "-----END ... PRIVATE KEY-----"
			j := i
			for j < len(next) && next[j] == '-' {
				j++
			}
			rest := next[j:]
			if len(rest) < 3 {
				return i, false // could still become "END"
			}
			if rest[:3] != "END" {
				return i, true
			}
			k := j + 3
			for k < len(next) && next[k] != '\n' && k-i < 160 {
				if k+5 <= len(next) && next[k:k+5] == "-----" && k > j+3 {
					return k + 5, true
				}
				k++
			}
			if k >= len(next) {
				return i, false // END line not complete yet
			}
			return k, true
		}
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\\') {
			return i, true
		}
		i++
	}
	return len(next), false
}
