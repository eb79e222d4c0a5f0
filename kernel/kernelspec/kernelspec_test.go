package kernelspec

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

const template = `{"argv": ["goproc", "kernel", "{connection_file}"], "display_name": "Go (goproc)",
 "language": "go", "interrupt_mode": "signal", "metadata": {"debugger": false}}`

func TestInstallPrefix(t *testing.T) {
	tmp := t.TempDir()
	exe := filepath.Join(tmp, "bin", "goproc")
	os.MkdirAll(filepath.Dir(exe), 0o755)
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	dir, err := Install(Options{Template: []byte(template), Prefix: filepath.Join(tmp, "pfx"), Name: "gp2",
		InterruptMode: "message", DisplayName: "Go (message)", Executable: link})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(tmp, "pfx", "share", "jupyter", "kernels", "gp2"); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv          []string `json:"argv"`
		DisplayName   string   `json:"display_name"`
		Language      string   `json:"language"`
		InterruptMode string   `json:"interrupt_mode"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Argv[0] != exe || spec.Argv[1] != "kernel" || spec.Argv[2] != "{connection_file}" ||
		spec.InterruptMode != "message" || spec.DisplayName != "Go (message)" || spec.Language != "go" {
		t.Errorf("spec = %+v", spec)
	}
	for _, size := range []int{32, 64} {
		f, err := os.ReadFile(filepath.Join(dir, "logo-"+itoa(size)+"x"+itoa(size)+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(f))
		if err != nil || img.Bounds().Dx() != size {
			t.Errorf("logo %d: %v %v", size, err, img.Bounds())
		}
	}
}

func itoa(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

func TestDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "")
	if d, _ := Dir(Options{User: true, Home: "/h"}); d != "/h/.local/share/jupyter" {
		t.Errorf("user dir %s", d)
	}
	if d, _ := Dir(Options{Prefix: "/p"}); d != "/p/share/jupyter" {
		t.Errorf("prefix dir %s", d)
	}
	if d, _ := Dir(Options{SysPrefix: true, Python: []string{"/nonexistent/python"}}); d != "/usr/local/share/jupyter" {
		t.Errorf("sys-prefix fallback %s", d)
	}
	if _, err := Dir(Options{User: true, Prefix: "/p"}); err == nil {
		t.Error("two locations accepted")
	}
	if os.Geteuid() == 0 {
		if d, _ := Dir(Options{}); d != "/usr/local/share/jupyter" {
			t.Errorf("root default %s", d)
		}
	}
}

func TestBadOptions(t *testing.T) {
	tmp := t.TempDir()
	if _, err := Install(Options{Template: []byte(template), Prefix: tmp, Name: "../x"}); err == nil {
		t.Error("bad name accepted")
	}
	if _, err := Install(Options{Template: []byte(template), Prefix: tmp, InterruptMode: "poke"}); err == nil {
		t.Error("bad interrupt mode accepted")
	}
	if _, err := Install(Options{Template: []byte("{"), Prefix: tmp}); err == nil {
		t.Error("bad template accepted")
	}
}
