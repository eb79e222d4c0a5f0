package modules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The notebook's pins are an ordinary go.mod (and go.sum) beside it: the
// Go toolchain reads and writes them, and a re-run resolves every module a
// cell imports to the version written there. A module no pin names is
// resolved to its latest version and pinned.

// goMod is what `go mod edit -json` prints of a go.mod.
type goMod struct {
	Module  struct{ Path string }
	Go      string
	Require []struct {
		Path     string
		Version  string
		Indirect bool
	}
	Replace []replacement
}

// replacement is a replace directive.
type replacement struct {
	Old struct{ Path, Version string }
	New struct{ Path, Version string }
}

// local reports whether it replaces by a directory given relative to its
// go.mod.
func (rep replacement) local() bool {
	return rep.New.Version == "" && !filepath.IsAbs(rep.New.Path)
}

// flag is the directive as go mod edit -replace takes it, a local
// directory joined to base (the directory of the go.mod it came from; ""
// keeps it as written).
func (rep replacement) flag(base string) string {
	to := versioned(rep.New.Path, rep.New.Version)
	if rep.local() && base != "" {
		to = filepath.Join(base, rep.New.Path)
	}
	return "-replace=" + versioned(rep.Old.Path, rep.Old.Version) + "=" + to
}

// readGoMod parses a go.mod with go mod edit -json, run in dir: file, or
// dir's own go.mod when file is empty.
func readGoMod(ctx context.Context, b *Builder, dir, file string) (*goMod, error) {
	args := []string{"mod", "edit", "-json"}
	name := filepath.Join(dir, "go.mod")
	if file != "" {
		args, name = append(args, file), file
	}
	out, err := b.run(ctx, dir, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var m goMod
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return &m, nil
}

// resolution is a scratch module holding the notebook's requirements.
type resolution struct {
	dir     string
	mod     goMod
	changed []string // modules pinned or moved by this resolution, as path@version
	// foreign is the go.mod of the Go project the notebook is in, when it
	// has one: its requirements are the pins, and it is never written.
	foreign string
	// local are the notebook's replacements by a directory, as written
	// (relative to the notebook): absolute in the scratch module, and
	// written back as they were.
	local []replacement
}

// isNotebookMod reports whether a go.mod is a notebook's pins (goproc's
// "module notebook") rather than a Go project's.
func isNotebookMod(mod []byte) bool {
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == "notebook"
		}
	}
	return false
}

func copyGoSum(from, to string) error {
	sum, err := os.ReadFile(filepath.Join(from, "go.sum"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(to, "go.sum"), sum, 0o644)
}

// adoptForeign takes the requirements (and local replacements) of a Go
// project's go.mod as the notebook's pins, without the project itself.
func (r *resolution) adoptForeign(ctx context.Context, b *Builder, gomod string) error {
	m, err := readGoMod(ctx, b, r.dir, gomod)
	if err != nil {
		return err
	}
	r.foreign = gomod
	edit := []string{"mod", "edit"}
	for _, req := range m.Require {
		if req.Path != m.Module.Path && req.Path != "github.com/goproc/goproc" {
			edit = append(edit, "-require="+req.Path+"@"+req.Version)
		}
	}
	for _, rep := range m.Replace {
		if rep.Old.Path != "github.com/goproc/goproc" {
			edit = append(edit, rep.flag(filepath.Dir(gomod)))
		}
	}
	if len(edit) > 2 {
		if _, err := b.run(ctx, r.dir, edit...); err != nil {
			return err
		}
	}
	return copyGoSum(filepath.Dir(gomod), r.dir)
}

// newResolution copies the notebook's go.mod and go.sum (or starts them)
// into a scratch module.
func (b *Builder) newResolution(ctx context.Context) (*resolution, error) {
	root, err := b.cacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create the engine cache: %w", err)
	}
	dir, err := os.MkdirTemp(root, "resolve-")
	if err != nil {
		return nil, fmt.Errorf("create a scratch module: %w", err)
	}
	r := &resolution{dir: dir}
	nbMod := filepath.Join(b.notebookDir(), "go.mod")
	mod, err := os.ReadFile(nbMod)
	switch {
	case err == nil && isNotebookMod(mod):
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
			return nil, r.fail(err)
		}
		if err := copyGoSum(b.notebookDir(), dir); err != nil {
			return nil, r.fail(err)
		}
	case err == nil || os.IsNotExist(err):
		v, verr := b.goVersion(ctx)
		if verr != nil {
			return nil, r.fail(verr)
		}
		if werr := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n\ngo "+languageVersion(v)+"\n"), 0o644); werr != nil {
			return nil, r.fail(werr)
		}
		if err == nil {
			// The go.mod of a Go project the notebook lives in: its
			// versions hold, but goproc writes nothing into it.
			if ferr := r.adoptForeign(ctx, b, nbMod); ferr != nil {
				return nil, r.fail(ferr)
			}
		}
	default:
		return nil, r.fail(fmt.Errorf("read the notebook's pins: %w", err))
	}
	if err := r.read(ctx, b); err != nil {
		return nil, r.fail(err)
	}
	// Replacements by a local directory are relative to the notebook: from
	// here on they are absolute (so r.mod is read again).
	edit := []string{"mod", "edit"}
	for _, rep := range r.mod.Replace {
		if rep.local() {
			edit = append(edit, rep.flag(b.notebookDir()))
			r.local = append(r.local, rep)
		}
	}
	if len(edit) > 2 {
		if _, err := b.run(ctx, dir, edit...); err != nil {
			return nil, r.fail(err)
		}
		if err := r.read(ctx, b); err != nil {
			return nil, r.fail(err)
		}
	}
	return r, nil
}

func (r *resolution) fail(err error) error {
	os.RemoveAll(r.dir)
	return err
}

func (r *resolution) close() { os.RemoveAll(r.dir) }

// read parses the scratch module's go.mod.
func (r *resolution) read(ctx context.Context, b *Builder) error {
	m, err := readGoMod(ctx, b, r.dir, "")
	if err != nil {
		return fmt.Errorf("the notebook's pins: %w", err)
	}
	r.mod = *m
	return nil
}

// versions returns the required modules' versions by path.
func (r *resolution) versions() map[string]string {
	v := map[string]string{}
	for _, req := range r.mod.Require {
		v[req.Path] = req.Version
	}
	return v
}

// require makes sure every package in pkgs is provided by a required
// module, resolving the modules of those no pin provides to their latest
// versions.
func (r *resolution) require(ctx context.Context, b *Builder, pkgs []string, w io.Writer) error {
	before := r.versions()
	defer func() {
		// go list (with -mod=mod) resolves what it can by itself.
		if r.read(ctx, b) == nil {
			for path, v := range r.versions() {
				if before[path] != v && !slices.Contains(r.changed, path+"@"+v) {
					r.changed = append(r.changed, path+"@"+v)
				}
			}
		}
	}()
	missing, err := r.list(ctx, b, pkgs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	progress(w, "goproc: resolving %s with the Go toolchain", strings.Join(missing, ", "))
	if err := r.get(ctx, b, missing); err != nil {
		return err
	}
	still, err := r.list(ctx, b, pkgs)
	if err != nil {
		return err
	}
	if len(still) > 0 {
		return fmt.Errorf("no module provides %s", strings.Join(still, ", "))
	}
	return nil
}

// list returns the packages of pkgs that no required module provides; a
// package with any other problem is an error.
func (r *resolution) list(ctx context.Context, b *Builder, pkgs []string) ([]string, error) {
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{with .Error}}{{.Err}}{{end}}", "--"}, pkgs...)
	out, err := b.run(ctx, r.dir, args...)
	if err != nil {
		return nil, err
	}
	var missing, problems []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, msg, _ := strings.Cut(line, "\t")
		switch {
		case msg == "":
		case strings.Contains(msg, "no required module provides package"):
			missing = append(missing, path)
		default:
			problems = append(problems, fmt.Sprintf("%s: %s", path, msg))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return missing, nil
}

// get runs go get with args (packages or module@version queries) and notes
// which pins it changed.
func (r *resolution) get(ctx context.Context, b *Builder, args []string) error {
	before := r.versions()
	if _, err := b.run(ctx, r.dir, append([]string{"get"}, args...)...); err != nil {
		return err
	}
	if err := r.read(ctx, b); err != nil {
		return err
	}
	for path, v := range r.versions() {
		if before[path] != v {
			r.changed = append(r.changed, path+"@"+v)
		}
	}
	return nil
}

// save writes the scratch module's go.mod and go.sum beside the notebook
// when they differ from the notebook's, and says what it pinned. A
// notebook directory that cannot be written keeps its old pins: the
// versions then hold for this kernel only, and the message says so.
func (r *resolution) save(ctx context.Context, b *Builder, w io.Writer) {
	if r.foreign != "" {
		if len(r.changed) > 0 {
			progress(w, "goproc: using %s; %s belongs to a Go project, so goproc leaves it alone: run go get there to pin these", strings.Join(r.changed, ", "), r.foreign)
		}
		return
	}
	if len(r.local) > 0 {
		// The notebook's go.mod keeps its directories as it wrote them.
		edit := []string{"mod", "edit"}
		for _, rep := range r.local {
			edit = append(edit, rep.flag(""))
		}
		if _, err := b.run(ctx, r.dir, edit...); err != nil {
			progress(w, "goproc: could not pin the versions beside the notebook (%v): they hold for this session only", err)
			return
		}
	}
	dst := b.notebookDir()
	changed := false
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			continue
		}
		if old, err := os.ReadFile(filepath.Join(dst, name)); err == nil && bytes.Equal(old, data) {
			continue
		}
		changed = true
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			progress(w, "goproc: could not pin the versions in %s (%v): they hold for this session only", filepath.Join(dst, name), err)
			return
		}
	}
	if changed && len(r.changed) > 0 {
		progress(w, "goproc: pinned %s in %s", strings.Join(r.changed, ", "), filepath.Join(dst, "go.mod"))
	}
}

func (b *Builder) notebookDir() string {
	if b.Dir != "" {
		return b.Dir
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "."
}

// goVersion returns the toolchain's version, such as go1.26.8.
func (b *Builder) goVersion(ctx context.Context) (string, error) {
	b.versionOnce.Do(func() {
		out, err := b.run(ctx, os.TempDir(), "env", "GOVERSION")
		b.version, b.versionErr = strings.TrimSpace(out), err
	})
	return b.version, b.versionErr
}

// languageVersion turns go1.26.8 into 1.26, for a go.mod's go line.
func languageVersion(v string) string {
	v = strings.TrimPrefix(v, "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}
