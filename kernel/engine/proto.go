package engine

import "github.com/goproc/goproc/kernel/language"

// request is one line the client writes to the engine's request pipe (fd 3).
type request struct {
	ID   int64  `json:"id"`
	Op   string `json:"op"` // execute, complete, inspect, is_complete, interrupt, input_reply
	Seq  int64  `json:"seq,omitempty"`
	Code string `json:"code,omitempty"`

	Execute *language.ExecuteRequest `json:"execute,omitempty"`
	Cursor  int                      `json:"cursor,omitempty"`
	Detail  int                      `json:"detail,omitempty"`

	InputValue string `json:"input_value,omitempty"`
	InputError string `json:"input_error,omitempty"`

	// Export is the state adopt rebuilds (a notebook moving onto
	// another engine).
	Export *exported `json:"export,omitempty"`
}

// event is one line the engine writes to its event pipe (fd 4).
type event struct {
	ID int64  `json:"id"`
	Op string `json:"op"` // ready, reply, input_request

	Execute    *language.ExecuteResult    `json:"execute,omitempty"`
	Complete   *language.CompleteResult   `json:"complete,omitempty"`
	Inspect    *language.InspectResult    `json:"inspect,omitempty"`
	IsComplete *language.IsCompleteResult `json:"is_complete,omitempty"`
	Info       *language.Info             `json:"info,omitempty"`
	Error      string                     `json:"error,omitempty"`
	// Confinement says how the engine's writes are confined ("" when not asked).
	Confinement string `json:"confinement,omitempty"`

	// Export is the notebook's state, for export.
	Export *exported `json:"export,omitempty"`

	Prompt   string `json:"prompt,omitempty"`
	Password bool   `json:"password,omitempty"`
}

// Engine process file descriptors besides stdout and stderr.
const (
	requestFD = 3
	eventFD   = 4
	crashFD   = 5 // where the Go runtime's crash report goes (see redirectCrashOutput)
)
