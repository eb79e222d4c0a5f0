package magic

import (
	"sort"
	"strings"
	"unicode"
)

// Complete completes a magic's name at cursor (in code points, as Jupyter
// counts), for a line that starts with % where a command may stand: the
// names that begin with what is typed, with their % or %%, and the span
// (in code points) they replace. ok is false elsewhere, where Go's
// completion applies.
func Complete(code string, cursor int) (matches []string, start, end int, ok bool) {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		return nil, 0, 0, false
	}
	lineStart := cursor
	for lineStart > 0 && runes[lineStart-1] != '\n' {
		lineStart--
	}
	start = lineStart
	for start < cursor && unicode.IsSpace(runes[start]) {
		start++
	}
	typed := string(runes[start:cursor])
	name, cellMagic := strings.CutPrefix(typed, "%%")
	if !cellMagic {
		var isMagic bool
		if name, isMagic = strings.CutPrefix(typed, "%"); !isMagic {
			return nil, 0, 0, false
		}
	}
	if strings.IndexFunc(name, func(r rune) bool { return !isNameRune(r) }) >= 0 {
		return nil, 0, 0, false
	}
	before := string(runes[:lineStart])
	table, mark := lineMagics, "%"
	if cellMagic {
		if strings.TrimSpace(before) != "" {
			return nil, 0, 0, false
		}
		table, mark = cellMagics, "%%"
	} else if c, err := Parse(before + "%help"); err != nil || c == nil || c.Parts[len(c.Parts)-1].Kind != Magic {
		// Not where a command may stand (inside braces, say).
		return nil, 0, 0, false
	}
	for n := range table {
		if strings.HasPrefix(n, name) {
			matches = append(matches, mark+n)
		}
	}
	if !cellMagic {
		for alias := range aliases {
			if strings.HasPrefix(alias, name) {
				matches = append(matches, mark+alias)
			}
		}
		if strings.TrimSpace(before) == "" {
			for n := range cellMagics {
				if strings.HasPrefix(n, name) {
					matches = append(matches, "%%"+n)
				}
			}
		}
	}
	sort.Strings(matches)
	return matches, start, cursor, true
}
