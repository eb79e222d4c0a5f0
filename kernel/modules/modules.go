// Package modules lets cells import Go modules, compiled: it resolves the
// packages a notebook imports with the Go toolchain (through the module
// proxy and cache, as `go get` does), pins their versions in a go.mod beside
// the notebook, and builds an engine binary that has them built in, their
// symbol tables extracted by yaegi's extractor (the generator of
// kernel/stdsyms). Engines are cached by the set of packages, module
// versions, Go version and goproc source, so a set is built once per
// machine; kernel/engine moves a notebook onto one when a cell needs it.
//
// The engine is built from goproc's own source, which the goproc binary
// carries (Source), so a binary alone can build engines: no checkout is
// needed, only a Go toolchain.
package modules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/symbols"
)

// Builder builds engines for the packages a notebook imports.
type Builder struct {
	// Source is goproc's module: go.mod, go.sum and the packages under
	// kernel/ and runtime/ (the goproc command embeds it).
	Source fs.FS
	// SourceDir is where the goproc binary was built, if known: when it
	// holds Source unchanged, engines build from it instead of a copy,
	// and the Go build cache of goproc's own build serves them.
	SourceDir string
	// Dir is the notebook's directory: the go.mod there pins the versions
	// of its modules, and is written there when a new module is resolved.
	Dir string
	// Cache holds the resolved sources' builds and the engines; empty
	// means $GOPROC_CACHE, else the user's cache directory's goproc/.
	Cache string
	// Go is the go command; empty means the one on PATH, else
	// /usr/local/go/bin/go.
	Go string
	// Extractor is the goproc binary that writes symbol tables
	// (ExtractArg); empty means os.Executable().
	Extractor string

	versionOnce sync.Once
	version     string
	versionErr  error
	srcOnce     sync.Once
	srcDir      string
	srcHash     string
	srcErr      error
}

// NewBuilder makes the Builder for a notebook's directory (the goproc
// command gives its own source to the Builders it makes).
type NewBuilder func(dir string) *Builder

// Engine is an engine binary and what it has built in.
type Engine struct {
	// Binary is the engine's path.
	Binary string `json:"-"`
	// Packages are the import paths of the module packages it has.
	Packages []string `json:"packages"`
	// Modules are the modules it was built with, as path@version.
	Modules []string `json:"modules"`
	// GoVersion is the Go that built it.
	GoVersion string `json:"go"`
}

// manifestName is the file beside an engine binary that describes it.
const manifestName = "engine.json"

// ErrNoToolchain is returned (wrapped) when no Go toolchain is found.
var ErrNoToolchain = errors.New("no Go toolchain")

// IsModulePath reports whether an import path names a package of a module
// rather than the standard library: its first element has a dot, as module
// paths do. goproc's own runtime packages are not modules to build.
func IsModulePath(p string) bool {
	if _, alias := symbols.Aliases[p]; alias || strings.HasPrefix(p, "github.com/goproc/goproc/") {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return strings.Contains(first, ".")
}

// Builtin returns the module packages this binary has built in (an engine
// built by a Builder has some; goproc itself none).
func Builtin() []string {
	var out []string
	for p := range symbols.Keys() {
		if IsModulePath(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// ReadEngine describes the engine binary at path from the manifest beside
// it.
func ReadEngine(path string) (*Engine, error) {
	e, err := readManifest(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s is not an engine goproc built: %w", path, err)
	}
	e.Binary = path
	return e, nil
}

// cacheDir returns the cache's root.
func (b *Builder) cacheDir() (string, error) {
	if b.Cache != "" {
		return b.Cache, nil
	}
	if d := os.Getenv("GOPROC_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory for built engines (set GOPROC_CACHE): %w", err)
	}
	return filepath.Join(d, "goproc"), nil
}

// goCommand finds the go command: Builder.Go, else the one on PATH, else
// where Go's and Debian's installs put it.
func (b *Builder) goCommand() (string, error) {
	var candidates []string
	if b.Go != "" {
		candidates = []string{b.Go}
	} else {
		if p, err := exec.LookPath("go"); err == nil {
			candidates = append(candidates, p)
		}
		candidates = append(candidates, "/usr/local/go/bin/go", "/usr/lib/go/bin/go")
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: importing a module builds it with the Go toolchain, and no go command is on PATH; "+
		"install Go 1.26 or later (https://go.dev/doc/install, or Debian's golang-go) and restart the kernel, "+
		"or use a kernel built with the modules ahead of time: goproc install --with PACKAGE@VERSION", ErrNoToolchain)
}

// goEnv is the environment of the go commands a Builder runs: the
// toolchain must not switch itself, nor a workspace of the user's take
// part.
func goEnv(extra ...string) []string {
	flags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -mod=mod")
	env := append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS="+flags)
	return append(env, extra...)
}

// run runs the go command in dir and returns its combined output; the
// error carries that output.
func (b *Builder) run(ctx context.Context, dir string, args ...string) (string, error) {
	gocmd, err := b.goCommand()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// progress writes a line of progress, if there is a writer.
func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
