package display

import (
	"html"
	"sort"
	"strings"
)

// mimeList names the MIME types of a bundle, sorted, for placeholder text.
func mimeList(d map[string]any) string {
	var names []string
	for k := range d {
		if k != "text/plain" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// htmlText turns HTML into readable plain text for terminals: tags are
// dropped, block ends become newlines, table cells are separated by tabs,
// entities are decoded and blank runs collapsed.
func htmlText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		tag := strings.ToLower(strings.Trim(s[1:j], "/ \t\n"))
		if k := strings.IndexAny(tag, " \t\n"); k >= 0 {
			tag = tag[:k]
		}
		closing := strings.HasPrefix(s, "</")
		switch tag {
		case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "ul", "ol":
			if closing || tag == "br" {
				b.WriteByte('\n')
			}
		case "td", "th":
			if closing {
				b.WriteByte('\t')
			}
		case "script", "style":
			if !closing {
				if k := strings.Index(strings.ToLower(s), "</"+tag); k >= 0 {
					s = s[k:]
					continue
				}
			}
		}
		s = s[j+1:]
	}
	lines := strings.Split(html.UnescapeString(b.String()), "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(strings.TrimSpace(l), "\t ")
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
