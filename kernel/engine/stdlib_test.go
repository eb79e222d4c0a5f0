package engine

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goproc/goproc/kernel/stdsyms"
)

// The standard library loads package by package; a cell must not notice.
func TestStdlibLoadsOnImport(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in, err := NewInterpreter(Config{
		Stdout: w, Stderr: w, Args: []string{"nb", "-v"},
		Input: func(string, bool) (string, error) { return "41", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.std.loaded["strings/strings"] {
		t.Fatal("strings loaded before any cell imported it")
	}
	ctx := context.Background()
	mustRunCell(t, in, "import (\n\t\"fmt\"\n\t\"os\"\n)")
	mustRunCell(t, in, "type T struct{}\nfunc (T) String() string { return \"stringer\" }")
	// fmt.Println of an interpreted Stringer goes through the wrapper yaegi
	// needs (the MapTypes of the replaced fmt functions).
	mustRunCell(t, in, `fmt.Println(T{}, len(os.Args), os.Args[1])`)
	mustRunCell(t, in, "var n int\nfmt.Scan(&n)\nfmt.Println(n + 1)")
	mustRunCell(t, in, "import \"strings\"\nfmt.Println(strings.Repeat(\"ab\", 2))")
	if !in.std.loaded["strings/strings"] {
		t.Fatal("strings not marked loaded after its import")
	}
	mustRunCell(t, in, "import \"slices\"\nfmt.Println(slices.Contains([]int{1, 2}, 2))")
	mustRunCell(t, in, "import \"math/rand/v2\"\nfmt.Println(rand.IntN(1))")
	mustRunCell(t, in, "import \"math/bits\"\nfmt.Println(bits.UintSize)")
	if o := in.Run(ctx, `import "no/such/package"`); o.Err == nil {
		t.Fatal("importing an unknown package: no error")
	}
	w.Close()
	b, _ := io.ReadAll(r)
	want := "stringer 2 -v\n42\nabab\ntrue\n0\n64\n"
	if got := string(b); !strings.HasPrefix(got, want) {
		t.Fatalf("output %q, want prefix %q", got, want)
	}
}

// A notebook's own value, or nil, passed where a standard function takes an
// interface from a package the notebook did not import (io, for these)
// crashed the interpreter: yaegi wraps it in a type from that package's
// table, which was not loaded.
func TestInterpretedValuesInStdInterfaces(t *testing.T) {
	for _, c := range []struct{ name, code, want string }{
		{"fmt.Fprintln to a notebook io.Writer", `import "fmt"
type counter struct{ n int }
func (c *counter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
w := &counter{}
fmt.Fprintln(w, "hello")
fmt.Println(w.n)`, "6\n"},
		{"http.NewRequest with a nil body", `import ("fmt"; "net/http")
req, err := http.NewRequest("GET", "/path", nil)
fmt.Println(req.URL.Path, err)`, "/path <nil>\n"},
		{"bufio.Scanner over a notebook io.Reader", `import ("bufio"; "errors"; "fmt")
type once struct{ done bool }
func (r *once) Read(p []byte) (int, error) {
	if r.done {
		return 0, errors.New("EOF")
	}
	r.done = true
	return copy(p, "a\nb\n"), nil
}
sc := bufio.NewScanner(&once{})
for sc.Scan() {
	fmt.Print(sc.Text())
}
fmt.Println()`, "ab\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, out := newTestInterpreter(t)
			mustRunCell(t, in, c.code)
			if got := out.all(); got != c.want {
				t.Errorf("output %q, want %q", got, c.want)
			}
		})
	}
}

// flag's functions parse the notebook's arguments on the notebook's
// CommandLine, not the engine process's (flag.Args() was ["__engine"]).
func TestFlagUsesTheNotebooksArguments(t *testing.T) {
	out := newCellOutput(t)
	in, err := NewInterpreter(Config{Stdout: out.f, Stderr: out.f, Args: []string{"nb", "-v", "rest"}})
	if err != nil {
		t.Fatal(err)
	}
	mustRunCell(t, in, `import ("flag"; "fmt")
verbose := flag.Bool("v", false, "say more")
flag.Parse()
fmt.Println(*verbose, flag.NArg(), flag.Args(), flag.Parsed(), flag.Lookup("v") != nil)`)
	if got, want := out.all(), "true 1 [rest] true true\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// syscall has its constants, types and functions, not only the
// unrestricted ones (syscall.SIGTERM was missing).
func TestSyscallTable(t *testing.T) {
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, `import ("fmt"; "os"; "os/signal"; "syscall")
c := make(chan os.Signal, 1)
signal.Notify(c, syscall.SIGTERM)
signal.Stop(c)
fmt.Println(syscall.SIGTERM, syscall.Getpid() == os.Getpid())`)
	if got, want := out.all(), "terminated true\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestStdlibCompletionWithoutImport(t *testing.T) {
	in, _ := newTestInterpreter(t)
	res := in.Complete("strings.Rep", len("strings.Rep"))
	if !slices.Contains(res.Matches, "Repeat") {
		t.Fatalf("completion of strings.Rep: %v", res.Matches)
	}
	if in.std.loaded["strings/strings"] {
		t.Fatal("completion loaded strings into the interpreter")
	}
	if f, err := in.Func("strings.ToUpper"); err != nil || !f.IsValid() {
		t.Fatalf("Func(strings.ToUpper): %v", err)
	}
}

func TestStdsymsCoverTheLibrary(t *testing.T) {
	paths := stdsyms.Paths()
	for _, p := range []string{"fmt", "net/http", "math/rand/v2", "os/exec", "syscall", "encoding/json"} {
		if !slices.Contains(paths, p) {
			t.Errorf("stdsyms has no %s", p)
		}
	}
	key, ok := stdsyms.Key("os")
	if !ok || stdsyms.Build(key)["Exit"].Pointer() == stdsyms.Std(key)["Exit"].Pointer() {
		t.Error("os.Exit: the unrestricted overlay is not applied")
	}
}
