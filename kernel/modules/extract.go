package modules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/traefik/yaegi/extract"
)

// ExtractArg is the argument that starts goproc as the symbol extractor:
// `goproc __extract_symbols DIR PACKAGES…`, run in the engine module, writes
// one file of symbols per package into DIR (package syms). It is a process
// of its own because yaegi's extractor finds packages through the go
// command in the working directory.
const ExtractArg = "__extract_symbols"

// ExtractMain runs the extractor on args (DIR PACKAGES…) and returns the
// exit code.
func ExtractMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: goproc "+ExtractArg+" DIR PACKAGES…")
		return 2
	}
	dir := args[0]
	ext := extract.Extractor{Dest: filepath.Base(dir)}
	names := strings.NewReplacer("/", "-", ".", "_", "~", "_")
	for _, pkg := range args[1:] {
		var buf bytes.Buffer
		if _, err := ext.Extract(pkg, "", &buf); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", pkg, err)
			return 1
		}
		if err := os.WriteFile(filepath.Join(dir, names.Replace(pkg)+".go"), buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}
