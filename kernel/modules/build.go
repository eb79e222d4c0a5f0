package modules

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// Build returns an engine with pkgs built in: the cached one when this set
// (with the notebook's pinned versions) was built before, else one it
// builds, writing progress to w. Modules no pin names are resolved to their
// latest versions and pinned beside the notebook.
func (b *Builder) Build(ctx context.Context, pkgs []string, w io.Writer) (*Engine, error) {
	pkgs = sortedSet(pkgs)
	r, err := b.newResolution(ctx)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.require(ctx, b, pkgs, w); err != nil {
		return nil, importError(pkgs, err)
	}
	r.save(ctx, b, w)
	return b.engineFor(ctx, r, pkgs, w)
}

// Get runs `go get args…` on the notebook's pins (the %go get magic) and
// saves them; it returns the modules whose versions changed.
func (b *Builder) Get(ctx context.Context, args []string, w io.Writer) ([]string, error) {
	r, err := b.newResolution(ctx)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.get(ctx, b, args); err != nil {
		return nil, err
	}
	r.save(ctx, b, w)
	return r.changed, nil
}

// importError explains a failed resolution: the toolchain's own words, and
// what to do.
func importError(pkgs []string, err error) error {
	if errors.Is(err, ErrNoToolchain) {
		return err
	}
	var named []string
	for _, p := range pkgs {
		if strings.Contains(err.Error(), p) {
			named = append(named, p)
		}
	}
	if len(named) > 0 {
		pkgs = named
	}
	return fmt.Errorf("cannot import %s: %w\n"+
		"Check the import path (the module must be reachable through the Go module proxy, GOPROXY), "+
		"or pin a version that exists with %%go get MODULE@VERSION", strings.Join(pkgs, ", "), err)
}

// engineFor returns the cached engine for the resolution's requirements
// and pkgs, building it if there is none.
func (b *Builder) engineFor(ctx context.Context, r *resolution, pkgs []string, w io.Writer) (*Engine, error) {
	goVersion, err := b.goVersion(ctx)
	if err != nil {
		return nil, err
	}
	srcDir, srcHash, err := b.source()
	if err != nil {
		return nil, err
	}
	var reqs, reps []string
	for _, req := range r.mod.Require {
		reqs = append(reqs, req.Path+"@"+req.Version)
	}
	for _, rep := range r.mod.Replace {
		reps = append(reps, rep.flag("")) // local directories are absolute (newResolution)
	}
	sort.Strings(reqs)
	sort.Strings(reps)
	h := sha256.New()
	fmt.Fprintf(h, "goproc %s\n%s %s/%s cgo=%s\n", srcHash, goVersion, runtime.GOOS, runtime.GOARCH, os.Getenv("CGO_ENABLED"))
	for _, list := range [][]string{reqs, reps, pkgs} {
		fmt.Fprintf(h, "%q\n", list)
	}
	key := hex.EncodeToString(h.Sum(nil))[:24]
	root, err := b.cacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "engines", key)
	if e, err := ReadEngine(filepath.Join(dir, "goproc")); err == nil {
		now := time.Now()
		os.Chtimes(filepath.Join(dir, manifestName), now, now) // used: see prune
		return e, nil
	}
	progress(w, "goproc: building an engine with %s (once for this set of modules; later runs start it from the cache)", strings.Join(pkgs, ", "))
	start := time.Now()
	e := &Engine{Packages: pkgs, Modules: reqs, GoVersion: goVersion}
	if err := b.build(ctx, r, srcDir, dir, e, w); err != nil {
		return nil, err
	}
	progress(w, "goproc: engine built in %.1fs", time.Since(start).Seconds())
	prune(filepath.Dir(dir), keepEngines)
	return ReadEngine(filepath.Join(dir, "goproc"))
}

// The cache keeps the keepEngines most recently used engines (about 22 MB
// each), and any used within pruneAfter: a kernel still running on one
// starts its workers and restarts from its path.
const (
	keepEngines = 12
	pruneAfter  = 7 * 24 * time.Hour
)

// prune removes the engines in dir beyond the keep most recently used that
// have not been used for pruneAfter (an engine's manifest is touched each
// time it is used).
func prune(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type engine struct {
		path string
		used time.Time
	}
	var engines []engine
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, e.Name(), manifestName))
		if err != nil {
			continue
		}
		engines = append(engines, engine{filepath.Join(dir, e.Name()), st.ModTime()})
	}
	sort.Slice(engines, func(i, j int) bool { return engines[i].used.After(engines[j].used) })
	for i := keep; i < len(engines); i++ {
		if time.Since(engines[i].used) > pruneAfter {
			os.RemoveAll(engines[i].path)
		}
	}
}

func versioned(p, v string) string {
	if v == "" {
		return p
	}
	return p + "@" + v
}

// build makes the engine module in a scratch directory, builds it and
// moves the binary and its manifest into dir.
func (b *Builder) build(ctx context.Context, r *resolution, srcDir, dir string, e *Engine, w io.Writer) error {
	root := filepath.Dir(filepath.Dir(dir))
	work, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return fmt.Errorf("create the engine's build directory: %w", err)
	}
	defer os.RemoveAll(work)
	goproc, err := readGoMod(ctx, b, srcDir, "")
	if err != nil {
		return err
	}
	modFile := fmt.Sprintf("module goproc.local/engine\n\ngo %s\n\nrequire %s v0.0.0\n\nreplace %s => %s\n",
		languageVersion(e.GoVersion), goproc.Module.Path, goproc.Module.Path, srcDir)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(modFile), 0o644); err != nil {
		return err
	}
	edit := []string{"mod", "edit"}
	for _, req := range r.mod.Require {
		edit = append(edit, "-require="+req.Path+"@"+req.Version)
	}
	for _, rep := range r.mod.Replace {
		edit = append(edit, rep.flag("")) // local directories are absolute (newResolution)
	}
	if len(edit) > 2 {
		if _, err := b.run(ctx, work, edit...); err != nil {
			return err
		}
	}
	var sums []byte
	for _, f := range []string{filepath.Join(srcDir, "go.sum"), filepath.Join(r.dir, "go.sum")} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		sums = append(sums, data...)
	}
	if err := os.WriteFile(filepath.Join(work, "go.sum"), sums, 0o644); err != nil {
		return err
	}
	syms := filepath.Join(work, "syms")
	if err := os.Mkdir(syms, 0o755); err != nil {
		return err
	}
	symsGo := "// Package syms holds the symbol tables of the notebook's module packages.\n" +
		"package syms\n\nimport \"" + goproc.Module.Path + "/kernel/symbols\"\n\n" +
		"// Symbols is goproc's table: the extracted files' init functions add to it.\n" +
		"var Symbols = symbols.Symbols\n"
	mainGo := "// Command goproc is a goproc engine with a notebook's module packages built in.\n" +
		"package main\n\nimport (\n\t\"os\"\n\n\t\"" + goproc.Module.Path + "/kernel/enginemain\"\n\t_ \"goproc.local/engine/syms\"\n)\n\n" +
		"func main() { os.Exit(enginemain.Main()) }\n"
	if err := os.WriteFile(filepath.Join(syms, "syms.go"), []byte(symsGo), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "main.go"), []byte(mainGo), 0o644); err != nil {
		return err
	}
	progress(w, "goproc: extracting the symbols of %d package(s)", len(e.Packages))
	if err := b.extract(ctx, work, e.Packages); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := b.compile(ctx, work, filepath.Join(tmp, "goproc"), w); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, manifestName), manifest, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, manifestName)); statErr == nil {
			return nil // built meanwhile by another kernel
		}
		return fmt.Errorf("store the engine: %w", err)
	}
	return nil
}

// extract runs the symbol extractor (ExtractArg) in the engine module, so
// that the packages are found as the build will find them.
func (b *Builder) extract(ctx context.Context, work string, pkgs []string) error {
	exe := b.Extractor
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find the goproc binary to extract symbols: %w", err)
		}
	}
	gocmd, err := b.goCommand()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{ExtractArg, "syms"}, pkgs...)...)
	cmd.Dir = work
	// The extractor's importer runs the go command from PATH.
	cmd.Env = goEnv("PATH=" + filepath.Dir(gocmd) + string(os.PathListSeparator) + os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("extract the symbols of %s: %w\n%s", strings.Join(pkgs, ", "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// compile builds the engine module to out, reporting every few seconds how
// many packages it has compiled.
func (b *Builder) compile(ctx context.Context, work, out string, w io.Writer) error {
	gocmd, err := b.goCommand()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-v", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = work
	cmd.Env = goEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	var tail []string
	compiled := 0
	last := time.Now()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, " ") || strings.Contains(line, ":") {
			tail = append(tail, line) // a compiler's message, not a package name
			if len(tail) > 40 {
				tail = tail[1:]
			}
			continue
		}
		compiled++
		if time.Since(last) > 3*time.Second {
			progress(w, "goproc: building the engine: %d packages compiled, now %s", compiled, line)
			last = time.Now()
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("go build of the engine: %w\n%s", err, strings.Join(tail, "\n"))
	}
	return nil
}

// source writes goproc's source (Builder.Source, without tests) into the
// cache once per content, and returns its directory and hash.
func (b *Builder) source() (string, string, error) {
	b.srcOnce.Do(func() {
		b.srcDir, b.srcHash, b.srcErr = b.writeSource()
	})
	return b.srcDir, b.srcHash, b.srcErr
}

func (b *Builder) writeSource() (string, string, error) {
	if b.Source == nil {
		return "", "", errors.New("this goproc binary carries no source to build engines from")
	}
	files, hash, err := hashTree(b.Source)
	if err != nil {
		return "", "", fmt.Errorf("read goproc's source: %w", err)
	}
	if b.SourceDir != "" {
		// The checkout this binary was built from, unchanged: building
		// from it reuses the Go build cache of goproc's own build.
		if _, same, err := hashTree(os.DirFS(b.SourceDir)); err == nil && same == hash {
			return b.SourceDir, hash, nil
		}
	}
	root, err := b.cacheDir()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(root, "src", hash)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, hash, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".new-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		data, err := fs.ReadFile(b.Source, f)
		if err != nil {
			return "", "", err
		}
		dst := filepath.Join(tmp, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", "", err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "go.mod")); statErr != nil {
			return "", "", fmt.Errorf("store goproc's source: %w", err)
		}
	}
	return dir, hash, nil
}

func readManifest(dir string) (*Engine, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var e Engine
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestName, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "goproc")); err != nil {
		return nil, err
	}
	return &e, nil
}

// sortedSet returns the distinct strings of list, sorted.
func sortedSet(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Install builds the engine of a course kernel: the packages with names
// (PATH@VERSION as go get takes it: a package, PATH/..., or a module,
// which means all of its packages) built in. Main packages, internal ones
// and those that fail to load are left out.
func (b *Builder) Install(ctx context.Context, with []string, w io.Writer) (*Engine, error) {
	r, err := b.newResolution(ctx)
	if err != nil {
		return nil, err
	}
	defer r.close()
	progress(w, "goproc: resolving %s", strings.Join(with, " "))
	if err := r.get(ctx, b, with); err != nil {
		return nil, err
	}
	var patterns []string
	for _, q := range with {
		p, _, _ := strings.Cut(q, "@")
		patterns = append(patterns, p)
	}
	pkgs, err := r.importable(ctx, b, patterns)
	if err != nil {
		return nil, err
	}
	// A module named by its path (gonum.org/v1/plot@v0.17.0): all of its
	// packages, as its root package alone is seldom what is meant.
	var modules []string
	required := r.versions()
	for _, p := range patterns {
		if !strings.HasSuffix(p, "/...") && (required[p] != "" || !slices.Contains(pkgs, p)) {
			modules = append(modules, p+"/...")
		}
	}
	if len(modules) > 0 {
		more, err := r.importable(ctx, b, modules)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, more...)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s: no importable packages", strings.Join(with, " "))
	}
	// The versions are recorded in the engine's manifest (engine.json),
	// which goes into the kernelspec with it.
	e, err := b.engineFor(ctx, r, sortedSet(pkgs), w)
	if err == nil {
		progress(w, "goproc: the engine has %s", strings.Join(e.Modules, ", "))
	}
	return e, err
}

// importable lists the packages patterns match that a cell can import:
// not main, not internal, loading without errors.
func (r *resolution) importable(ctx context.Context, b *Builder, patterns []string) ([]string, error) {
	out, err := b.run(ctx, r.dir, append([]string{"list", "-e", "-f", "{{.ImportPath}} {{.Name}} {{if .Error}}broken{{else}}ok{{end}}", "--"}, patterns...)...)
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[1] == "main" || f[2] != "ok" || isInternal(f[0]) {
			continue
		}
		pkgs = append(pkgs, f[0])
	}
	return pkgs, nil
}

func isInternal(p string) bool {
	return strings.HasSuffix(p, "/internal") || strings.Contains(p, "/internal/") || strings.HasPrefix(p, "internal/")
}

// hashTree lists goproc's module in fsys (go.mod, go.sum, kernel/ and
// runtime/, without tests) and hashes it.
func hashTree(fsys fs.FS) ([]string, string, error) {
	files := []string{"go.mod", "go.sum"}
	for _, top := range []string{"kernel", "runtime"} {
		err := fs.WalkDir(fsys, top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, "_test.go") || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") {
				return nil
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	return files, hex.EncodeToString(h.Sum(nil))[:24], nil
}
