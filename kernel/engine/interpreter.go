package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/symbols"
	"github.com/goproc/goproc/runtime/multiprocessing"
	"github.com/goproc/goproc/runtime/multiprocessing/typedjson"
)

// Names the kernel declares in every interpreter. Cells never see them unless
// they go looking; instrumented code refers to them.
const (
	probingVar    = "__goprocProbing"
	supportImport = "goproc/cellsupport"
	supportName   = "__goproc"
	mpName        = "__mp"
	mpImportPath  = "github.com/goproc/goproc/runtime/multiprocessing"
)

// Interpreter is one yaegi interpreter holding a notebook's state, with the
// cell pipeline around it. It runs in the engine process (and, rebuilt from a
// Program, in multiprocessing workers). Its methods must not be called
// concurrently; the engine serialises them.
type Interpreter struct {
	yi  *interp.Interpreter
	std *stdLoader
	// interpretOnly leaves numeric code to yaegi (GOPROC_COMPILE=0), to
	// compare, or to rule kernel/numcode out when something looks wrong.
	interpretOnly bool

	stdin  *stdinReader
	stderr *stderrFilter
	tc     typeChecker // go/types in front of the interpreter (typecheck.go)

	mu       sync.Mutex // guards the fields below against the multiprocessing host
	program  []string   // declaration chunks evaluated successfully, in order
	imports  map[string]bool
	types    map[string]string // type name -> normalised source of its declaration
	decls    map[string]declInfo
	cellCtx  context.Context
	result   language.MimeBundle // set by the display hook during a cell
	mainSeq  int
	replay   replayState    // a worker's record of the parent's program
	held     any            // a value __goproc.Hold kept (see runStatements)
	deferred []deferredCall // the running cell's defers, in order
	// cellPanic is the panic that ended the running cell's code, and
	// pending that panic while the cell's defers run, until one of them
	// recovers it (__goproc.Recover).
	cellPanic *any
	pending   *any
	chunks    map[int]chunkRef // by id (see cell.WithChunkID)
	progIndex []*replayChunk   // program chunks parsed for GlobalsFor, in order
	lastChunk int
	evalLock  sync.Mutex
	minMax    sync.Once // evaluates cell.MinMaxPrelude
	minMaxErr error
	wrapped   map[int]bool // ids of chunks run in a function literal (inFunc)
	late      []*heldCell  // cells waiting for names later cells declare (late.go)
}

type declInfo struct {
	Kind, Source, Doc string
}

// Config configures an Interpreter.
type Config struct {
	// Stdout and Stderr are the files cell output goes to (fd 1 and 2 of the
	// engine process).
	Stdout, Stderr *os.File
	// Input asks the user for input; nil makes reads from stdin fail.
	Input func(prompt string, password bool) (string, error)
	// Args is os.Args as cells see it.
	Args []string
}

// NewInterpreter returns an interpreter with the standard library, goproc's
// runtime packages and the kernel's support names loaded.
func NewInterpreter(cfg Config) (*Interpreter, error) {
	in := &Interpreter{
		interpretOnly: os.Getenv(compileEnv) == "0",
		imports:       map[string]bool{},
		types:         map[string]string{},
		decls:         map[string]declInfo{},
		wrapped:       map[int]bool{},
		cellCtx:       context.Background(),
	}
	in.stdin = &stdinReader{ask: cfg.Input}
	in.stderr = &stderrFilter{w: cfg.Stderr}
	args := cfg.Args
	if args == nil {
		args = []string{"goproc"}
	}
	yi := interp.New(interp.Options{
		Stdin:        in.stdin,
		Stdout:       cfg.Stdout,
		Stderr:       in.stderr,
		Args:         args,
		Env:          os.Environ(),
		Unrestricted: true,
	})
	std, err := newStdLoader(yi, in.stdin, cfg.Stdout, in.stderr, args)
	if err != nil {
		return nil, err
	}
	in.std = std
	if err := yi.Use(symbols.Symbols); err != nil {
		return nil, fmt.Errorf("load symbols: %w", err)
	}
	aliases := interp.Exports{}
	for short, full := range symbols.Aliases {
		name := full[strings.LastIndex(full, "/")+1:]
		if syms, ok := symbols.Symbols[full+"/"+name]; ok {
			aliases[short+"/"+name] = syms
		}
	}
	stdinVar := io.Reader(in.stdin)
	aliases["os/os"] = map[string]reflect.Value{"Stdin": reflect.ValueOf(&stdinVar).Elem()}
	aliases[supportImport+"/cellsupport"] = map[string]reflect.Value{
		"Display": reflect.ValueOf(in.display),
		"Hold":    reflect.ValueOf(in.hold),
		"Defer":   reflect.ValueOf(in.deferCall),
		"Recover": reflect.ValueOf(in.recoverCall),
		"Clear":   reflect.ValueOf(clearValue),
		"Zero":    reflect.ValueOf(zeroValue),
		"Zeroed":  reflect.ValueOf(zeroedValue),
	}
	if err := yi.Use(aliases); err != nil {
		return nil, fmt.Errorf("load aliases: %w", err)
	}
	in.yi = yi
	for _, src := range []string{
		"import " + mpName + " " + strconvQuote(mpImportPath),
		"import " + supportName + " " + strconvQuote(supportImport),
	} {
		if _, err := yi.Eval(src); err != nil {
			return nil, fmt.Errorf("prelude %q: %w", src, err)
		}
	}
	for _, src := range cellPrelude {
		if _, err := yi.Eval(src); err != nil {
			return nil, fmt.Errorf("prelude %q: %w", src, err)
		}
	}
	return in, nil
}

// compileEnv, set to 0, makes the kernel leave numeric code to the
// interpreter (kernel/numcode compiles it otherwise).
const compileEnv = "GOPROC_COMPILE"

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// CellOutcome is the result of running one cell in the interpreter.
type CellOutcome struct {
	Result language.MimeBundle
	Err    *language.Error
}

// Run evaluates a cell. Cancelling ctx interrupts it; the state is kept.
// A cell of declarations that uses names no cell has declared yet waits
// for them (late.go).
func (in *Interpreter) Run(ctx context.Context, code string) CellOutcome {
	in.evalLock.Lock()
	defer in.evalLock.Unlock()
	if in.holdLate(code) {
		in.releaseLate(ctx) // it may complete a cycle of held cells
		return CellOutcome{}
	}
	if wrapped, ok := returningCell(code); ok {
		return in.run(ctx, wrapped)
	}
	out := in.run(ctx, code)
	if out.Err == nil {
		in.releaseLate(ctx)
	} else if in.holdFailed(code, out) {
		return CellOutcome{}
	}
	in.explainHeld(&out)
	return out
}

// run is Run of one cell, with evalLock held.
func (in *Interpreter) run(ctx context.Context, code string) (out CellOutcome) {
	in.mu.Lock()
	in.cellCtx = ctx
	in.result = nil
	in.deferred = nil
	in.cellPanic, in.pending = nil, nil
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		in.cellCtx = context.Background()
		in.mu.Unlock()
	}()
	defer func() {
		// The cell's defers see the panic that ended its code, as a
		// deferred recover in Go's main does; one that recovers it ends
		// the cell without an error.
		in.mu.Lock()
		panicked := out.Err != nil && out.Err.Name == "panic" && in.cellPanic != nil
		if panicked {
			in.pending = in.cellPanic
		}
		in.mu.Unlock()
		e := in.runDeferred()
		in.mu.Lock()
		recovered := panicked && in.pending == nil
		in.cellPanic, in.pending = nil, nil
		in.mu.Unlock()
		if recovered {
			out = CellOutcome{}
		}
		if e != nil && out.Err == nil {
			out = CellOutcome{Err: e}
		}
	}()

	// A cell go/types rejects never reaches the interpreter: it changes
	// nothing. One that ran, even in part, is the notebook's from now on.
	checked := in.typeCheck(code)
	if checked != nil && len(checked.Errors) > 0 {
		return CellOutcome{Err: typeError(code, checked.Errors)}
	}
	chunks, err := in.split(code)
	if err != nil {
		return CellOutcome{Err: compileError(code, err)}
	}
	in.mu.Lock()
	seq := in.mainSeq
	in.mu.Unlock()
	for i, ch := range chunks {
		if err := ctx.Err(); err != nil {
			in.commitCheck(checked, chunks, i)
			return CellOutcome{Err: interruptedError()}
		}
		id := in.rememberChunk(seq, code, ch)
		snap := in.snapshotScope(ch) // rollback.go
		if err := in.runChunk(ctx, code, ch, id); err != nil {
			ran := i // a chunk that failed to compile did not run
			if err.Name == "panic" || err.Name == "Interrupted" {
				ran = i + 1
			} else {
				snap.restore() // and leaves nothing behind
			}
			in.commitCheck(checked, chunks, ran)
			return CellOutcome{Err: err}
		}
	}
	in.commitCheck(checked, chunks, len(chunks))
	in.mu.Lock()
	res := in.result
	for _, d := range cell.Declarations(code) {
		in.decls[d.Name] = declInfo{Kind: d.Kind, Source: d.Signature, Doc: d.Doc}
	}
	in.mu.Unlock()
	return CellOutcome{Result: res}
}

func (in *Interpreter) runChunk(ctx context.Context, code string, ch cell.Chunk, id int) *language.Error {
	named := func(src string) string { return cell.WithChunkID(src, id) }
	switch {
	case len(ch.Imports) > 0:
		if _, err := in.eval(ctx, named(ch.Src)); err != nil {
			return in.describe(ctx, code, ch, id, err)
		}
		in.mu.Lock()
		for _, imp := range ch.Imports {
			in.imports[importKey(imp)] = true
		}
		in.mu.Unlock()
		in.remember(named(ch.Src))
		return nil
	case ch.Kind == cell.Decl:
		for _, t := range ch.Types {
			in.mu.Lock()
			old, seen := in.types[t.Name]
			in.mu.Unlock()
			if seen && old != t.Src {
				return &language.Error{
					Name:  "TypeRedefinition",
					Value: fmt.Sprintf("type %s was already declared with a different definition; the Go interpreter cannot change a type once declared", t.Name),
					Traceback: []string{
						fmt.Sprintf("TypeRedefinition: type %s was declared in an earlier cell as:", t.Name),
						"    " + old,
						"Restart the kernel to redefine it, or give the new type another name.",
					},
				}
			}
		}
		if decls, stmts, moved, ok := in.globalVars(ch); ok {
			return in.runGlobalVars(ctx, code, ch, id, decls, stmts, moved)
		}
		if _, err := in.eval(ctx, named(ch.Src)); err != nil {
			return in.describe(ctx, code, ch, id, err)
		}
		in.mu.Lock()
		for _, t := range ch.Types {
			in.types[t.Name] = t.Src
		}
		for _, name := range ch.Declares {
			if _, ok := in.decls[name]; !ok {
				in.decls[name] = declInfo{Kind: "decl"}
			}
		}
		in.mu.Unlock()
		in.remember(named(ch.Src))
		return nil
	default:
		if len(ch.Declares) == 0 && strings.Contains(ch.NoDisplay, "(") {
			// Statements that declare nothing and call something run
			// inside a function literal, so that what they compute on the
			// way is freed when they end: at the top level yaegi keeps
			// every intermediate value in its global frame for good (nine
			// cells printing len(make([]byte, 64<<20)) held 576 MiB). A
			// chunk without a call (`x`, `a + b`, `s[1:]`) allocates
			// nothing large and skips the closure's compile.
			named = func(src string) string { return cell.WithChunkID(inFunc(src), id) }
			in.mu.Lock()
			in.wrapped[id] = true
			in.mu.Unlock()
		}
		src := ch.Src
		if ch.Display {
			_, err := in.eval(ctx, named(src))
			if err == nil {
				in.declareStmtGlobals(ch.Declares, ch.NoDisplay)
				return nil
			}
			if !isCompileError(err) {
				if genericDefineFailure(err) {
					if e, ok := in.runStatements(ctx, code, ch, id); ok {
						return e
					}
				}
				return in.describe(ctx, code, ch, id, err)
			}
			ch = ch.WithoutDisplay()
			src = ch.Src
		}
		if _, err := in.eval(ctx, named(src)); err != nil {
			if genericDefineFailure(err) {
				if e, ok := in.runStatements(ctx, code, ch, id); ok {
					return e
				}
			}
			return in.describe(ctx, code, ch, id, err)
		}
		in.declareStmtGlobals(ch.Declares, ch.NoDisplay)
		return nil
	}
}

// inFunc wraps a statement chunk's source (";\n" then the statements) in
// func() { ... }(), keeping the statements' lines and columns. The leading
// ";" stays: yaegi v0.16.1 takes source that starts with "func" for
// declarations, and then runs the call again at the next cell's define.
func inFunc(src string) string {
	body, ok := strings.CutPrefix(src, ";\n")
	if !ok {
		return src
	}
	return ";func() {\n" + body + "}()\n"
}

// chunkRef is a chunk evaluated earlier, for placing a panic's frames.
type chunkRef struct {
	seq     int // the cell's evaluation number
	code    string
	ch      cell.Chunk
	current map[string]bool // what it declares that no later chunk redeclared
}

// rememberChunk records a chunk and returns its id (see cell.WithChunkID),
// or 0 if every id is taken. Only chunks that declare something can show up
// in a later cell's panic (a function, a method, a func value kept in a
// global), so only they are kept past their cell, and only until later
// chunks have redeclared all they declared (or repeated them: a cell run
// again). Ids go round: the line numbers that carry them are bounded, and a
// long session evaluates more chunks than there are ids.
func (in *Interpreter) rememberChunk(seq int, code string, ch cell.Chunk) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.chunks == nil {
		in.chunks = map[int]chunkRef{}
	}
	for id, r := range in.chunks {
		if r.seq == seq {
			continue
		}
		for _, n := range ch.Declares {
			delete(r.current, n)
		}
		superseded := len(r.ch.Declares) > 0 && len(r.current) == 0 || r.ch.Src == ch.Src
		if superseded || r.ch.Kind != cell.Decl && len(r.ch.Declares) == 0 {
			delete(in.chunks, id)
		}
	}
	id := in.lastChunk
	for range cell.MaxChunkID {
		if id++; id > cell.MaxChunkID {
			id = 1
		}
		if _, taken := in.chunks[id]; !taken {
			current := map[string]bool{}
			for _, n := range ch.Declares {
				current[n] = true
			}
			in.lastChunk = id
			in.chunks[id] = chunkRef{seq: seq, code: code, ch: ch, current: current}
			delete(in.wrapped, id)
			return id
		}
	}
	return 0
}

// describeFrame turns a frame yaegi printed ("300002:5: panic:
// main.f(...)", see cell.WithChunkID) into the function and where it is: a
// line and column of this cell, or the line of the earlier cell that
// declared it. code is "" for a frame of a child process (DescribeFrame):
// there is no chunk of its own then, and the running cell is "this cell".
func (in *Interpreter) describeFrame(frame, code string, ch cell.Chunk, id int) string {
	chunk, line, col, rest, ok := cell.MapFrame(frame)
	if !ok {
		return frame
	}
	rest = strings.TrimPrefix(rest, "panic: ")
	if code == "" && chunk == 0 {
		return rest
	}
	if chunk == 0 || chunk == id {
		cl, cc := ch.CellPos(line, col)
		return fmt.Sprintf("%s  (line %d, column %d)", rest, cl, cc)
	}
	in.mu.Lock()
	ref, known := in.chunks[chunk]
	cur := in.mainSeq
	in.mu.Unlock()
	if !known || !mayDeclare(ref.ch.Src, rest, line, col) {
		// Unknown, or the id now names another chunk (ids go round):
		// better no place than a wrong one.
		return rest
	}
	cl, cc := ref.ch.CellPos(line, col)
	if ref.seq == cur && (code == "" || ref.code == code) {
		return fmt.Sprintf("%s  (line %d, column %d)", rest, cl, cc)
	}
	src := ""
	if lines := strings.Split(ref.code, "\n"); cl >= 1 && cl <= len(lines) {
		src = ": " + strings.TrimSpace(lines[cl-1])
	}
	return fmt.Sprintf("%s  (declared in an earlier cell, its line %d%s)", rest, cl, src)
}

// unwrapFrame describes a frame of a panic in the running cell, as if the
// chunks run in a function literal (inFunc) had run at the top level: the
// literal's own call is no frame (false), and the functions in such a chunk
// lose the literal's level of nesting ("main.func(...)" is the cell's top
// level, "main.func.func(...)" a literal in it).
func (in *Interpreter) unwrapFrame(f, code string, ch cell.Chunk, id int) (string, bool) {
	chunk, line, _, _, ok := cell.MapFrame(f)
	in.mu.Lock()
	wrapped := ok && in.wrapped[chunk]
	inWrapped := in.wrapped[id]
	in.mu.Unlock()
	if ok && chunk == 0 && line == 1 && inWrapped {
		return "", false // the call of the running chunk's literal
	}
	d := in.describeFrame(f, code, ch, id)
	if rest, found := strings.CutPrefix(d, "main.func"); wrapped && found {
		d = "main" + rest
	}
	return d, true
}

// mayDeclare reports whether chunk source src can hold the function of a
// frame yaegi printed at line, col of the chunk: "main.boom(...)" (src
// declares func boom or a method boom), "main.func(...)" (a function literal
// starts there).
func mayDeclare(src, frame string, line, col int) bool {
	name, _, _ := strings.Cut(frame, "(")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || name == "func" {
		// yaegi places a literal's frame on its line, at or after "func";
		// placeFrames inside its body.
		lines := strings.Split(src, "\n")
		if line < 1 || line > len(lines) || col < 1 {
			return false
		}
		l := lines[line-1]
		if _, lit, _ := enclosingBody(src, line, col); lit {
			return true
		}
		return strings.Contains(l[:min(len(l), col+3)], "func")
	}
	re, err := regexp.Compile(`\bfunc\s*(\([^)]*\)\s*)?` + regexp.QuoteMeta(name) + `\s*[\[(]`)
	return err == nil && re.MatchString(src)
}

// CaptureFrames implements the multiprocessing worker's frame capture: it
// runs f (a call into notebook code) and returns the lines yaegi wrote for
// the interpreted frames of a panic in it, instead of printing them.
func (in *Interpreter) CaptureFrames(f func()) []string {
	in.stderr.startCapture()
	defer in.stderr.stopCapture()
	f()
	return in.stderr.frames()
}

// DescribeFrame says where in the notebook a frame line from a child
// process ("300002:5: panic: main.f(...)") is; other lines come back as
// they are.
func (in *Interpreter) DescribeFrame(line string) string {
	if !frameRE().MatchString(line) {
		return line
	}
	return in.describeFrame(line, "", cell.Chunk{}, -1)
}

func (in *Interpreter) remember(src string) {
	in.mu.Lock()
	in.program = append(in.program, src)
	in.mu.Unlock()
}

// declareStmtGlobals records, for children, a declaration of each global a
// top-level statement created (x := ...), so that functions using it compile
// when the notebook is rebuilt; the value itself travels with Globals. src
// is the statements' source: a global whose type reflect cannot spell (one
// of the notebook's types, which yaegi gives reflect as an unnamed struct)
// takes the type its composite literal shows (x := T{...}, &T{...}).
func (in *Interpreter) declareStmtGlobals(names []string, src string) {
	if len(names) == 0 {
		return
	}
	globals := in.safeGlobals()
	var shown map[string]string
	for _, name := range names {
		v, ok := globals[name]
		if !ok || !v.IsValid() {
			continue
		}
		t := typeSource(v.Type())
		if t == "" || v.Kind() == reflect.Struct || v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
			if shown == nil {
				shown = literalTypes(src)
			}
			if lt := shown[name]; lt != "" {
				t = lt
			}
		}
		if t != "" {
			in.remember("\nvar " + name + " " + t)
		}
	}
}

// literalTypes returns, for each name a top-level define of the statements
// src gives a composite literal (x := T{...}, x := &T{...}), the literal's
// type as written.
func literalTypes(src string) map[string]string {
	const head = "package p; func _() {"
	body := strings.TrimPrefix(src, ";")
	f, err := parser.ParseFile(token.NewFileSet(), "", head+body+"\n}", parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return nil
	}
	fd, ok := f.Decls[0].(*ast.FuncDecl)
	if !ok || fd.Body == nil {
		return nil
	}
	text := head + body
	spell := func(e ast.Expr) string {
		star := ""
		if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
			star, e = "*", u.X
		}
		if cl, ok := e.(*ast.CompositeLit); ok && cl.Type != nil {
			from, to := int(cl.Type.Pos())-1, int(cl.Type.End())-1
			if from >= 0 && to <= len(text) && from < to {
				return star + text[from:to]
			}
		}
		return ""
	}
	out := map[string]string{}
	for _, st := range fd.Body.List {
		as, ok := st.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE || len(as.Lhs) != len(as.Rhs) {
			continue
		}
		for i, l := range as.Lhs {
			if id, ok := l.(*ast.Ident); ok {
				out[id.Name] = spell(as.Rhs[i])
			}
		}
	}
	return out
}

// typeSource spells t as Go source when it can be named from cells: built-in
// and standard-library types and composites of them.
func typeSource(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name()
		}
		if strings.Contains(t.PkgPath(), "/") && !strings.HasPrefix(t.PkgPath(), "github.com/goproc/") {
			return "" // not reachable by its short name with certainty
		}
		return t.String()
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any" // []any{"A", 5}
		}
	case reflect.Pointer:
		if e := typeSource(t.Elem()); e != "" {
			return "*" + e
		}
	case reflect.Slice:
		if e := typeSource(t.Elem()); e != "" {
			return "[]" + e
		}
	case reflect.Array:
		if e := typeSource(t.Elem()); e != "" {
			return fmt.Sprintf("[%d]%s", t.Len(), e)
		}
	case reflect.Map:
		k, e := typeSource(t.Key()), typeSource(t.Elem())
		if k != "" && e != "" {
			return "map[" + k + "]" + e
		}
	}
	return ""
}

// eval runs one Eval, turning a panic that escapes yaegi into an error.
func (in *Interpreter) eval(ctx context.Context, src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &internalError{value: r, stack: debug.Stack()}
		}
	}()
	if err := in.std.ensureImports(src); err != nil {
		return reflect.Value{}, err
	}
	if cell.UsesMinMax(src) {
		in.minMax.Do(func() {
			if _, err := in.yi.Eval(cell.MinMaxPrelude); err != nil {
				in.minMaxErr = fmt.Errorf("the helpers behind min and max: %w", err)
			}
		})
		if in.minMaxErr != nil {
			return reflect.Value{}, in.minMaxErr
		}
	}
	in.stderr.startCapture()
	defer in.stderr.stopCapture()
	v, err = in.yi.EvalWithContext(ctx, src)
	var p interp.Panic
	if errors.As(err, &p) && !compilePhase(p.Stack) {
		// A panic of the cell's code, not yaegi's compiler crashing.
		in.mu.Lock()
		in.cellPanic = &p.Value
		in.mu.Unlock()
	}
	return v, err
}

type internalError struct {
	value any
	stack []byte
}

func (e *internalError) Error() string { return fmt.Sprint(e.value) }

func isCompileError(err error) bool {
	var p interp.Panic
	if errors.As(err, &p) {
		return false
	}
	var ie *internalError
	if errors.As(err, &ie) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return true
}

func interruptedError() *language.Error {
	return &language.Error{
		Name:      "Interrupted",
		Value:     "the cell was interrupted; the notebook's variables are kept",
		Traceback: []string{"Interrupted: the cell was interrupted; the notebook's variables are kept"},
	}
}

// describe turns an Eval error into a protocol error in the cell's own
// coordinates.
func (in *Interpreter) describe(ctx context.Context, code string, ch cell.Chunk, id int, err error) *language.Error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return interruptedError()
	}
	var p interp.Panic
	if errors.As(err, &p) && compilePhase(p.Stack) {
		return in.interpreterCrash(fmt.Sprint(p.Value), ch, id)
	}
	if errors.As(err, &p) {
		msg := cell.PanicMessage(fmt.Sprint(p.Value))
		frames := in.placeFrames(in.stderr.frames(), ch, id, msg)
		tb := []string{"panic: " + msg, "", "goroutine running the cell (most recent call first):"}
		for _, f := range frames {
			if d, ok := in.unwrapFrame(f, code, ch, id); ok {
				tb = append(tb, "    "+d)
			}
		}
		return &language.Error{Name: "panic", Value: msg, Traceback: tb}
	}
	var ie *internalError
	if errors.As(err, &ie) {
		return in.interpreterCrash(ie.Error(), ch, id)
	}
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		l, c := ch.CellPos(e.Pos.Line, e.Pos.Column)
		return sourceError("SyntaxError", code, l, c, e.Msg)
	}
	msg := err.Error()
	if line, col, rest, ok := cell.MapError(msg); ok {
		l, c := ch.CellPos(line, col)
		e := sourceError("CompileError", code, l, c, rest)
		switch {
		case strings.HasPrefix(rest, "undefined type for "):
			e.Traceback = append(e.Traceback,
				"The Go interpreter (yaegi v0.16.1) could not infer the type arguments of a generic",
				"function call here. Write them out, e.g. slices.Concat[int](a, b), or pass arguments",
				"whose types name the type parameter directly.")
		case strings.HasSuffix(rest, "definition loop") && strings.Contains(ch.Src, "]("):
			e.Traceback = append(e.Traceback, topLevelGenericHint...)
		}
		return e
	}
	return &language.Error{Name: "CompileError", Value: msg, Traceback: []string{"CompileError: " + msg}}
}

// compilePhase reports whether a panic's stack shows yaegi compiling the
// chunk rather than running it.
func compilePhase(stack []byte) bool {
	st := string(stack)
	return !strings.Contains(st, "interp.runCfg") &&
		(strings.Contains(st, "interp.(*Interpreter).compileSrc") || strings.Contains(st, "interp.(*Interpreter).CompileAST"))
}

// topLevelGenericHint explains yaegi's failure to type a global declared
// from a generic function's result.
var topLevelGenericHint = []string{
	"A known trigger is a variable declared at the top level of a cell from a generic",
	"function's result, as in `m := slices.Max(xs)`. Give the variable its type first",
	"(`var m int` then `m = slices.Max(xs)`), or do the work inside a function.",
}

// interpreterCrash describes a panic inside yaegi itself.
func (in *Interpreter) interpreterCrash(msg string, ch cell.Chunk, id int) *language.Error {
	if chunk, line, col, rest, ok := cell.MapFrame(msg); ok && line > 0 && (chunk == id || chunk == 0) {
		// A position in the chunk being compiled: say it in the cell's.
		l, c := ch.CellPos(line, col)
		msg = fmt.Sprintf("line %d, column %d: %s", l, c, rest)
	}
	tb := []string{
		"InterpreterError: the Go interpreter (yaegi v0.16.1) crashed on this cell: " + msg,
		"This is a limitation of the interpreter, not an error in your code; the notebook's state is kept.",
	}
	if name := in.inferredGenericCall(ch.Src); name != "" {
		tb = append(tb, fmt.Sprintf("yaegi often cannot infer the type arguments of a call to the generic function %s: write them out, as in %s[int](...).", name, name))
	} else if strings.Contains(ch.Src, ":=") || strings.Contains(ch.Src, "var ") {
		tb = append(tb, topLevelGenericHint...)
	} else {
		tb = append(tb, "Rewriting the construct (for example moving it into a function) usually avoids it.")
	}
	return &language.Error{Name: "InterpreterError", Value: "the Go interpreter (yaegi) crashed on this cell: " + msg, Traceback: tb}
}

// inferredGenericCall returns the name of a generic function declared in
// the notebook that src calls without type arguments, or "".
func (in *Interpreter) inferredGenericCall(src string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var found []string
	for name, d := range in.decls {
		if strings.HasPrefix(d.Source, "func "+name+"[") && callsWithoutTypeArgs(src, name) {
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		return ""
	}
	slices.Sort(found)
	return found[0]
}

// callsWithoutTypeArgs reports whether src contains name( not preceded by
// a letter, digit, "_" or ".".
func callsWithoutTypeArgs(src, name string) bool {
	for i := 0; ; {
		j := strings.Index(src[i:], name+"(")
		if j < 0 {
			return false
		}
		j += i
		if j == 0 || !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", rune(src[j-1])) {
			return true
		}
		i = j + len(name)
	}
}

// sourceError builds an error that shows the cell line and a caret.
func sourceError(name, code string, line, col int, msg string) *language.Error {
	lines := strings.Split(code, "\n")
	tb := []string{fmt.Sprintf("%s: line %d, column %d: %s", name, line, col, msg)}
	if line >= 1 && line <= len(lines) {
		src := strings.ReplaceAll(lines[line-1], "\t", "    ")
		prefix := []rune(lines[line-1])
		if col-1 <= len(prefix) && col >= 1 {
			prefix = prefix[:col-1]
		}
		caret := len([]rune(strings.ReplaceAll(string(prefix), "\t", "    ")))
		tb = append(tb, fmt.Sprintf("%4d | %s", line, src), "     | "+strings.Repeat(" ", caret)+"^")
	}
	return &language.Error{Name: name, Value: fmt.Sprintf("line %d:%d: %s", line, col, msg), Traceback: tb}
}

func compileError(code string, err error) *language.Error {
	if se, ok := asSyntaxError(err); ok {
		return sourceError("SyntaxError", code, se.Line, se.Col, se.Msg)
	}
	return &language.Error{Name: "SyntaxError", Value: err.Error(), Traceback: []string{"SyntaxError: " + err.Error()}}
}

// deferredCall is a defer of a cell's own code (see cell: cellDefers).
type deferredCall struct {
	fn   reflect.Value
	args []reflect.Value
}

// deferCall is __goproc.Defer: it records fn(args...) for the end of the
// running cell. fn and args were evaluated at the defer, as in Go.
func (in *Interpreter) deferCall(fn any, args ...any) {
	d := deferredCall{fn: reflect.ValueOf(fn)}
	for i, a := range args {
		v := reflect.ValueOf(a)
		if !v.IsValid() { // a nil argument: the parameter's zero value
			t := d.fn.Type()
			var pt reflect.Type
			switch {
			case t.IsVariadic() && i >= t.NumIn()-1:
				pt = t.In(t.NumIn() - 1).Elem()
			case i < t.NumIn():
				pt = t.In(i)
			default:
				pt = reflect.TypeOf((*any)(nil)).Elem()
			}
			v = reflect.Zero(pt)
		}
		d.args = append(d.args, v)
	}
	in.mu.Lock()
	in.deferred = append(in.deferred, d)
	in.mu.Unlock()
}

// recoverCall is __goproc.Recover, what recover() becomes in a function
// literal the cell defers: the panic that ended the cell's code, once, or
// nil.
func (in *Interpreter) recoverCall() any {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.pending == nil {
		return nil
	}
	v := *in.pending
	in.pending = nil
	if rv, ok := v.(reflect.Value); ok && rv.IsValid() && rv.CanInterface() {
		v = rv.Interface() // a notebook value yaegi panicked with
	}
	return v
}

// runDeferred runs the cell's defers, last first, and reports the first
// that panics (the others still run).
func (in *Interpreter) runDeferred() *language.Error {
	in.mu.Lock()
	ds := in.deferred
	in.deferred = nil
	in.mu.Unlock()
	if len(ds) == 0 {
		return nil
	}
	var first *language.Error
	for i := len(ds) - 1; i >= 0; i-- {
		in.stderr.startCapture()
		func() {
			defer func() {
				r := recover()
				frames := in.stderr.frames()
				in.stderr.stopCapture()
				if r != nil && first == nil {
					msg := cell.PanicMessage(fmt.Sprint(r))
					tb := []string{"panic: " + msg, "", "function the cell deferred (most recent call first):"}
					for _, f := range frames {
						tb = append(tb, "    "+in.describeFrame(f, "", cell.Chunk{}, -1))
					}
					first = &language.Error{Name: "panic", Value: msg, Traceback: tb}
				}
			}()
			if !ds[i].fn.IsValid() || ds[i].fn.Kind() != reflect.Func {
				panic(fmt.Sprintf("defer of %v, which is not a function", ds[i].fn))
			}
			ds[i].fn.Call(ds[i].args)
		}()
	}
	return first
}

// display is the hook a cell's trailing expression is wrapped in.
func (in *Interpreter) display(v ...any) {
	var bundle language.MimeBundle
	switch len(v) {
	case 0:
		return
	case 1:
		if v[0] == nil {
			// A cell ending in p.Join() or pool.Close() returns a nil
			// error: like Python's None, it is not shown.
			return
		}
		bundle = render(v[0])
	default:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = plainText(x)
		}
		bundle = language.MimeBundle{"text/plain": strings.Join(parts, " ")}
	}
	in.mu.Lock()
	in.result = bundle
	in.mu.Unlock()
}

// --- multiprocessing host ---------------------------------------------------

// Program implements multiprocessing.Host.
func (in *Interpreter) Program() multiprocessing.Program {
	in.mu.Lock()
	defer in.mu.Unlock()
	return multiprocessing.Program{Chunks: append([]string(nil), in.program...)}
}

// Globals implements multiprocessing.Host: every global that JSON can carry.
func (in *Interpreter) Globals() map[string]json.RawMessage { return in.globalsJSON(nil) }

// GlobalsFor implements the multiprocessing host's narrower Globals: only
// the globals the function fn can reach, declaration by declaration (see
// replay.go). The child cannot observe the others; encoding a
// million-element slice no target reads cost every Start a quarter of a
// second.
func (in *Interpreter) GlobalsFor(fn string) map[string]json.RawMessage {
	in.mu.Lock()
	for i := len(in.progIndex); i < len(in.program); i++ {
		in.progIndex = append(in.progIndex, newReplayChunk(in.program[i]))
	}
	chunks := in.progIndex
	in.mu.Unlock()
	return in.globalsJSON(reachableNames(chunks, fn))
}

// globalsJSON encodes the globals JSON can carry, those in only if it is
// not nil.
func (in *Interpreter) globalsJSON(only map[string]bool) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, v := range in.safeGlobals() {
		if strings.HasPrefix(name, "__") || !v.IsValid() || (only != nil && !only[name]) {
			continue
		}
		switch v.Kind() {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			continue
		}
		if !v.CanInterface() {
			continue
		}
		// typedjson keeps the types of values in interfaces ([]any{5}
		// arrives an int, not a float64).
		b, err := typedjson.Marshal(v)
		if err != nil {
			continue
		}
		out[name] = b
	}
	return out
}

// SetProbing implements multiprocessing.Host.
func (in *Interpreter) SetProbing(on bool) {
	if v, ok := in.safeGlobals()[probingVar]; ok && v.CanSet() {
		v.SetBool(on)
	}
}

// CellContext implements multiprocessing.Host.
func (in *Interpreter) CellContext() context.Context {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cellCtx
}

// --- multiprocessing rebuilder (worker side) --------------------------------

// SetGlobals implements multiprocessing.Rebuilder. Globals whose chunks are
// not evaluated yet get their values when they are (see ensureDeclared).
func (in *Interpreter) SetGlobals(values map[string]json.RawMessage) error {
	in.replay.mu.Lock()
	if in.replay.globals == nil {
		in.replay.globals = map[string]json.RawMessage{}
	}
	for n, v := range values {
		in.replay.globals[n] = v
	}
	in.replay.mu.Unlock()
	return in.setGlobals(values)
}

// setGlobals assigns the globals that exist their values.
func (in *Interpreter) setGlobals(values map[string]json.RawMessage) error {
	globals := in.safeGlobals()
	var failed []string
	for name, raw := range values {
		v, ok := globals[name]
		if !ok || !v.CanSet() {
			continue
		}
		ptr := reflect.New(v.Type())
		if err := typedjson.Unmarshal(raw, ptr.Elem()); err != nil {
			// An interface global (err error, x fmt.Stringer) holding a
			// value JSON cannot rebuild starts as nil, as it does in a fresh
			// program; warning about every err left over from an earlier
			// cell would only be noise.
			if v.Kind() != reflect.Interface {
				failed = append(failed, name)
			}
			continue
		}
		v.Set(ptr.Elem())
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return fmt.Errorf("could not restore globals %s in the child", strings.Join(failed, ", "))
	}
	return nil
}

// Func implements multiprocessing.Rebuilder: a notebook function by name, or
// a standard-library function as "pkg.Name".
func (in *Interpreter) Func(name string) (reflect.Value, error) {
	if i := strings.LastIndex(name, "."); i > 0 {
		pkgPath, sym := name[:i], name[i+1:]
		if _, syms := in.std.table(pkgPath); syms != nil {
			if f, ok := syms[sym]; ok && f.Kind() == reflect.Func {
				return f, nil
			}
		}
		return reflect.Value{}, fmt.Errorf("no standard-library function %s", name)
	}
	if err := in.ensureDeclared(name); err != nil {
		return reflect.Value{}, err
	}
	v, err := in.eval(context.Background(), name)
	if err != nil {
		return reflect.Value{}, fmt.Errorf("function %s is not defined in the notebook: %w", name, err)
	}
	if v.Kind() != reflect.Func {
		return reflect.Value{}, fmt.Errorf("%s is not a function", name)
	}
	return v, nil
}

// --- stdin and stderr plumbing ---------------------------------------------

// stdinReader is what cells read as os.Stdin and what fmt.Scan reads: each
// read that finds no buffered input asks the user for a line.
type stdinReader struct {
	mu  sync.Mutex
	ask func(prompt string, password bool) (string, error)
	buf bytes.Buffer
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buf.Len() == 0 {
		if r.ask == nil {
			return 0, io.EOF
		}
		line, err := r.ask("", false)
		if err != nil {
			return 0, err
		}
		r.buf.WriteString(line)
		r.buf.WriteByte('\n')
	}
	return r.buf.Read(p)
}

// stderrFilter passes yaegi's stderr through, except the lines yaegi writes
// for each interpreted frame of a panic, which become the traceback.
type stderrFilter struct {
	w         io.Writer
	mu        sync.Mutex
	capturing bool
	captured  []string
}

var frameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:_\.go:)?\d+:\d+: panic: `) })

func (f *stderrFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.capturing {
		s := strings.TrimRight(string(p), "\n")
		if frameRE().MatchString(s) && !strings.Contains(s, "\n") {
			f.captured = append(f.captured, s)
			f.mu.Unlock()
			return len(p), nil
		}
	}
	f.mu.Unlock()
	return f.w.Write(p)
}

func (f *stderrFilter) startCapture() {
	f.mu.Lock()
	f.capturing, f.captured = true, nil
	f.mu.Unlock()
}

func (f *stderrFilter) stopCapture() {
	f.mu.Lock()
	f.capturing = false
	f.mu.Unlock()
}

func (f *stderrFilter) frames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.captured...)
}
