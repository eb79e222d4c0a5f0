package engine

import (
	"context"
	"strings"
	"testing"
)

// A cell that declares main and then calls it, as a port of Python's
// `if __name__ == "__main__": main()` does, runs main once.
func TestMainCalledOnce(t *testing.T) {
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, "import \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}\n\nmain()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("output %q, want main to run once", got)
	}
	// A later cell's main() still reaches it.
	mustRunCell(t, in, "main()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("later call: %q", got)
	}
	_ = context.Background
	_ = strings.Contains
}
