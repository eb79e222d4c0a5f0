//go:build !linux

package grader

func confinementStatus(want, alone bool) string {
	if !want {
		return "off (--confine-writes=false): submissions may write anywhere the grader can"
	}
	return "not available on this OS (Landlock is Linux-only); submissions may write anywhere the grader can"
}
