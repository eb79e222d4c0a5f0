package front

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/wire"
)

// decode unmarshals r's content into v; on failure it logs and replies with
// an error reply of type replyType (ipykernel logs and does not reply; a
// reply keeps the client from waiting forever).
func (k *Kernel) decode(r *request, v any, replyType string) bool {
	if err := json.Unmarshal(r.msg.Content, v); err != nil {
		k.log.Error("bad request content", "msg_type", r.msg.Header.MsgType, "err", err)
		k.reply(r, replyType, errorContent("BadRequest", "malformed "+r.msg.Header.MsgType+": "+err.Error(), nil, -1))
		return false
	}
	return true
}

// errorContent is the content of an error reply. A count >= 0 adds
// execution_count.
func errorContent(ename, evalue string, traceback []string, count int) map[string]any {
	if traceback == nil {
		traceback = []string{}
	}
	c := map[string]any{"status": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
	if count >= 0 {
		c["execution_count"] = count
	}
	return c
}

type helpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

type languageInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Mimetype       string `json:"mimetype"`
	FileExtension  string `json:"file_extension"`
	PygmentsLexer  string `json:"pygments_lexer"`
	CodemirrorMode string `json:"codemirror_mode"`
	NbconvertExp   string `json:"nbconvert_exporter,omitempty"`
}

type kernelInfo struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          languageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	HelpLinks             []helpLink   `json:"help_links"`
	Debugger              bool         `json:"debugger"`
}

func (k *Kernel) kernelInfo() kernelInfo {
	li := k.engine.Info()
	def := language.GoInfo(li.Version)
	if li.Name == "" {
		li.Name = def.Name
	}
	if li.Mimetype == "" {
		li.Mimetype = def.Mimetype
	}
	if li.FileExtension == "" {
		li.FileExtension = def.FileExtension
	}
	if li.PygmentsLexer == "" {
		li.PygmentsLexer = def.PygmentsLexer
	}
	if li.CodemirrorMode == "" {
		li.CodemirrorMode = def.CodemirrorMode
	}
	v := k.opts.ImplementationVersion
	if v == "" {
		v = "dev"
	}
	return kernelInfo{
		Status:                "ok",
		ProtocolVersion:       wire.ProtocolVersion,
		Implementation:        "goproc",
		ImplementationVersion: v,
		LanguageInfo:          languageInfo(li),
		Banner:                "goproc " + v + " — Go " + li.Version + " in Jupyter (cells run by the yaegi interpreter)",
		HelpLinks: []helpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "goproc README", URL: "https://github.com/goproc/goproc#readme"},
		},
	}
}

func (k *Kernel) handleKernelInfo(ctx context.Context, r *request) {
	k.reply(r, "kernel_info_reply", k.kernelInfo())
	if !k.answeredInfo.Swap(true) {
		close(k.firstInfo)
		k.log.Info("first kernel_info_reply sent", "since_bind", time.Since(k.created).Round(10*time.Microsecond))
	}
}

// cursor returns the request's cursor_pos, defaulting to the end of code
// (in code points, as protocol 5.2 counts).
func cursor(code string, pos *int) int {
	n := utf8.RuneCountInString(code)
	if pos == nil || *pos > n {
		return n
	}
	if *pos < 0 {
		return 0
	}
	return *pos
}

func (k *Kernel) handleComplete(ctx context.Context, r *request) {
	var req struct {
		Code      string `json:"code"`
		CursorPos *int   `json:"cursor_pos"`
	}
	if !k.decode(r, &req, "complete_reply") {
		return
	}
	pos := cursor(req.Code, req.CursorPos)
	res := language.CompleteResult{CursorStart: pos, CursorEnd: pos}
	if eng, err := k.engine.get(ctx); err != nil {
		k.log.Warn("complete: no engine", "err", err)
	} else if res, err = eng.Complete(ctx, req.Code, pos); err != nil {
		k.log.Warn("complete failed", "err", err)
		res = language.CompleteResult{CursorStart: pos, CursorEnd: pos}
	}
	if res.Matches == nil {
		res.Matches = []string{}
	}
	if res.Metadata == nil {
		res.Metadata = map[string]any{}
	}
	k.reply(r, "complete_reply", map[string]any{"status": "ok", "matches": res.Matches,
		"cursor_start": res.CursorStart, "cursor_end": res.CursorEnd, "metadata": res.Metadata})
}

func (k *Kernel) handleInspect(ctx context.Context, r *request) {
	var req struct {
		Code        string `json:"code"`
		CursorPos   *int   `json:"cursor_pos"`
		DetailLevel int    `json:"detail_level"`
	}
	if !k.decode(r, &req, "inspect_reply") {
		return
	}
	pos := cursor(req.Code, req.CursorPos)
	var res language.InspectResult
	if eng, err := k.engine.get(ctx); err != nil {
		k.log.Warn("inspect: no engine", "err", err)
	} else if res, err = eng.Inspect(ctx, req.Code, pos, req.DetailLevel); err != nil {
		k.log.Warn("inspect failed", "err", err)
		res = language.InspectResult{}
	}
	if res.Data == nil {
		res.Data = language.MimeBundle{}
	}
	if res.Metadata == nil {
		res.Metadata = map[string]any{}
	}
	k.reply(r, "inspect_reply", map[string]any{"status": "ok", "found": res.Found, "data": res.Data, "metadata": res.Metadata})
}

func (k *Kernel) handleIsComplete(ctx context.Context, r *request) {
	var req struct {
		Code string `json:"code"`
	}
	if !k.decode(r, &req, "is_complete_reply") {
		return
	}
	res := language.IsCompleteResult{Status: "unknown"}
	if eng, err := k.engine.get(ctx); err != nil {
		k.log.Warn("is_complete: no engine", "err", err)
	} else if res, err = eng.IsComplete(ctx, req.Code); err != nil {
		k.log.Warn("is_complete failed", "err", err)
		res = language.IsCompleteResult{Status: "unknown"}
	}
	switch res.Status {
	case "complete", "invalid", "unknown":
		k.reply(r, "is_complete_reply", map[string]any{"status": res.Status})
	case "incomplete":
		k.reply(r, "is_complete_reply", map[string]any{"status": res.Status, "indent": res.Indent})
	default:
		k.log.Warn("is_complete: engine returned an unknown status", "status", res.Status)
		k.reply(r, "is_complete_reply", map[string]any{"status": "unknown"})
	}
}

func (k *Kernel) handleCommInfo(ctx context.Context, r *request) {
	k.reply(r, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
}

// handleCommOpen closes every comm: goproc registers no comm targets.
func (k *Kernel) handleCommOpen(ctx context.Context, r *request) {
	var req struct {
		CommID     string `json:"comm_id"`
		TargetName string `json:"target_name"`
	}
	if err := json.Unmarshal(r.msg.Content, &req); err != nil || req.CommID == "" {
		k.log.Error("bad comm_open", "err", err)
		return
	}
	k.log.Warn("No such comm target registered", "target_name", req.TargetName)
	k.publish(k.newIOPub("comm_close", r.msg, map[string]any{"comm_id": req.CommID, "data": map[string]any{}}))
}

func (k *Kernel) handleCommIgnored(ctx context.Context, r *request) {
	k.log.Info("ignoring message for an unknown comm", "msg_type", r.msg.Header.MsgType)
}

func (k *Kernel) handleConnect(ctx context.Context, r *request) {
	k.reply(r, "connect_reply", map[string]any{"status": "ok", "shell_port": k.conn.ShellPort,
		"iopub_port": k.conn.IOPubPort, "stdin_port": k.conn.StdinPort, "hb_port": k.conn.HBPort,
		"control_port": k.conn.ControlPort})
}

// handleShutdown replies and stops the kernel. Like ipykernel, the process
// exits even when restart is true: the client starts a new one.
func (k *Kernel) handleShutdown(ctx context.Context, r *request) {
	var req struct {
		Restart bool `json:"restart"`
	}
	_ = json.Unmarshal(r.msg.Content, &req)
	sd := &shutdownContent{Status: "ok", Restart: req.Restart, request: r.msg}
	k.mu.Lock()
	k.shutdown = sd
	k.mu.Unlock()
	k.reply(r, "shutdown_reply", sd)
	k.Interrupt()
	k.Stop()
}

func (k *Kernel) handleInterrupt(ctx context.Context, r *request) {
	k.Interrupt()
	k.reply(r, "interrupt_reply", map[string]any{"status": "ok"})
}
