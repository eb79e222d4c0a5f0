package modules

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
)

// Imports returns the module packages (IsModulePath) that Go source (a
// cell's) imports, read with Go's scanner so that comments and strings are
// not taken for imports, nor magic and shell lines.
func Imports(src string) []string {
	// Magic and shell lines are not Go: blank them (a line of Go that
	// starts with ! or % continues an expression, and holds no import).
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "!") || strings.HasPrefix(t, "%") {
			lines[i] = ""
		}
	}
	src = strings.Join(lines, "\n")
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("cell", -1, len(src)), []byte(src), nil, 0)
	var paths []string
	next := func() (token.Token, string) {
		_, tok, lit := s.Scan()
		return tok, lit
	}
	for {
		tok, _ := next()
		if tok == token.EOF {
			return paths
		}
		if tok != token.IMPORT {
			continue
		}
		tok, lit := next()
		group := tok == token.LPAREN
		for {
			if group {
				tok, lit = next()
			}
			if tok == token.IDENT || tok == token.PERIOD {
				tok, lit = next()
			}
			if tok == token.STRING {
				if p, err := unquote(lit); err == nil && IsModulePath(p) {
					paths = append(paths, p)
				}
			}
			if !group || tok == token.RPAREN || tok == token.EOF {
				break
			}
		}
	}
}

func unquote(lit string) (string, error) {
	if len(lit) >= 2 && (lit[0] == '"' || lit[0] == '`') && lit[len(lit)-1] == lit[0] {
		return lit[1 : len(lit)-1], nil
	}
	return "", fmt.Errorf("not a string literal: %s", lit)
}
