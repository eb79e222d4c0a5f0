// Package magic finds IPython's and GoNB's notebook commands in a cell: line
// magics (%time, %env, %go get, %help), the cell magic %%time on a cell's
// first line, and shell lines (!command). Users who come from those kernels
// write them out of habit, and they are not Go, so the interpreter would
// reject the whole cell.
//
// Only a line that starts with % or !, after optional blanks, where a Go
// statement could start at the top level of the cell is a command: not one
// inside braces, parentheses or a raw string, nor one that continues an
// expression (`ok := a &&` then `!b`). So `x := !ok`, `a % b` and a "%d" in a
// string stay Go. A line `!ok` on its own is a shell line, as in IPython and
// GoNB; to show the negation, write (!ok).
//
// Parse turns a cell into Go parts and commands in their order; Host.Run
// (run.go) runs them, each command where it stands, the Go parts through the
// engine's interpreter as cells of their own (a defer in one runs when that
// part ends). A Go part keeps the cell's line and column numbers: the lines
// outside it are blank in its source.
package magic

import (
	"fmt"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
	"unicode"

	"github.com/goproc/goproc/kernel/language"
)

// Kind is what a part of a cell is.
type Kind int

const (
	Go    Kind = iota // Go source
	Magic             // a line magic: %Name Args
	Shell             // a shell line: !Args
)

// Part is one piece of a cell.
type Part struct {
	Kind Kind
	// Line is the part's first line in the cell, from 1.
	Line int
	// Name is a magic's name without the %; Args the rest of its line
	// (a shell line's command), trimmed.
	Name, Args string
	// Src is Go source with the cell's line numbers: a Go part, or the
	// statement of %time with the magic's name blanked out (so that its
	// columns are the cell's too).
	Src string
}

// Cell is a parsed cell.
type Cell struct {
	// CellMagic is the name of the cell magic on the first line ("time"
	// for %%time), or "".
	CellMagic string
	// Parts are the cell's parts (after the cell magic's line), in order.
	Parts []Part
}

// lineMagics and cellMagics are the magics goproc knows, each with its
// one-line help (%help prints them).
var lineMagics = map[string]string{
	"time": "%time STATEMENT    run one Go statement or expression, then print its CPU and wall time",
	"env":  "%env               list the environment; %env NAME shows one; %env NAME=value (or NAME value) sets it for later cells and commands",
	"go":   "%go get MOD@VER    pin a Go module's version for the notebook (go get into the go.mod beside it); then import its packages",
	"help": "%help              list the magics (also %lsmagic)",
}

var cellMagics = map[string]string{
	"time": "%%time             on a cell's first line: run the cell, then print its CPU and wall time",
}

// aliases are other names users type for the same magics.
var aliases = map[string]string{"lsmagic": "help"}

// Parse splits a cell into Go parts and commands. It returns nil, nil for
// a cell that is Go only, which should run as it is, and an error, before
// anything runs, for a magic goproc does not know or a %% line that is not
// the cell's first.
func Parse(code string) (*Cell, *language.Error) {
	if !hasCandidate(code) {
		return nil, nil
	}
	lines := strings.Split(code, "\n")
	c := &Cell{}
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	if first < len(lines) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(lines[first]), "%%"); ok {
			name, args := splitName(rest)
			if _, known := cellMagics[name]; !known {
				return nil, usageError(fmt.Sprintf("Cell magic `%%%%%s` not found (%%help lists the magics).", name))
			}
			if args != "" {
				return nil, usageError(fmt.Sprintf("%%%%%s takes nothing after it on its line: put the code on the next lines.", name))
			}
			c.CellMagic = name
			first++
		}
	}
	goStart := first // the first line of the Go part being gathered
	flush := func(end int) {
		if end > goStart && strings.TrimSpace(strings.Join(lines[goStart:end], "")) != "" {
			c.Parts = append(c.Parts, Part{Kind: Go, Line: goStart + 1, Src: blanked(lines, goStart, end)})
		}
	}
	found := c.CellMagic != ""
	for i := first; i < len(lines); i++ {
		t := strings.TrimLeftFunc(lines[i], unicode.IsSpace)
		if t == "" || (t[0] != '%' && t[0] != '!') {
			continue
		}
		if !topLevel(strings.Join(lines[goStart:i], "\n") + "\n") {
			continue
		}
		flush(i)
		goStart = i + 1
		found = true
		p := Part{Line: i + 1}
		switch {
		case t[0] == '!':
			p.Kind, p.Args = Shell, strings.TrimSpace(t[1:])
		case strings.HasPrefix(t, "%%"):
			return nil, usageError(fmt.Sprintf("line %d: a cell magic (%s) must be on the cell's first line.", i+1, strings.Fields(t)[0]))
		default:
			p.Kind = Magic
			p.Name, p.Args = splitName(t[1:])
			if real, ok := aliases[p.Name]; ok {
				p.Name = real
			}
			if _, known := lineMagics[p.Name]; !known {
				return nil, usageError(fmt.Sprintf("line %d: Line magic function `%%%s` not found (%%help lists the magics).", i+1, p.Name))
			}
			if p.Name == "time" {
				// The statement keeps its columns: the magic's name
				// and the blanks around it become spaces.
				pad := len(lines[i]) - len(strings.TrimLeftFunc(strings.TrimLeftFunc(t[1:], isNameRune), unicode.IsSpace))
				p.Src = strings.Repeat("\n", i) + strings.Repeat(" ", pad) + lines[i][pad:]
			}
		}
		c.Parts = append(c.Parts, p)
	}
	if !found {
		return nil, nil
	}
	flush(len(lines))
	return c, nil
}

// hasCandidate reports whether some line starts with % or ! after blanks:
// most cells have none and are not scanned.
func hasCandidate(code string) bool {
	for line := range strings.SplitSeq(code, "\n") {
		if t := strings.TrimLeftFunc(line, unicode.IsSpace); t != "" && (t[0] == '%' || t[0] == '!') {
			return true
		}
	}
	return false
}

// blanked is lines[from:to] with blank lines before it, so that its line
// numbers are the cell's.
func blanked(lines []string, from, to int) string {
	return strings.Repeat("\n", from) + strings.Join(lines[from:to], "\n")
}

// splitName splits "name args" after the % into the magic's name and the
// rest, trimmed.
func splitName(s string) (name, args string) {
	end := strings.IndexFunc(s, func(r rune) bool { return !isNameRune(r) })
	if end < 0 {
		end = len(s)
	}
	return s[:end], strings.TrimSpace(s[end:])
}

func isNameRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// topLevel reports whether a statement may start after src (Go source that
// ends with a newline): every bracket is closed, no raw string or comment
// is open, and the last line ended a statement (Go would insert a
// semicolon there).
func topLevel(src string) bool {
	fset := token.NewFileSet()
	var s scanner.Scanner
	open := false
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), func(_ token.Position, msg string) {
		if msg == "raw string literal not terminated" || msg == "comment not terminated" {
			open = true
		}
	}, 0)
	depth, last := 0, token.SEMICOLON
	for {
		_, tok, _ := s.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		last = tok
	}
	return !open && depth <= 0 && last == token.SEMICOLON
}

func usageError(msg string) *language.Error {
	return &language.Error{Name: "UsageError", Value: msg, Traceback: []string{"UsageError: " + msg}}
}

// Help is the text %help prints: the magics, one line each.
func Help() string {
	var b strings.Builder
	b.WriteString("Magics and shell lines (a line that starts with % or !, outside Go code):\n")
	for _, m := range []map[string]string{cellMagics, lineMagics} {
		var names []string
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			b.WriteString("  " + m[name] + "\n")
		}
	}
	b.WriteString("  !COMMAND           run a shell command (/bin/sh -c) in the working directory, its output in the cell\n")
	return b.String()
}
