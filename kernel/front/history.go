package front

import (
	"context"
	"encoding/json"
	"unicode/utf8"
)

// historySession is the number this kernel's history reports as its
// session (IPython numbers sessions from 1; goproc keeps only the current).
const historySession = 1

// history is the in-memory input (and text output) history of the cells
// executed with store_history.
type history struct {
	entries []histEntry
}

type histEntry struct {
	line   int // execution count
	input  string
	output *string // text/plain of the execute_result, if any
}

func (h *history) add(line int, input string) *histEntry {
	h.entries = append(h.entries, histEntry{line: line, input: input})
	return &h.entries[len(h.entries)-1]
}

type historyRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"`
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           *int   `json:"stop"`
	N              *int   `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

func (k *Kernel) handleHistory(ctx context.Context, r *request) {
	var req historyRequest
	if !k.decode(r, &req, "history_reply") {
		return
	}
	k.reply(r, "history_reply", map[string]any{"status": "ok", "history": k.history.query(req)})
}

// query answers a history_request: a list of [session, line, input] or,
// with output, [session, line, [input, output]].
func (h *history) query(req historyRequest) []any {
	var sel []histEntry
	switch req.HistAccessType {
	case "tail":
		n := 10
		if req.N != nil {
			n = *req.N
		}
		sel = lastN(h.entries, n)
	case "range":
		if req.Session != 0 && req.Session != historySession {
			break
		}
		for _, e := range h.entries {
			if e.line >= req.Start && (req.Stop == nil || e.line < *req.Stop) {
				sel = append(sel, e)
			}
		}
	case "search":
		pat := req.Pattern
		if pat == "" {
			pat = "*"
		}
		for i, e := range h.entries {
			if !glob(pat, e.input) {
				continue
			}
			if req.Unique && laterSame(h.entries[i+1:], e.input) {
				continue
			}
			sel = append(sel, e)
		}
		if req.N != nil {
			sel = lastN(sel, *req.N)
		}
	}
	out := make([]any, 0, len(sel))
	for _, e := range sel {
		if req.Output {
			var o any
			if e.output != nil {
				o = *e.output
			}
			out = append(out, []any{historySession, e.line, []any{e.input, o}})
		} else {
			out = append(out, []any{historySession, e.line, e.input})
		}
	}
	return out
}

func lastN(es []histEntry, n int) []histEntry {
	if n < 0 {
		n = 0
	}
	if n < len(es) {
		return es[len(es)-n:]
	}
	return es
}

// laterSame reports whether a later entry has the same input (unique keeps
// the most recent occurrence, as IPython does).
func laterSame(es []histEntry, input string) bool {
	for _, e := range es {
		if e.input == input {
			return true
		}
	}
	return false
}

// glob matches s against a SQLite GLOB pattern (what IPython's history
// search uses): * any run of characters, ? one character, [...] a class
// with ranges and ^ negation. It is case-sensitive and * crosses newlines.
func glob(pat, s string) bool {
	// Iterative matcher with single-star backtracking.
	var starP, starS = -1, -1
	p, i := 0, 0
	for i < len(s) {
		if p < len(pat) {
			switch pat[p] {
			case '*':
				starP, starS = p, i
				p++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				p++
				i += w
				continue
			case '[':
				r, w := utf8.DecodeRuneInString(s[i:])
				if np, ok := matchClass(pat, p, r); ok {
					p = np
					i += w
					continue
				}
			default:
				if pat[p] == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		p, i = starP+1, starS
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// matchClass matches r against the class starting at pat[p] == '['; it
// returns the index after the class and whether r is in it.
func matchClass(pat string, p int, r rune) (int, bool) {
	j := p + 1
	neg := false
	if j < len(pat) && pat[j] == '^' {
		neg = true
		j++
	}
	matched := false
	first := true
	for j < len(pat) && (first || pat[j] != ']') {
		first = false
		lo, w := utf8.DecodeRuneInString(pat[j:])
		j += w
		hi := lo
		if j+1 < len(pat) && pat[j] == '-' && pat[j+1] != ']' {
			hi, w = utf8.DecodeRuneInString(pat[j+1:])
			j += 1 + w
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	if j >= len(pat) {
		return 0, false // unterminated class: no match
	}
	return j + 1, matched != neg
}

// textPlain is the text/plain representation of a result, for history.
func textPlain(b map[string]any) *string {
	switch v := b["text/plain"].(type) {
	case string:
		return &v
	case nil:
		return nil
	default:
		s, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		str := string(s)
		return &str
	}
}
