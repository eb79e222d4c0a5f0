package grader

import (
	"fmt"

	"github.com/goproc/goproc/kernel/confine"
)

// confinementStatus says what Landlock enforces on each submission: writes
// only in its working directory, and, when there is no sandbox, every
// other right the kernel's Landlock offers too.
func confinementStatus(want, alone bool) string {
	if !want {
		return "off (--confine-writes=false): submissions may write anywhere the grader can"
	}
	v, err := confine.Available()
	if err != nil {
		return "not available: " + err.Error() + "; submissions may write anywhere the grader can"
	}
	if alone {
		p := confine.Policy{Write: []string{"its working directory"}, Read: []string{}, NoTCP: true, Scoped: true}
		return p.Describe()
	}
	return fmt.Sprintf("Landlock ABI v%d: each submission may write only in its working directory", v)
}
