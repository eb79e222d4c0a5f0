// Package kernelspec installs goproc's Jupyter kernelspec: a directory
// kernels/NAME holding kernel.json (whose argv starts with the absolute path
// of the running goproc binary) and two logos drawn at install time.
package kernelspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Options say where and how to install.
type Options struct {
	// Template is the kernel.json template (goproc embeds its top-level
	// kernel.json). Its argv[0] is replaced by Executable.
	Template []byte
	// Exactly one of User, SysPrefix and Prefix may be set; none means
	// User when not root and /usr/local/share/jupyter when root.
	User      bool
	SysPrefix bool
	Prefix    string
	// Name is the kernelspec directory name (default "goproc").
	Name string
	// DisplayName overrides the template's display_name.
	DisplayName string
	// InterruptMode overrides the template's interrupt_mode ("signal" or
	// "message").
	InterruptMode string
	// Executable is argv[0]; empty means the running binary, absolute
	// with symlinks resolved.
	Executable string
	// Engine is an engine binary with modules built in (goproc install
	// --with): it is copied into the kernelspec, beside the manifest next
	// to it, and the kernel runs it.
	Engine string
	// Home and Python are for tests: the home directory (default
	// os.UserHomeDir) and the pythons tried for --sys-prefix.
	Home   string
	Python []string
}

var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9._-]+$`) })

// Dir returns the Jupyter data directory (the one holding kernels/) that
// the options select.
func Dir(opts Options) (string, error) {
	n := 0
	for _, b := range []bool{opts.User, opts.SysPrefix, opts.Prefix != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("choose one of --user, --sys-prefix and --prefix")
	}
	switch {
	case opts.Prefix != "":
		p, err := filepath.Abs(opts.Prefix)
		if err != nil {
			return "", fmt.Errorf("prefix: %w", err)
		}
		return filepath.Join(p, "share", "jupyter"), nil
	case opts.SysPrefix:
		return filepath.Join(sysPrefix(opts.Python), "share", "jupyter"), nil
	case opts.User || os.Geteuid() != 0:
		home := opts.Home
		if home == "" {
			var err error
			if home, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("finding the user's Jupyter directory: %w", err)
			}
		}
		if xdg := os.Getenv("XDG_DATA_HOME"); xdg != "" && opts.Home == "" {
			return filepath.Join(xdg, "jupyter"), nil
		}
		return filepath.Join(home, ".local", "share", "jupyter"), nil
	default:
		return "/usr/local/share/jupyter", nil
	}
}

// sysPrefix is sys.prefix of the first python that can import jupyter_core,
// else /usr/local.
func sysPrefix(pythons []string) string {
	if len(pythons) == 0 {
		pythons = []string{"python3", "python", "/usr/bin/python3"}
	}
	for _, py := range pythons {
		cmd := exec.Command(py, "-c", "import sys, jupyter_core; print(sys.prefix)")
		cmd.Stderr = nil
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.Output(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			if cmd.Process != nil {
				cmd.Process.Kill()
			}
			<-done
			continue
		}
		if err == nil {
			if p := strings.TrimSpace(string(out)); p != "" {
				return p
			}
		}
	}
	return "/usr/local"
}

// Install writes the kernelspec and returns its directory.
func Install(opts Options) (string, error) {
	if opts.Name == "" {
		opts.Name = "goproc"
	}
	if !validName().MatchString(opts.Name) {
		return "", fmt.Errorf("kernel name %q: use letters, digits, '.', '_' and '-'", opts.Name)
	}
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("finding the goproc binary: %w", err)
		}
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return "", fmt.Errorf("finding the goproc binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	base, err := Dir(opts)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "kernels", opts.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("installing kernelspec: %w", err)
	}
	var engineArgs []any
	if opts.Engine != "" {
		engine, err := copyEngine(opts.Engine, filepath.Join(dir, "engine"))
		if err != nil {
			return "", fmt.Errorf("installing the kernel's engine: %w", err)
		}
		engineArgs = []any{"--engine", engine}
	}
	spec, err := render(opts, exe, engineArgs...)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{"kernel.json": spec}
	for _, size := range []int{64, 32} {
		img, err := Logo(size)
		if err != nil {
			return "", err
		}
		files[fmt.Sprintf("logo-%dx%d.png", size, size)] = img
	}
	for name, data := range files {
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return "", fmt.Errorf("installing kernelspec: %w", err)
		}
	}
	return dir, nil
}

// writeFile writes atomically (temp file + rename) so a concurrent reader
// never sees half a kernel.json.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// render fills the template: argv[0] = exe, and the overrides.
func render(opts Options, exe string, engineArgs ...any) ([]byte, error) {
	var spec map[string]any
	if err := json.Unmarshal(opts.Template, &spec); err != nil {
		return nil, fmt.Errorf("kernel.json template: %w", err)
	}
	argv, _ := spec["argv"].([]any)
	if len(argv) == 0 {
		argv = []any{"goproc", "kernel", "{connection_file}"}
	}
	rest := argv[1:]
	if len(engineArgs) > 0 && len(rest) > 0 {
		// goproc kernel --engine PATH {connection_file}
		rest = append(append([]any{rest[0]}, engineArgs...), rest[1:]...)
	}
	argv = append([]any{exe}, rest...)
	spec["argv"] = argv
	if opts.DisplayName != "" {
		spec["display_name"] = opts.DisplayName
	}
	if opts.InterruptMode != "" {
		if opts.InterruptMode != "signal" && opts.InterruptMode != "message" {
			return nil, fmt.Errorf("interrupt mode %q: want signal or message", opts.InterruptMode)
		}
		spec["interrupt_mode"] = opts.InterruptMode
	}
	out, err := json.MarshalIndent(spec, "", " ")
	if err != nil {
		return nil, fmt.Errorf("kernel.json: %w", err)
	}
	return append(out, '\n'), nil
}

// Logo draws goproc's logo: a Go-blue disc with a white ring and a dot,
// anti-aliased, on a transparent background.
func Logo(size int) ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	blue := color.NRGBA{0x00, 0xAD, 0xD8, 0xFF} // Go's "gopher blue"
	c := float64(size) / 2
	r := c - 0.5
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			// 4x4 supersampling.
			var disc, white float64
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					px := float64(x) + (float64(sx)+0.5)/4 - c
					py := float64(y) + (float64(sy)+0.5)/4 - c
					d := math.Hypot(px, py)
					if d <= r {
						disc++
						ring := d >= 0.42*r && d <= 0.62*r
						dot := math.Hypot(px-0.18*r, py+0.18*r) <= 0.12*r
						if ring || dot {
							white++
						}
					}
				}
			}
			if disc == 0 {
				continue
			}
			w := white / disc
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(float64(blue.R)*(1-w) + 255*w),
				G: uint8(float64(blue.G)*(1-w) + 255*w),
				B: uint8(float64(blue.B)*(1-w) + 255*w),
				A: uint8(255 * disc / 16),
			})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding logo: %w", err)
	}
	return buf.Bytes(), nil
}

// copyEngine copies the engine binary at src and the files beside it (its
// manifest) into dir, and returns the copy's path.
func copyEngine(src, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(filepath.Dir(src))
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(filepath.Dir(src), e.Name()))
		if err != nil {
			return "", err
		}
		if err := writeFile(filepath.Join(dir, e.Name()), data); err != nil {
			return "", err
		}
		if e.Name() == filepath.Base(src) {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o755); err != nil {
				return "", err
			}
		}
	}
	return filepath.Join(dir, filepath.Base(src)), nil
}
