package modules

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
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
