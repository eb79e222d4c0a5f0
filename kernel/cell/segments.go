package cell

// SegmentKind classifies a top-level segment of a cell (see Segments).
type SegmentKind int

const (
	// SegStmt is a statement.
	SegStmt SegmentKind = iota
	// SegDecl is a const, var, type or func declaration.
	SegDecl
	// SegImport is an import declaration.
	SegImport
	// SegPackage is a package clause (dropped when the cell runs).
	SegPackage
)

// Segment is one top-level declaration or statement of a cell: the cell's
// bytes [Pos, End), without the separating semicolon or newline.
type Segment struct {
	Kind     SegmentKind
	Pos, End int
}

// Segments splits a cell into its top-level declarations and statements
// exactly as Parse does before it groups them into chunks, for tools that
// look at a cell as Go source (kernel/typecheck). A cell the scanner
// rejects gives a *SyntaxError.
func Segments(code string) ([]Segment, error) {
	toks, err := scanCell(code)
	if err != nil {
		return nil, err
	}
	segs := splitSegments(toks)
	out := make([]Segment, len(segs))
	for i, s := range segs {
		k := SegStmt
		switch s.kind {
		case segDecl:
			k = SegDecl
		case segImport:
			k = SegImport
		case segPackage:
			k = SegPackage
		}
		out[i] = Segment{Kind: k, Pos: s.pos, End: s.end}
	}
	return out, nil
}
