// Package language is the seam between the Jupyter protocol server and the
// thing that runs code. The server (kernel/front) and the headless runner
// know only this interface; kernel/engine implements it by driving an engine
// process. It mirrors xeus' interpreter interface: execute, complete,
// inspect, is_complete and kernel_info.
package language

import (
	"context"
	"encoding/json"
)

// MimeBundle maps MIME types to their representations, as in display_data.
// Text types hold strings; JSON types hold any JSON value.
type MimeBundle map[string]any

// Display is a display_data or update_display_data payload.
type Display struct {
	Data      MimeBundle     `json:"data"`
	Metadata  map[string]any `json:"metadata"`
	DisplayID string         `json:"display_id,omitempty"`
	// Update marks an update_display_data of an earlier display with DisplayID.
	Update bool `json:"update,omitempty"`
}

// Output receives what a running cell produces, in order.
type Output interface {
	// Stream delivers text written to stdout or stderr (name is "stdout" or
	// "stderr"). Text is delivered in whole lines except for a final partial
	// line flushed at the end of the cell or before a display.
	Stream(name, text string)
	// Display publishes display_data or update_display_data.
	Display(d Display)
	// ClearOutput publishes clear_output.
	ClearOutput(wait bool)
	// Input asks the user for a line of input (input_request on stdin).
	// It returns an error when the client does not allow stdin.
	Input(prompt string, password bool) (string, error)
}

// ExecuteRequest is what the engine needs of an execute_request.
type ExecuteRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    bool              `json:"store_history"`
	AllowStdin      bool              `json:"allow_stdin"`
	UserExpressions map[string]string `json:"user_expressions,omitempty"`
	// ExecutionCount is the count the front assigned to this cell.
	ExecutionCount int `json:"execution_count"`
}

// Error describes a failed cell, as in the error message of the protocol.
type Error struct {
	Name      string   `json:"ename"`
	Value     string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

func (e *Error) Error() string { return e.Name + ": " + e.Value }

// ExecuteResult is the outcome of a cell.
type ExecuteResult struct {
	// Status is "ok" or "error".
	Status string `json:"status"`
	// Result is the value of a trailing expression (execute_result), if any.
	Result MimeBundle `json:"result,omitempty"`
	// Error is set when Status is "error".
	Error *Error `json:"error,omitempty"`
	// UserExpressions holds one mime bundle (or error) per requested expression,
	// in the shape of execute_reply.user_expressions.
	UserExpressions map[string]json.RawMessage `json:"user_expressions,omitempty"`
	// Payload holds execute_reply payloads, e.g. a "page" of help text for
	// a cell "?name".
	Payload []map[string]any `json:"payload,omitempty"`
	// EngineRestarted reports that the engine died during this cell and was
	// replaced by a fresh one: the notebook's state is gone.
	EngineRestarted bool `json:"engine_restarted,omitempty"`
}

// CompleteResult is the content of a complete_reply.
type CompleteResult struct {
	Matches     []string       `json:"matches"`
	CursorStart int            `json:"cursor_start"`
	CursorEnd   int            `json:"cursor_end"`
	Metadata    map[string]any `json:"metadata"`
}

// InspectResult is the content of an inspect_reply.
type InspectResult struct {
	Found    bool           `json:"found"`
	Data     MimeBundle     `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// IsCompleteResult is the content of an is_complete_reply.
type IsCompleteResult struct {
	// Status is complete, incomplete, invalid or unknown.
	Status string `json:"status"`
	Indent string `json:"indent,omitempty"`
}

// Info is what kernel_info reports about the language.
type Info struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Mimetype       string `json:"mimetype"`
	FileExtension  string `json:"file_extension"`
	PygmentsLexer  string `json:"pygments_lexer"`
	CodemirrorMode string `json:"codemirror_mode"`
	NbconvertExp   string `json:"nbconvert_exporter"`
}

// Engine runs cells. Calls are serialised by the caller: at most one method
// runs at a time, except Close. Cancelling the context of Execute interrupts
// the cell (the notebook's state is kept); an Execute whose engine died returns
// an error result with EngineRestarted set and the engine is ready again.
type Engine interface {
	Execute(ctx context.Context, req ExecuteRequest, out Output) ExecuteResult
	Complete(ctx context.Context, code string, cursorPos int) (CompleteResult, error)
	Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (InspectResult, error)
	IsComplete(ctx context.Context, code string) (IsCompleteResult, error)
	Info() Info
	// Restart discards the notebook's state and starts a fresh engine.
	Restart(ctx context.Context) error
	// Close stops the engine and every process it started.
	Close() error
}

// GoInfo is the language_info of Go.
func GoInfo(version string) Info {
	return Info{
		Name:           "go",
		Version:        version,
		Mimetype:       "text/x-go",
		FileExtension:  ".go",
		PygmentsLexer:  "go",
		CodemirrorMode: "go",
		NbconvertExp:   "",
	}
}
