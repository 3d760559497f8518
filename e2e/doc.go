// Package e2e drives a whole rampart gateway over HTTP with the official
// OpenAI and Anthropic Go SDKs, against an in-process mock upstream.
package e2e
