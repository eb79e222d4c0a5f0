package modules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestImports(t *testing.T) {
	src := "import (\n" +
		"\t\"fmt\"\n" +
		"\tst \"gonum.org/v1/gonum/stat\"\n" +
		"\t. \"example.com/dot\"\n" +
		"\t_ \"example.com/blank\"\n" +
		"\t\"multiprocessing\"\n" +
		"\t\"github.com/goproc/goproc/runtime/display\"\n" +
		")\n" +
		"import `gonum.org/v1/plot`\n" +
		"// import \"example.com/in/a/comment\"\n" +
		"s := \"import \\\"example.com/in/a/string\\\"\"\n" +
		"%go get example.com/x@v1\n" +
		"!echo import \"example.com/shell\"\n"
	got := Imports(src)
	want := []string{"gonum.org/v1/gonum/stat", "example.com/dot", "example.com/blank", "gonum.org/v1/plot"}
	if !slices.Equal(got, want) {
		t.Errorf("Imports = %q, want %q", got, want)
	}
}

func TestIsModulePath(t *testing.T) {
	for p, want := range map[string]bool{
		"fmt": false, "net/http": false, "multiprocessing": false, "display": false,
		"github.com/goproc/goproc/runtime/grade": false,
		"gonum.org/v1/gonum/stat":                true, "example.com/greet": true, "gopkg.in/yaml.v3": true,
	} {
		if got := IsModulePath(p); got != want {
			t.Errorf("IsModulePath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestNotebookMod(t *testing.T) {
	if !isNotebookMod([]byte("// pins\nmodule notebook\n\ngo 1.26\n")) {
		t.Error("goproc's pins not recognised")
	}
	if isNotebookMod([]byte("module github.com/someone/project\n")) {
		t.Error("a project's go.mod taken for pins")
	}
	if v := languageVersion("go1.26.8"); v != "1.26" {
		t.Errorf("languageVersion = %q", v)
	}
}

func TestNoToolchain(t *testing.T) {
	b := &Builder{Go: "/nonexistent/go", Dir: t.TempDir(), Cache: t.TempDir()}
	_, err := b.Build(context.Background(), []string{"example.com/greet"}, nil)
	if !errors.Is(err, ErrNoToolchain) {
		t.Fatalf("Build without a toolchain: %v, want ErrNoToolchain", err)
	}
	for _, want := range []string{"install Go", "goproc install --with"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

func TestPruneKeepsTheMostRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	used := map[string]time.Time{
		"e0": now,
		"e1": now.Add(-time.Minute),
		"e2": now.Add(-time.Hour), // beyond keep, but used lately: a kernel may run on it
		"e3": now.Add(-pruneAfter - time.Hour),
		"e4": now.Add(-pruneAfter - 2*time.Hour),
	}
	for name, at := range used {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		m := filepath.Join(d, manifestName)
		if err := os.WriteFile(m, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(m, at, at); err != nil {
			t.Fatal(err)
		}
	}
	prune(dir, 2)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"e0", "e1", "e2"}) {
		t.Fatalf("left %v, want [e0 e1 e2]: the two most recent, and any used within %v", left, pruneAfter)
	}
}
