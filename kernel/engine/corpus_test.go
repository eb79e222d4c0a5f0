package engine

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Go programs written by others, run as notebooks: one cell holding the
// whole program, and one cell per top-level declaration with main's body
// last (the way notebook users write a program). Both must print what the
// program prints under go run.

// programCells returns the cells of a Go program: the whole source as one
// cell (split false), or its imports, then one cell per top-level
// declaration (with its doc comment) in source order, then main's body.
func programCells(src string, split bool) ([]string, error) {
	if !split {
		return []string{src}, nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var cells []string
	var body string
	for _, d := range f.Decls {
		start := d.Pos()
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			if d.Recv == nil && d.Name.Name == "main" && d.Body != nil {
				b := src[off(d.Body.Lbrace)+1 : off(d.Body.Rbrace)]
				body = dedent(b)
				continue
			}
		case *ast.GenDecl:
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
		}
		cells = append(cells, src[off(start):off(d.End())])
	}
	if strings.TrimSpace(body) != "" {
		cells = append(cells, body)
	}
	return cells, nil
}

// dedent removes one tab from the start of every line of a function body.
func dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// runProgramCells runs cells in a fresh interpreter and returns what they
// printed, followed by the first cell error, if any.
func runProgramCells(t *testing.T, cells []string) string {
	in, out := newTestInterpreter(t)
	for i, c := range cells {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		o := in.Run(ctx, c)
		cancel()
		if o.Err != nil {
			return out.all() + fmt.Sprintf("\n[cell %d of %d failed] %s: %s\n", i+1, len(cells), o.Err.Name, o.Err.Value)
		}
		if o.Result != nil {
			// A program prints; a trailing expression's result is no output.
			_ = o.Result
		}
	}
	return out.all()
}

// expectedOutput is what a program prints under go run: the file's .out
// companion, or its trailing // Output: comment (yaegi's _test programs).
func expectedOutput(path string) (string, bool) {
	if b, err := os.ReadFile(strings.TrimSuffix(path, ".go") + ".out"); err == nil {
		return string(b), true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	src := string(b)
	i := strings.LastIndex(src, "\n// Output:\n")
	if i < 0 {
		return "", false
	}
	var lines []string
	for _, l := range strings.Split(src[i+len("\n// Output:\n"):], "\n") {
		if l == "//" {
			lines = append(lines, "")
			continue
		}
		rest, ok := strings.CutPrefix(l, "// ")
		if !ok {
			break
		}
		lines = append(lines, rest)
	}
	return strings.Join(lines, "\n"), true
}

func sameOutput(got, want string) bool {
	norm := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t")
		}
		return strings.Join(lines, "\n")
	}
	return norm(got) == norm(want)
}

// TestCorpusChild runs one program of TestCorpus in this process (a child
// of the test binary, so that a program that crashes the process is one
// failure).
func TestCorpusChild(t *testing.T) {
	path := os.Getenv("GOPROC_CORPUS_PROGRAM")
	if path == "" {
		t.Skip("run by TestCorpus")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if os.Getenv("GOPROC_CORPUS_SPLIT") == "yaegi" {
		got = runPlainYaegi(t, string(src))
	} else {
		cells, err := programCells(string(src), os.Getenv("GOPROC_CORPUS_SPLIT") == "1")
		if err != nil {
			t.Fatal(err)
		}
		got = runProgramCells(t, cells)
	}
	if err := os.WriteFile(os.Getenv("GOPROC_CORPUS_OUT"), []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runPlainYaegi runs a program in yaegi alone, as one Eval, to compare.
func runPlainYaegi(t *testing.T, src string) string {
	out := newCellOutput(t)
	i := interp.New(interp.Options{Stdout: out.f, Stderr: out.f, Unrestricted: true})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint("\n[yaegi panicked] ", r)
			}
		}()
		if _, err := i.Eval(src); err != nil {
			msg = "\n[yaegi failed] " + err.Error()
		}
	}()
	return out.all() + msg
}

// TestCorpus runs the programs in $GOPROC_CORPUS (*.go with expected
// output, see expectedOutput) as one cell, as a cell per declaration and
// in plain yaegi, and reports the counts. Each run is a child process of
// the test binary.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("GOPROC_CORPUS")
	if dir == "" {
		t.Skip("set GOPROC_CORPUS to a directory of Go programs")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	sort.Strings(paths)
	type result struct{ one, split, plain bool }
	results := make([]result, len(paths))
	outs := make([][2]string, len(paths))
	runOne := func(path string, sp string) string {
		outFile := filepath.Join(t.TempDir(), "out")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCorpusChild$")
		cmd.Env = append(os.Environ(), "GOPROC_TEST_BINARY="+testBinary, "GOPROC_CORPUS_PROGRAM="+path, "GOPROC_CORPUS_SPLIT="+sp, "GOPROC_CORPUS_OUT="+outFile)
		msg, err := cmd.CombinedOutput()
		b, rerr := os.ReadFile(outFile)
		if rerr != nil {
			return fmt.Sprintf("[process failed: %v]\n%s", err, lastLines(string(msg), 5))
		}
		return string(b)
	}
	var wg sync.WaitGroup
	sem := make(chan bool, 2)
	var skipped int
	for i, p := range paths {
		want, ok := expectedOutput(p)
		if !ok {
			skipped++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- true
			defer func() { <-sem }()
			o1 := runOne(p, "0")
			o2 := runOne(p, "1")
			o3 := runOne(p, "yaegi")
			results[i] = result{sameOutput(o1, want), sameOutput(o2, want), sameOutput(o3, want)}
			outs[i] = [2]string{o1, o2}
		}()
	}
	wg.Wait()
	var one, split, lost, plain, plainOnly int
	for i, p := range paths {
		r := results[i]
		if r.one {
			one++
		}
		if r.split {
			split++
		}
		if r.plain {
			plain++
		}
		if r.plain && !r.one {
			plainOnly++
			t.Logf("plain yaegi only: %s\n%s", filepath.Base(p), lastLines(outs[i][0], 2))
		} else if !r.one {
			t.Logf("one cell fails: %s\n%s", filepath.Base(p), lastLines(outs[i][0], 2))
		}
		if r.one && !r.split {
			lost++
			t.Logf("split only fails: %s\n%s", filepath.Base(p), lastLines(outs[i][1], 3))
		}
	}
	t.Logf("%d programs (%d without expected output skipped): one cell %d pass, cell per declaration %d pass, %d pass as one cell only; plain yaegi %d pass, %d of them fail as one cell", len(paths)-skipped, skipped, one, split, lost, plain, plainOnly)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestProgramsCellPerDeclaration runs the programs in testdata/programs
// (written for goproc, in the style of public Go examples) as one cell and
// as a cell per declaration with main's body last: both print what go run
// prints (the // Output: comment).
func TestProgramsCellPerDeclaration(t *testing.T) {
	paths, _ := filepath.Glob("testdata/programs/*.go")
	if len(paths) == 0 {
		t.Fatal("no programs")
	}
	for _, p := range paths {
		want, ok := expectedOutput(p)
		if !ok {
			t.Fatalf("%s has no // Output:", p)
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, split := range []bool{false, true} {
			cells, err := programCells(string(src), split)
			if err != nil {
				t.Fatal(err)
			}
			if got := runProgramCells(t, cells); !sameOutput(got, want) {
				t.Errorf("%s (cell per declaration: %v):\n%s\nwant:\n%s", filepath.Base(p), split, got, want)
			}
		}
	}
}
