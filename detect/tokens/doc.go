// Package tokens counts tokens the way OpenAI's tiktoken does, offline.
//
// The vocabularies (cl100k_base and o200k_base) are embedded in the binary by
// github.com/tiktoken-go/tokenizer (MIT licence; vocabularies as generated Go
// source, pre-token split regexp compiled to Go by regexp2cg). Nothing is
// downloaded at run time. An encoding is built lazily on first use (or by
// Preload at provision time): about 10 ms for cl100k_base and about 200 ms
// for o200k_base on a 2-core machine; TestPreload logs the figure.
//
// Models map to encodings by name (EncodingFor): the gpt-4o / gpt-4.1 /
// gpt-4.5 / gpt-5 / o-series / gpt-oss families use o200k_base; everything
// else, including gpt-4, gpt-3.5, embeddings and non-OpenAI models (Claude,
// Llama, ...), is counted with cl100k_base. For non-OpenAI models the count
// is an estimate: their tokenizers differ, typically by 10–20 %.
//
// Bounded cost: tiktoken's pre-token regexp backtracks quadratically on long
// whitespace runs, and byte-pair merging slows on very long words, so Count
// feeds the tokenizer bounded chunks. Chunks are cut preferentially at places
// where tiktoken's own split would cut anyway (before a single space between
// two non-space characters), which keeps the count exact for ordinary text;
// only pathological input (a whitespace run over 64 bytes, or 1 KiB with no
// such place) is cut elsewhere, which can change the count there by a token
// or so per cut. Cost is therefore linear in the input length.
package tokens
