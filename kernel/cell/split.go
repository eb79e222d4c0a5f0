package cell

import (
	"go/scanner"
	"go/token"
)

// segKind classifies a top-level segment of a cell.
type segKind int

const (
	segStmt segKind = iota
	segDecl
	segImport
	segPackage
)

// segment is a run of top-level tokens of a cell: [pos, end) in bytes.
type segment struct {
	kind     segKind
	pos, end int
}

type tok struct {
	tok      token.Token
	pos, end int
	lit      string
}

// scanCell tokenises the cell (without comments). A scanner error becomes a
// *SyntaxError.
func scanCell(src string) ([]tok, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(src))
	var s scanner.Scanner
	var first *SyntaxError
	s.Init(file, []byte(src), func(p token.Position, msg string) {
		if first == nil {
			l, c := lineCol(src, p.Offset)
			first = &SyntaxError{Line: l, Col: c, Msg: msg}
		}
	}, 0)
	var toks []tok
	for {
		p, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		off := file.Offset(p)
		end := off + len(lit)
		switch {
		case t == token.SEMICOLON && lit == "\n":
			end = off // automatic semicolon: no text
		case t == token.SEMICOLON:
			end = off + 1
		case lit == "":
			end = off + len(t.String())
		}
		toks = append(toks, tok{tok: t, pos: off, end: end, lit: lit})
	}
	if first != nil {
		return nil, first
	}
	return toks, nil
}

// splitSegments cuts the token stream at semicolons at bracket depth 0 and
// classifies each statement by its first tokens.
func splitSegments(toks []tok) []segment {
	var segs []segment
	depth := 0
	start := -1
	flush := func(last int) {
		if start < 0 {
			return
		}
		segs = append(segs, segment{kind: classify(toks[start:last]), pos: toks[start].pos, end: toks[last-1].end})
		start = -1
	}
	for i, t := range toks {
		switch t.tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if depth > 0 {
				depth--
			}
		case token.SEMICOLON:
			if depth == 0 {
				flush(i)
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(toks))
	return segs
}

func classify(ts []tok) segKind {
	switch ts[0].tok {
	case token.PACKAGE:
		return segPackage
	case token.IMPORT:
		return segImport
	case token.CONST, token.VAR, token.TYPE:
		return segDecl
	case token.FUNC:
		if len(ts) > 1 && ts[1].tok == token.IDENT {
			return segDecl // func Name(
		}
		if len(ts) > 1 && ts[1].tok == token.LPAREN {
			// func (recv) Name( is a method; func (params) ... { is a literal.
			depth := 0
			for i := 1; i < len(ts); i++ {
				switch ts[i].tok {
				case token.LPAREN, token.LBRACK, token.LBRACE:
					depth++
				case token.RPAREN, token.RBRACK, token.RBRACE:
					depth--
				}
				if depth == 0 {
					if i+2 < len(ts) && ts[i+1].tok == token.IDENT && ts[i+2].tok == token.LPAREN {
						return segDecl
					}
					return segStmt
				}
			}
		}
	}
	return segStmt
}
