package ptest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// Conversation renders c as one line per fact, for compact table tests.
func Conversation(c *conv.Conversation) []string {
	out := []string{fmt.Sprintf("conv kind=%s provider=%s model=%s stream=%t usage=%t max=%d",
		c.Kind, c.Provider, c.Model, c.Stream, c.IncludeUsage, c.MaxTokens)}
	for _, s := range c.System {
		out = append(out, segment("system", s))
	}
	for i := range c.Messages {
		out = append(out, message(fmt.Sprintf("msg%d", i), &c.Messages[i])...)
	}
	for _, t := range c.Tools {
		out = append(out, fmt.Sprintf("tool %s %q %s", t.Name, t.Description, t.Parameters))
	}
	return out
}

// Response renders r like Conversation.
func Response(r *conv.Response) []string {
	out := []string{"resp model=" + r.Model + " usage=" + usage(r.Usage)}
	for i := range r.Choices {
		c := &r.Choices[i]
		out = append(out, fmt.Sprintf("choice %d finish=%s", c.Index, c.FinishReason))
		out = append(out, message("  msg", &c.Message)...)
	}
	return out
}

// StreamEvent renders ev like Conversation.
func StreamEvent(ev *conv.StreamEvent) []string {
	out := []string{fmt.Sprintf("event name=%q done=%t usage=%s finish=%v", ev.Name, ev.Done, usage(ev.Usage), ev.FinishReason)}
	for _, d := range ev.Deltas {
		out = append(out, fmt.Sprintf("delta %d %s %q", d.Choice, d.Path, d.Text))
	}
	for _, t := range ev.ToolCalls {
		out = append(out, fmt.Sprintf("tooldelta %d/%d id=%s name=%s args=%q", t.Choice, t.Index, t.ID, t.Name, t.ArgumentsDelta))
	}
	return out
}

func usage(u *conv.Usage) string {
	if u == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%d/%d", u.PromptTokens, u.CompletionTokens, u.TotalTokens)
}

func segment(prefix string, s conv.Segment) string {
	return fmt.Sprintf("%s seg %s %s %q", prefix, s.Source, s.Path, s.Text)
}

func message(prefix string, m *conv.Message) []string {
	head := fmt.Sprintf("%s role=%s", prefix, m.Role)
	if m.Name != "" {
		head += " name=" + m.Name
	}
	if m.ToolCallID != "" {
		head += " tool_call_id=" + m.ToolCallID
	}
	if len(m.Parts) > 0 {
		keys := make([]string, 0, len(m.Parts))
		for k := range m.Parts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			head += fmt.Sprintf(" %s=%d", k, m.Parts[k])
		}
	}
	out := []string{head}
	for _, s := range m.Segments {
		out = append(out, segment(prefix, s))
	}
	for _, c := range m.ToolCalls {
		out = append(out, fmt.Sprintf("%s call id=%s name=%s args=%s path=%s", prefix, c.ID, c.Name, c.Arguments, c.Path))
	}
	return out
}

// Lines compares rendered lines with the expected ones.
func Lines(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
