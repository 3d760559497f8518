package gemini

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/coverage"
)

const (
	whyBinary   = "image, audio, video or PDF bytes, or their address: no text the gateway reads (inline data that decodes to text is scanned as a document); refuse with inputpolicy allowed_parts"
	whySettings = "a generation setting (sampling, modalities, voice, thinking budget, image size): not read as prose"
	whyGoogle   = "a built-in tool Google runs itself (search, maps, code execution, URL context, file search, computer use): its inputs are settings and its results pass uninspected; refuse these tools in requests (inputpolicy) where that matters"
	whyLogprobs = "log probabilities repeat the tokens of the text beside them, which is scanned; they are removed whenever a layer changes or holds that text"
)

// generateCoverage decides every string of a generateContent request
// (testdata/coverage_generate.json holds every field of the API schema).
var generateCoverage = coverage.Table{
	coverage.Pass("contents.#.role", coverage.WhyEnum),
	coverage.ByRole("contents.#.parts.#.text"),
	coverage.Pass("contents.#.parts.#.thoughtSignature", "an opaque signature Google checks over the model's earlier reasoning"),
	coverage.Pass("contents.#.parts.#.inlineData.mimeType", coverage.WhyEnum),
	coverage.Pass("contents.#.parts.#.inlineData.data", whyBinary),
	coverage.Pass("contents.#.parts.#.fileData.mimeType", coverage.WhyEnum),
	coverage.Pass("contents.#.parts.#.fileData.fileUri", whyBinary+"; files uploaded through the Files API do not pass the gateway"),
	coverage.Pass("contents.#.parts.#.fileData.displayName", "the file's label in Google's Files API, set at upload"),
	coverage.Pass("contents.#.parts.#.videoMetadata.*", "offsets into a video: not prose"),
	coverage.Pass("contents.#.parts.#.mediaResolution.level", coverage.WhyEnum),
	coverage.Pass("contents.#.parts.#.partMetadata.**", "client metadata on a part, which Google does not give the model"),
	coverage.Pass("contents.#.parts.#.functionCall.id", coverage.WhyID),
	coverage.Pass("contents.#.parts.#.functionCall.name", coverage.WhyAssistantTurn),
	coverage.Pass("contents.#.parts.#.functionCall.args.**", coverage.WhyAssistantTurn),
	coverage.Pass("contents.#.parts.#.executableCode.language", coverage.WhyEnum),
	coverage.ByRole("contents.#.parts.#.executableCode.code"),
	coverage.Pass("contents.#.parts.#.codeExecutionResult.outcome", coverage.WhyEnum),
	coverage.Scan("contents.#.parts.#.codeExecutionResult.output", conv.SourceTool),
	coverage.Pass("contents.#.parts.#.functionResponse.id", coverage.WhyID),
	coverage.Pass("contents.#.parts.#.functionResponse.name", "names the declared function it answers (whose definition is scanned)"),
	coverage.Scan("contents.#.parts.#.functionResponse.response.**", conv.SourceTool),
	coverage.Pass("contents.#.parts.#.functionResponse.parts.#.inlineData.mimeType", coverage.WhyEnum),
	coverage.Pass("contents.#.parts.#.functionResponse.parts.#.inlineData.data", whyBinary),
	coverage.Pass("contents.#.parts.#.functionResponse.parts.#.fileData.*", whyBinary),
	coverage.Scan("contents.#.parts.#.functionResponse.parts.#.text", conv.SourceTool),
	coverage.Pass("contents.#.parts.#.functionResponse.scheduling", coverage.WhyEnum),
	coverage.Pass("systemInstruction.role", coverage.WhyEnum),
	coverage.Scan("systemInstruction.parts.#.text", conv.SourceSystem),
	coverage.Scan("tools.#.functionDeclarations.**", conv.SourceToolDef),
	coverage.Pass("tools.#.googleSearch.**", whyGoogle),
	coverage.Pass("tools.#.googleSearchRetrieval.**", whyGoogle),
	coverage.Pass("tools.#.computerUse.**", whyGoogle),
	coverage.Pass("tools.#.fileSearch.**", whyGoogle),
	coverage.Pass("toolConfig.functionCallingConfig.mode", coverage.WhyEnum),
	coverage.Pass("toolConfig.functionCallingConfig.allowedFunctionNames.#", "each must equal the name of a function the request declares (whose definition is scanned), else 400"),
	coverage.Pass("toolConfig.retrievalConfig.languageCode", coverage.WhyEnum),
	coverage.Pass("safetySettings.#.*", coverage.WhyEnum),
	coverage.Pass("generationConfig.stopSequences.#", coverage.WhyStop),
	coverage.Pass("generationConfig.responseMimeType", coverage.WhyEnum),
	coverage.Scan("generationConfig.responseSchema.**", conv.SourceToolDef),
	coverage.Scan("generationConfig.responseJsonSchema.**", conv.SourceToolDef),
	coverage.Pass("generationConfig.responseModalities.#", coverage.WhyEnum),
	coverage.Pass("generationConfig.speechConfig.**", whySettings),
	coverage.Pass("generationConfig.thinkingConfig.*", whySettings),
	coverage.Pass("generationConfig.imageConfig.*", whySettings),
	coverage.Pass("generationConfig.mediaResolution", coverage.WhyEnum),
	coverage.Pass("cachedContent", coverage.WhyID+"; the cached content was stored upstream through the caching API, which does not pass the gateway: it reaches the model uninspected (docs/THREAT_MODEL.md)"),
}

func TestCoverage(t *testing.T) {
	coverage.Check(t, New(), conv.KindGenerateContent, coverage.Samples(t, "testdata/coverage_generate.json"), generateCoverage, "provider/gemini generateCoverage")
}

// generateOutputCoverage decides every string of a GenerateContentResponse
// (testdata/coverage_generate_output.json; a stream chunk has the same
// schema).
var generateOutputCoverage = coverage.Table{
	coverage.Pass("candidates.#.content.role", coverage.WhyEnum),
	coverage.Scan("candidates.#.content.parts.#.text", conv.SourceAssistant),
	coverage.Pass("candidates.#.content.parts.#.thoughtSignature", "an opaque signature over the model's reasoning"),
	coverage.Pass("candidates.#.content.parts.#.functionCall.id", coverage.WhyID),
	coverage.Pass("candidates.#.content.parts.#.functionCall.name", "the function name, checked against the tool policy (allowlist, declared tools)"),
	coverage.Scan("candidates.#.content.parts.#.functionCall.args.**", coverage.ToolArguments),
	coverage.Pass("candidates.#.content.parts.#.executableCode.language", coverage.WhyEnum),
	coverage.Scan("candidates.#.content.parts.#.executableCode.code", conv.SourceAssistant),
	coverage.Pass("candidates.#.content.parts.#.codeExecutionResult.outcome", coverage.WhyEnum),
	coverage.Scan("candidates.#.content.parts.#.codeExecutionResult.output", conv.SourceAssistant),
	coverage.Pass("candidates.#.content.parts.#.inlineData.mimeType", coverage.WhyEnum),
	// bytes that are text (whatever mimeType says) are a segment, written
	// back base64-encoded when changed; image or audio bytes are counted
	coverage.Scan("candidates.#.content.parts.#.inlineData.data", conv.SourceAssistant),
	coverage.Pass("candidates.#.content.parts.#.fileData.mimeType", coverage.WhyEnum),
	coverage.Scan("candidates.#.content.parts.#.fileData.fileUri", conv.SourceLink),
	// the label the client shows next to the file: the model can write it
	coverage.Scan("candidates.#.content.parts.#.fileData.displayName", conv.SourceAssistant),
	coverage.Pass("candidates.#.finishReason", coverage.WhyEnum),
	coverage.Pass("candidates.#.finishMessage", "Google's own note on why the candidate ended, not text the model wrote"),
	coverage.Pass("candidates.#.safetyRatings.#.*", coverage.WhyEnum),
	coverage.Pass("candidates.#.citationMetadata.**", "a citation Google attached to the text (address, title, licence of a source), not text the model wrote"),
	coverage.Pass("candidates.#.groundingMetadata.**", "results of Google's own search tool (queries, addresses, titles, snippets, the rendered search widget): not inspected; refuse googleSearch in requests (inputpolicy) where that matters"),
	coverage.Pass("candidates.#.urlContextMetadata.**", "addresses Google's URL-context tool read, and their status"),
	coverage.Pass("candidates.#.logprobsResult.**", whyLogprobs),
	coverage.Pass("promptFeedback.blockReason", coverage.WhyEnum),
	coverage.Pass("promptFeedback.blockReasonMessage", "Google's own note on why it refused the prompt"),
	coverage.Pass("promptFeedback.safetyRatings.#.*", coverage.WhyEnum),
	coverage.Pass("usageMetadata.**", "token counts and modality names"),
	coverage.Pass("modelVersion", "names the model that answered"),
	coverage.Pass("responseId", coverage.WhyID),
	coverage.Pass("createTime", "a timestamp"),
}

func TestResponseCoverage(t *testing.T) {
	coverage.CheckResponse(t, New(), conv.KindGenerateContent, coverage.Samples(t, "testdata/coverage_generate_output.json"), generateOutputCoverage, "provider/gemini generateOutputCoverage")
}
