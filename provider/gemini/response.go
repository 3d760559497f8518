package gemini

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	responseFields  = []string{"candidates", "usageMetadata", "modelVersion", "error"}
	candidateFields = []string{"content", "finishReason", "index"}
	usageFields     = []string{"promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount"}
)

// ParseResponse reads a whole GenerateContentResponse: one Choice per
// candidate (Index = the candidate's index). Errors are *provider.Error with
// Status 502.
func (adapter) ParseResponse(body []byte, kind conv.Kind) (*conv.Response, error) {
	r := &conv.Response{}
	switch kind {
	case conv.KindModels:
		return r, nil
	case conv.KindGenerateContent:
	default:
		return nil, pj.Upstream(unsupported(kind))
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, pj.Upstream(err)
	}
	if err := parseChunk(root, "", r); err != nil {
		return nil, pj.Upstream(err)
	}
	return r, nil
}

// parseChunk reads one GenerateContentResponse (a whole answer or one
// chunk of a stream) at prefix into r.
func parseChunk(root gjson.Result, prefix string, r *conv.Response) error {
	var f [4]gjson.Result
	if err := pj.Fields(root, prefix, responseFields, f[:]); err != nil {
		return err
	}
	if pj.Present(f[3]) {
		return pj.Errorf("invalid_value", "error", "the upstream answered an error object")
	}
	var err error
	if r.Model, err = pj.OptStr(f[2], prefix, "modelVersion"); err != nil {
		return err
	}
	if r.Usage, err = parseUsage(f[1], join(prefix, "usageMetadata")); err != nil {
		return err
	}
	if !pj.Present(f[0]) {
		return nil // a prompt blocked by Google's own filters has no candidates
	}
	return pj.Each(f[0], join(prefix, "candidates"), func(i int, cand gjson.Result) error {
		cp := pj.Path(join(prefix, "candidates"), i)
		ch := conv.Choice{Message: conv.Message{Role: conv.RoleAssistant}}
		idx, reason, content, err := candidate(cand, cp)
		if err != nil {
			return err
		}
		ch.Index, ch.FinishReason = idx, reason
		if err := eachPart(content, cp, func(j int, pp string, p gjson.Result, pf []gjson.Result) error {
			r.Unknown = unknownMembers(p, pp, r.Unknown)
			return parseRespPart(&ch.Message, pp, pf)
		}); err != nil {
			return err
		}
		r.Choices = append(r.Choices, ch)
		return nil
	})
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// candidate reads a candidate's index (default 0), finishReason and content.
func candidate(cand gjson.Result, cp string) (int, string, gjson.Result, error) {
	var f [3]gjson.Result
	if err := pj.Fields(cand, cp, candidateFields, f[:]); err != nil {
		return 0, "", gjson.Result{}, err
	}
	reason, err := pj.OptStr(f[1], cp, "finishReason")
	if err != nil {
		return 0, "", gjson.Result{}, err
	}
	idx, err := pj.OptInt(f[2], cp, "index")
	if err != nil {
		return 0, "", gjson.Result{}, err
	}
	return idx, reason, f[0], nil
}

// eachPart calls fn for every part of a candidate's content (absent
// content or parts: none).
func eachPart(content gjson.Result, cp string, fn func(j int, path string, p gjson.Result, pf []gjson.Result) error) error {
	if !pj.Present(content) {
		return nil
	}
	var c [2]gjson.Result
	if err := pj.Fields(content, cp+".content", contentFields, c[:]); err != nil {
		return err
	}
	if !pj.Present(c[1]) {
		return nil
	}
	return pj.Each(c[1], cp+".content.parts", func(j int, p gjson.Result) error {
		pp := pj.Path(cp, "content", "parts", j)
		var pf [12]gjson.Result
		if err := pj.Fields(p, pp, partFields, pf[:]); err != nil {
			return err
		}
		return fn(j, pp, p, pf[:])
	})
}

// unknownMembers appends to unknown the members of part p (at pp) that
// are not part fields rampart knows: a part type added to the API later,
// or a new member of a known part, which nothing inspects.
func unknownMembers(p gjson.Result, pp string, unknown []conv.UnknownPart) []conv.UnknownPart {
	p.ForEach(func(k, _ gjson.Result) bool {
		if !slices.Contains(partFields, k.Str) {
			unknown = append(unknown, conv.UnknownPart{Type: k.Str, Path: pp + "." + k.Str})
		}
		return true
	})
	return unknown
}

// answerBlob reads an answer's inlineData: bytes that are text (whatever
// mimeType claims) are returned decoded (ok); other data is counted by
// kind.
func answerBlob(msg *conv.Message, path string, v gjson.Result) (string, bool, error) {
	return blobText(msg, path, v, pj.Fields)
}

// fileData reads an answer's fileData: its fileUri and displayName (""
// when absent).
func fileData(v gjson.Result, path string) (uri, name string, err error) {
	var g [3]gjson.Result
	if err := pj.Fields(v, path, fileFields, g[:]); err != nil {
		return "", "", err
	}
	if _, err := pj.OptStr(g[0], path, "mimeType"); err != nil {
		return "", "", err
	}
	if uri, err = pj.OptStr(g[1], path, "fileUri"); err != nil {
		return "", "", err
	}
	name, err = pj.OptStr(g[2], path, "displayName")
	return uri, name, err
}

// parseRespPart reads one part of an answer: text (thought summaries
// included), code the model wrote and the output of Google's code sandbox
// are text the client sees (SourceAssistant segments), as is inlineData
// whose bytes are text (a segment at its base64 data: EncodeResponse
// encodes a changed text back); a fileData address is a SourceLink
// segment and its displayName an answer segment; functionCall is a tool call; other parts (inline images ...)
// are counted.
func parseRespPart(msg *conv.Message, pp string, pf []gjson.Result) error {
	switch {
	case pj.Present(pf[pText]):
		text, err := pj.Str(pf[pText], pp, "text")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, pp+".text"))
	case pj.Present(pf[pCall]):
		return parseCall(msg, pp, pf[pCall])
	case pj.Present(pf[pCode]):
		return sandboxText(msg, pf[pCode], pp+".executableCode", "code")
	case pj.Present(pf[pResult]):
		return sandboxText(msg, pf[pResult], pp+".codeExecutionResult", "output")
	case pj.Present(pf[pInline]):
		text, ok, err := answerBlob(msg, pp+".inlineData", pf[pInline])
		if err != nil {
			return err
		}
		if ok {
			msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, pp+".inlineData.data"))
		}
	case pj.Present(pf[pFile]):
		uri, name, err := fileData(pf[pFile], pp+".fileData")
		if err != nil {
			return err
		}
		countPart(msg, "file_data")
		if uri != "" {
			msg.Segments = append(msg.Segments, conv.NewSegment(uri, conv.SourceLink, pp+".fileData.fileUri"))
		}
		if name != "" {
			// the label the client shows: text the model wrote
			msg.Segments = append(msg.Segments, conv.NewSegment(name, conv.SourceAssistant, pp+".fileData.displayName"))
		}
	}
	return nil
}

// isInlineText reports whether path is inlineData.data: its text is
// written back base64-encoded.
func isInlineText(path string) bool { return strings.HasSuffix(path, ".inlineData.data") }

// writeInline writes a changed decoded text back to its inlineData.data,
// base64-encoded.
func writeInline(w *pj.Writer, path, text string) error {
	return w.SetString(path, "", base64.StdEncoding.EncodeToString([]byte(text)), true)
}

// sandboxField reads the one string rampart reads of an executableCode
// ("code") or codeExecutionResult ("output") object ("" when absent).
func sandboxField(v gjson.Result, path, key string) (string, error) {
	var g [1]gjson.Result
	if err := pj.Fields(v, path, []string{key}, g[:]); err != nil {
		return "", err
	}
	return pj.OptStr(g[0], path, key)
}

func sandboxText(msg *conv.Message, v gjson.Result, path, key string) error {
	text, err := sandboxField(v, path, key)
	if err != nil {
		return err
	}
	if text != "" {
		msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, path+"."+key))
	}
	return nil
}

// parseUsage maps usageMetadata: prompt tokens are promptTokenCount plus
// toolUsePromptTokenCount, completion tokens candidatesTokenCount plus
// thoughtsTokenCount (Google bills thinking as output), cached tokens
// cachedContentTokenCount; the total is totalTokenCount when given.
func parseUsage(v gjson.Result, param string) (*conv.Usage, error) {
	if !pj.Present(v) {
		return nil, nil
	}
	var f [6]gjson.Result
	if err := pj.Fields(v, param, usageFields, f[:]); err != nil {
		return nil, err
	}
	var n [6]int
	for i := range f {
		var err error
		if n[i], err = pj.OptInt(f[i], param, usageFields[i]); err != nil {
			return nil, err
		}
	}
	u := &conv.Usage{PromptTokens: n[0] + n[5], CompletionTokens: n[1] + n[4], CachedPromptTokens: n[3]}
	u.TotalTokens = max(n[2], u.PromptTokens+u.CompletionTokens)
	return u, nil
}

// EncodeResponse writes changed segments back into body, and removes the
// logprobsResult of each candidate whose text changed (its tokens repeat
// the text as it was).
func (adapter) EncodeResponse(body []byte, r *conv.Response) ([]byte, error) {
	w := pj.Writer{Body: body}
	var changed []string
	for i := range r.Choices {
		segs := r.Choices[i].Message.Segments
		for j := range segs {
			if !segs[j].Changed() {
				continue
			}
			changed = append(changed, segs[j].Path)
			if isInlineText(segs[j].Path) {
				if err := writeInline(&w, segs[j].Path, segs[j].Text); err != nil {
					return nil, err
				}
			} else if err := w.WriteSegments(segs[j : j+1]); err != nil {
				return nil, err
			}
		}
	}
	if err := dropLogprobs(&w, changed); err != nil {
		return nil, err
	}
	return w.Body, nil
}

// dropLogprobs deletes candidates.N.logprobsResult for every candidate N
// that one of paths (of changed texts, "candidates.N....") lies in.
func dropLogprobs(w *pj.Writer, paths []string) error {
	done := map[string]bool{}
	for _, p := range paths {
		rest, ok := strings.CutPrefix(p, "candidates.")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		lp := "candidates." + n + ".logprobsResult"
		if done[lp] {
			continue
		}
		done[lp] = true
		if gjson.GetBytes(w.Body, lp).Exists() {
			if err := w.Delete(lp); err != nil {
				return err
			}
		}
	}
	return nil
}
