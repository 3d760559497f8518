// Package prompttext builds the English prose prompts of the load tool
// (package bench), so that the detector's own benchmarks scan the same text
// as `rampart-bench -prompt-kb` without importing the gateway.
package prompttext

import "strings"

// paras are the sentences a prompt is built from, in turn.
var paras = []string{
	"I am planning a trip to Europe next spring with my family and would like some advice about which cities to visit, how long to stay in each, and what the best way to travel between them is. ",
	"We have two children, aged seven and eleven, who enjoy museums when there is something to touch and parks where they can run around. ",
	"Our budget is moderate: we would rather stay in small family-run hotels near the centre than in large chains outside the city. ",
	"Please also mention any local festivals in April or May, the food we should not miss, and how to avoid the longest queues at the famous sights. ",
}

// Append appends the sentences in turn to b until it has grown by n bytes
// (the last sentence cut short) and returns it.
func Append(b []byte, n int) []byte {
	start := len(b)
	for i := 0; len(b)-start < n; i++ {
		p := paras[i%len(paras)]
		if rest := n - (len(b) - start); rest < len(p) {
			p = p[:rest]
		}
		b = append(b, p...)
	}
	return b
}

// Text returns a prompt of n bytes.
func Text(n int) string {
	var sb strings.Builder
	sb.Write(Append(make([]byte, 0, n), n))
	return sb.String()
}
