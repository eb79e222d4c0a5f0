package engine

import (
	"context"
	"os"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/magic"
	"github.com/goproc/goproc/runtime/multiprocessing"
)

// runCell runs a cell: through the interpreter as it is, or, when it has
// magics or shell lines (%%time, %env, !ls, …), part by part (kernel/magic),
// each Go part through the interpreter and each command where it stands,
// writing to the cell's stdout and stderr.
func (s *server) runCell(ctx context.Context, code string) CellOutcome {
	c, err := magic.Parse(code)
	if err != nil {
		return CellOutcome{Err: err}
	}
	if c == nil {
		return s.in.Run(ctx, code)
	}
	h := magic.Host{
		Go: func(ctx context.Context, src string) (language.MimeBundle, *language.Error) {
			o := s.in.Run(ctx, src)
			return o.Result, o.Err
		},
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Interrupted: interruptedError,
		// %go get is the client's (it changes the engine, see
		// modules.go): one that reaches the engine has no builder behind
		// it, and says so.
		GoGet:      nil,
		EnvChanged: multiprocessing.EnvironChanged,
	}
	res, err := h.Run(ctx, c)
	return CellOutcome{Result: res, Err: err}
}

// isComplete answers is_complete for a cell that may have magics: a lone
// %%time line waits for the cell's body, as in IPython; otherwise the last
// Go part decides (the commands before it ended where a statement may).
func (s *server) isComplete(code string) language.IsCompleteResult {
	c, err := magic.Parse(code)
	switch {
	case err != nil:
		return language.IsCompleteResult{Status: "invalid"}
	case c == nil:
		return s.in.IsComplete(code)
	case len(c.Parts) == 0:
		return language.IsCompleteResult{Status: "incomplete"}
	}
	if last := c.Parts[len(c.Parts)-1]; last.Kind == magic.Go {
		return s.in.IsComplete(last.Src)
	}
	return language.IsCompleteResult{Status: "complete"}
}

// complete completes a magic's name on a line that starts with %, and
// otherwise Go.
func (s *server) complete(code string, cursor int) language.CompleteResult {
	if matches, start, end, ok := magic.Complete(code, cursor); ok {
		if matches == nil {
			matches = []string{} // a list, never null, in complete_reply
		}
		return language.CompleteResult{Matches: matches, CursorStart: start, CursorEnd: end, Metadata: map[string]any{}}
	}
	return s.in.Complete(code, cursor)
}
