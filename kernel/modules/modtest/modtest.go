// Package modtest serves Go modules to tests from a directory, as a module
// proxy does (GOPROXY=file://…): tests of module imports decide what
// "latest" is, and need no network for the modules they import.
package modtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Proxy writes a module proxy with example.com/greet at v1.0.0 and v1.1.0
// (Hello(name) says which) and returns its GOPROXY value, with the real
// proxy after it for goproc's own dependencies.
func Proxy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	mod := filepath.Join(dir, "example.com", "greet", "@v")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	versions := []string{"v1.0.0", "v1.1.0"}
	for _, v := range versions {
		gomod := "module example.com/greet\n\ngo 1.21\n"
		src := fmt.Sprintf("// Package greet says which version it is.\npackage greet\n\n// Version is the module's version.\nconst Version = %q\n\n// Hello greets.\nfunc Hello(name string) string { return \"hello \" + name + \" from \" + Version }\n", v)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range map[string]string{"go.mod": gomod, "greet.go": src} {
			w, err := zw.Create("example.com/greet@" + v + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(body))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		info := fmt.Sprintf(`{"Version":%q,"Time":"2026-0%c-01T00:00:00Z"}`, v, v[3]+1)
		for name, data := range map[string][]byte{v + ".mod": []byte(gomod), v + ".zip": buf.Bytes(), v + ".info": []byte(info)} {
			if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(mod, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	upstream, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + dir + "," + strings.TrimSpace(string(upstream))
}

// Env is the environment that makes the go command (and goproc) use proxy
// without the checksum database for example.com, and cache for engines.
func Env(proxy, cache string) []string {
	return []string{"GOPROXY=" + proxy, "GONOSUMDB=example.com", "GOPROC_CACHE=" + cache}
}
