//go:build !linux

package sandbox

import (
	"errors"
	"os/exec"
	"time"
)

var errUnsupported = errors.New("sandboxes need Linux (namespaces and cgroups)")

// Available reports why boxes cannot be made on this system.
func Available() error { return errUnsupported }

// Sandbox is not available on this system.
type Sandbox struct{}

// New fails: boxes need Linux.
func New(Config) (*Sandbox, error) { return nil, errUnsupported }

// Protections is empty.
func (s *Sandbox) Protections() Protections {
	return Protections{Why: []string{errUnsupported.Error()}}
}

// Command is not available.
func (s *Sandbox) Command(args ...string) *exec.Cmd { return nil }

// Started fails.
func (s *Sandbox) Started(*exec.Cmd) error { return errUnsupported }

// Mark is empty.
func (s *Sandbox) Mark() Mark { return Mark{} }

// Settle returns at once.
func (s *Sandbox) Settle(quiet, timeout time.Duration) {}

// Next observes nothing.
func (s *Sandbox) Next(Mark) (Span, Mark) { return Span{}, Mark{} }

// Since observes nothing.
func (s *Sandbox) Since(Mark) Span { return Span{} }

type ioSample struct{}

// Destroy does nothing.
func (s *Sandbox) Destroy() error { return nil }

// RunInit fails.
func RunInit() error { return errUnsupported }

// SystemDirs are the directories a process confined by Landlock alone may
// read.
var SystemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc"}

type task struct {
	gen, id int
	program bool
}
