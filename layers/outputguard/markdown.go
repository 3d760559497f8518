package outputguard

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/rampart-ai/rampart/detect/redact"
)

// Images found by a CommonMark parser. The regular expressions in scan.go
// find the common forms of Markdown images with exact spans; CommonMark
// has more (a title in single quotes or parentheses, nested brackets or a
// line break in the alt text, a reference definition inside a blockquote
// or a list item), which render as <img> in commonmark.js, markdown-it and
// marked. goldmark (a CommonMark-compliant Go parser) parses the text, and
// every image whose destination host is not allowed has its destination
// replaced where it stands in the text. Raw HTML <img> tags and bare or
// angle-bracket URLs carrying data are handled here too.

var md = goldmark.New()

// mdRemovedURL replaces the destination of an image the regular
// expressions did not cover: a same-document fragment, which loads
// nothing from another host.
const mdRemovedURL = "#image-removed"

var (
	reImgTag   = regexp.MustCompile(`(?is)<img\b[^>]*>`)
	reTagURL   = regexp.MustCompile(`(?i)(?:https?:)?//[^\s"'<>]+`)
	reDataLink = regexp.MustCompile(`(?i)\bhttps?://[^\s<>()"'\]]+[?#][^\s<>()"'\]]{12,}`)
)

// mdImages finds images whose destination is not allowed that the
// regular expressions (hs, already found) did not: each occurrence of the
// destination in text is a hit. An image whose destination does not occur
// as written (escaped in the source) makes the whole text a hit: it cannot
// be removed in place.
func (l *Layer) mdImages(src string, hs []hit) []hit {
	if !strings.Contains(src, "![") {
		return nil
	}
	doc := md.Parser().Parse(text.NewReader([]byte(src)))
	var dests []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering {
			if d := string(img.Destination); !hostAllowed(l.cfg.Links.AllowedHosts, d) {
				dests = append(dests, d)
			}
		}
		return ast.WalkContinue, nil
	})
	var out []hit
	act := l.imageAction()
	for _, d := range dests {
		if d == "" {
			continue // "![a]()" loads the page itself
		}
		found := false
		for off := 0; off < len(src); {
			k := strings.Index(src[off:], d)
			if k < 0 {
				break
			}
			a, b := off+k, off+k+len(d)
			off = a + 1
			if !destBounds(src, a, b) {
				continue // inside other text ("h" in "the")
			}
			found = true
			if coveredBy(hs, a, b) || coveredBy(out, a, b) {
				continue
			}
			out = append(out, hit{Span: redact.Span{Entity: "EXFIL_IMAGE", Start: a, End: b, Score: 1}, action: act,
				rule: "links.image_commonmark", kind: "image", repl: mdRemovedURL})
		}
		if !found {
			out = append(out, hit{Span: redact.Span{Entity: "EXFIL_IMAGE", Start: 0, End: len(src), Score: 1}, action: act,
				rule: "links.image_commonmark", kind: "image", repl: "[answer withheld: it holds an image to a host that is not allowed]"})
		}
	}
	return out
}

// htmlImages finds raw HTML <img> tags that load from a host not allowed.
func (l *Layer) htmlImages(src string) []hit {
	if !strings.Contains(src, "<") {
		return nil
	}
	act := l.imageAction()
	var out []hit
	for _, m := range reImgTag.FindAllStringIndex(src, -1) {
		tag := src[m[0]:m[1]]
		bad := false
		for _, u := range reTagURL.FindAllString(tag, -1) {
			if strings.HasPrefix(u, "//") {
				u = "https:" + u
			}
			if !hostAllowed(l.cfg.Links.AllowedHosts, u) {
				bad = true
			}
		}
		if bad {
			out = append(out, hit{Span: redact.Span{Entity: "EXFIL_IMAGE", Start: m[0], End: m[1], Score: 1}, action: act,
				rule: "links.html_image", kind: "image", repl: "[image removed]"})
		}
	}
	return out
}

// dataLinks finds URLs (bare, autolinks, link destinations) to hosts not
// allowed whose query or fragment carries data (12 characters or more),
// the shape of a link that sends something out when clicked or fetched by
// a client that unfurls links. They follow the links policy (flag by
// default, remove); spans a Markdown link hit (hs) covers are skipped.
func (l *Layer) dataLinks(src string, hs []hit) []hit {
	if l.cfg.Links.Links == "off" || !strings.Contains(src, "://") {
		return nil
	}
	act := ActFlag
	if l.cfg.Links.Links == "remove" {
		act = ActRedact
	}
	var out []hit
	for _, m := range reDataLink.FindAllStringIndex(src, -1) {
		if hostAllowed(l.cfg.Links.AllowedHosts, src[m[0]:m[1]]) || overlaps(hs, m[0], m[1]) {
			continue
		}
		out = append(out, hit{Span: redact.Span{Entity: "EXFIL_LINK", Start: m[0], End: m[1], Score: 0.8}, action: act,
			rule: "links.data_url", kind: "link", repl: "[link removed]"})
	}
	return out
}

// destBounds reports whether src[a:b] stands where Markdown writes a
// destination: after '(', '<', white space or ':' and before ')', '>',
// white space or a quote (or at either end of the text).
func destBounds(src string, a, b int) bool {
	return (a == 0 || strings.IndexByte("(< \t\n\r:", src[a-1]) >= 0) &&
		(b == len(src) || strings.IndexByte(")> \t\n\r\"'", src[b]) >= 0)
}

func coveredBy(hs []hit, a, b int) bool {
	for _, h := range hs {
		if (h.kind == "image" || h.kind == "link") && h.Start <= a && h.End >= b {
			return true
		}
	}
	return false
}

func overlaps(hs []hit, a, b int) bool {
	for _, h := range hs {
		if (h.kind == "image" || h.kind == "link") && h.Start < b && a < h.End {
			return true
		}
	}
	return false
}

// imageAction is the action of the images policy ("remove" or "flag").
func (l *Layer) imageAction() Action {
	if l.cfg.Links.Images == "flag" {
		return ActFlag
	}
	return ActRedact
}
