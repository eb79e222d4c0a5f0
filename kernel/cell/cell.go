// Package cell turns the source of a notebook cell into chunks that the yaegi
// interpreter (v0.16.1) can evaluate one after another.
//
// yaegi evaluates either declarations or statements in one Eval, never both,
// and it lacks or mishandles several Go 1.21+ features. Parse splits a cell
// into top-level chunks, normalises them (package clauses, func main, imports
// already made) and rewrites what yaegi gets wrong: range over an integer,
// min/max/clear, per-iteration loop variables, and top-level loops and blocks
// (run inside func() { ... }(), since at the top level yaegi lets a block's
// variable overwrite a global of the same name, and panics on a type switch
// that declares a variable). It instruments every function with an identity
// probe for multiprocessing and wraps a trailing expression for display.
// Every chunk keeps a source map, so a position yaegi reports in a chunk maps
// back to the cell (Chunk.CellPos).
//
// What the engine must provide before the first cell:
//
//	import __goproc "<compiled helper package>" // Display(v ...any); Clear(x any)
//	import __mp "<runtime/multiprocessing>"      // Probe(name string) bool
//	Prelude                                      // __goprocProbing
//	MinMaxPrelude (before a chunk that UsesMinMax) // __goprocMin, __goprocMax
//
// Clear must clear a map or zero a slice (reflect.Value.Clear).
//
// The package is a pure source-to-source transformer: it uses go/scanner,
// go/parser and go/ast only and never runs code.
package cell

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/numcode"
)

// Kind says how a chunk must be evaluated.
type Kind int

const (
	// Decl chunks hold package-level declarations (import, const, var, type,
	// func). An import chunk is a Decl chunk that holds only imports.
	Decl Kind = iota
	// Stmt chunks hold statements; yaegi runs them in the global scope, so
	// `x := 1` defines a global.
	Stmt
)

func (k Kind) String() string {
	if k == Decl {
		return "decl"
	}
	return "stmt"
}

// Import is one import spec of a cell.
type Import struct {
	Name string // explicit package name ("" if none, "_" or "." as written)
	Path string // unquoted import path
}

// TypeDecl is a type declared by a chunk. Src is a normalised rendering of
// the declaration ("T[P any] struct{A int}", "U = int" for an alias), so two
// declarations of the same name compare equal exactly when they declare the
// same type. yaegi silently ignores a redefinition of a type; the engine can
// compare Src with the earlier one and warn.
type TypeDecl struct {
	Name string
	Src  string
}

// Chunk is one piece of a cell to pass to interp.EvalWithContext.
type Chunk struct {
	Kind Kind
	// Src is the exact text to evaluate. It starts with a prefix line ("\n"
	// for Decl, ";\n" for Stmt) so that yaegi reports positions in Src
	// exactly: line 2 is the chunk's first line, columns are not shifted.
	Src string
	// Line is the 1-based line of the cell where the chunk starts.
	Line int
	// Imports lists the imports of an import chunk (nil otherwise).
	Imports []Import
	// Declares lists the top-level names the chunk declares: funcs (not
	// methods), vars, consts and types for Decl chunks; the names a top-level
	// `:=` defines for Stmt chunks. A renamed main appears under its new name.
	Declares []string
	// Types lists the chunk's type declarations.
	Types []TypeDecl
	// Display reports that the chunk's last statement, an expression, was
	// wrapped in __goproc.Display(...).
	Display bool
	// NoDisplay is Src without the display wrap. Evaluate it instead when Src
	// fails to compile because the expression has no value ("cannot use
	// func() as type ()" and similar); positions in it map back with
	// WithoutDisplay().CellPos.
	NoDisplay string

	cell     string // the whole cell, for position mapping
	srcMap   []int  // cell byte offset of each byte of Src (plus one past the end)
	plainMap []int  // the same for NoDisplay
}

// WithoutDisplay returns the chunk with Src replaced by NoDisplay. It returns
// c unchanged when c.Display is false.
func (c Chunk) WithoutDisplay() Chunk {
	if !c.Display {
		return c
	}
	c.Src, c.srcMap = c.NoDisplay, c.plainMap
	c.Display = false
	return c
}

// CellPos maps a position that yaegi reported for c.Src (line and column as
// in "2:5: ...", 1-based, column in bytes) to the cell: a 1-based line and a
// 1-based column counted in Unicode code points. Positions inside text that
// the rewrites inserted map to the place of the insertion. Line 1 of Src is
// the prefix line; it maps to the chunk's first line.
func (c Chunk) CellPos(line, col int) (int, int) {
	off := srcOffset(c.Src, line, col)
	if off < 0 || c.srcMap == nil {
		return c.Line, 1
	}
	if off >= len(c.srcMap) {
		off = len(c.srcMap) - 1
	}
	return lineCol(c.cell, c.srcMap[off])
}

// CellError maps an error message from evaluating c.Src ("_.go:3:5: msg" or
// "3:5: msg") to the cell. ok is false when msg carries no position.
func (c Chunk) CellError(msg string) (line, col int, rest string, ok bool) {
	l, cl, rest, ok := MapError(msg)
	if !ok {
		return 0, 0, msg, false
	}
	l, cl = c.CellPos(l, cl)
	return l, cl, rest, true
}

// MapError splits the position off an error message from yaegi: parse errors
// read "_.go:2:5: msg", compile errors "2:5: msg"; a chunk evaluated with
// WithChunkID reports lines that carry its id, which MapError removes. Only
// the first error of a list is looked at. ok is false when msg does not
// start with a position.
func MapError(msg string) (line, col int, rest string, ok bool) {
	_, line, col, rest, ok = MapFrame(msg)
	return line, col, rest, ok
}

// MapFrame is MapError that also returns the id of the chunk the position
// is in (see WithChunkID), or 0.
func MapFrame(msg string) (chunk, line, col int, rest string, ok bool) {
	s := strings.TrimPrefix(msg, "_.go:")
	line, s, ok1 := leadingInt(s)
	col, s, ok2 := leadingInt(s)
	if !ok1 || !ok2 {
		return 0, 0, 0, msg, false
	}
	return line / chunkLines, line % chunkLines, col, strings.TrimSpace(s), true
}

// stripPosition removes the position yaegi puts in front of some runtime
// panics ("1700002:8: interface conversion: ..."): the traceback's frames
// say where, in cell coordinates.
func stripPosition(msg string) string {
	if _, _, _, rest, ok := MapFrame(msg); ok {
		return rest
	}
	return msg
}

// PanicMessage is a runtime panic's message from yaegi as Go would word it:
// without yaegi's position (stripPosition), and with the reflect package's
// words for what Go reports as a runtime error ("reflect: slice index out
// of range" is Go's "runtime error: index out of range").
func PanicMessage(msg string) string {
	msg = stripPosition(msg)
	switch {
	case strings.HasPrefix(msg, "reflect: ") && strings.HasSuffix(msg, " index out of range"):
		return "runtime error: index out of range"
	case strings.HasPrefix(msg, "reflect.Value.Slice") && strings.HasSuffix(msg, "out of bounds"):
		return "runtime error: slice bounds out of range"
	case strings.HasPrefix(msg, "reflect: call of reflect.Value.") && strings.HasSuffix(msg, " on zero Value"),
		msg == "reflect.Value.Call: call of nil function":
		return "runtime error: invalid memory address or nil pointer dereference"
	}
	return msg
}

// chunkLines is the line-number space of one chunk id.
const chunkLines = 100_000

// MaxChunkID is the largest id WithChunkID numbers lines with: Go's
// scanner takes line numbers up to 1<<30.
const MaxChunkID = (1<<30)/chunkLines - 1

// WithChunkID returns src (a chunk's Src or NoDisplay) with a //line
// directive after its prefix line that numbers the lines id*100000+2, …,
// so that a panic's frames say which chunk each function came from
// (MapFrame). The file name stays empty: yaegi scopes imports by file name.
// Positions map back with CellPos of the chunk whose Src it was.
func WithChunkID(src string, id int) string {
	i := strings.IndexByte(src, '\n')
	if i < 0 || id <= 0 || id > MaxChunkID || strings.Count(src, "\n") >= chunkLines-2 {
		return src
	}
	return src[:i+1] + "//line :" + strconv.Itoa(id*chunkLines+2) + ":1\n" + src[i+1:]
}

// leadingInt parses "123:" at the start of s.
func leadingInt(s string) (int, string, bool) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 15; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 || i >= len(s) || s[i] != ':' {
		return 0, s, false
	}
	return n, s[i+1:], true
}

// srcOffset returns the byte offset in src of line:col (1-based, col in
// bytes), or -1 for line 1 (yaegi's wrapper shares that line) and bad input.
func srcOffset(src string, line, col int) int {
	if line < 2 || col < 1 {
		return -1
	}
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		end = len(src) - off
	}
	if col-1 > end {
		col = end + 1
	}
	return off + col - 1
}

// lineCol converts a byte offset in s to a 1-based line and a 1-based column
// in code points.
func lineCol(s string, off int) (int, int) {
	if off > len(s) {
		off = len(s)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + strings.Count(s[:off], "\n")
	start := strings.LastIndexByte(s[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(s[start:off])
}

// SyntaxError is a cell that cannot be turned into chunks. Line and Col are
// 1-based cell coordinates, Col in code points.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Options tunes Parse.
type Options struct {
	// KnownInts reports whether a global name (declared in an earlier cell)
	// holds an integer, so that `for i := range n` can be rewritten. nil means
	// no global is known to be an integer.
	KnownInts func(name string) bool
	// Defined reports whether a global name is declared by the user (in an
	// earlier cell); min, max and clear are not rewritten when the user
	// declared them. nil means none.
	Defined func(name string) bool
	// SeenImport reports whether an import was already made (same name and
	// path). Parse drops those, and omits an import chunk that is left
	// empty. nil keeps every import; the engine must then drop repeats.
	SeenImport func(Import) bool
	// Seq makes generated names unique across cells (the renamed main is
	// __goproc_main_<Seq>); pass the execution count.
	Seq int
	// Instrument inserts the identity probe at the top of every function,
	// and the calls that run numeric code compiled (kernel/numcode) unless
	// Interpreted is set.
	Instrument  bool
	Interpreted bool
	// EarlierFuncs finds the functions earlier cells declared, which
	// compiled code may call (nil: none).
	EarlierFuncs numcode.Funcs
	// EarlierMain is the name the latest earlier cell's main was renamed
	// to ("": none), so that a call main() reaches it.
	EarlierMain string
	// EarlierType returns the declaration of a type an earlier cell
	// declared, as Chunk.Types gives it ("" if none): a range over a field
	// of a struct declared there is then known to be over an integer.
	EarlierType func(name string) string
}

// MainSeq reports whether name is one a cell's main was renamed to, and
// that cell's Seq.
func MainSeq(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, mainPrefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.Atoi(rest)
	return seq, err == nil
}

// mainPrefix starts the name a cell's main is renamed to.
const mainPrefix = "__goproc_main_"
