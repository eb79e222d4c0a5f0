package magic

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// testHost is a Host whose Go parts are recorded, with its output in files.
type testHost struct {
	Host
	ran     []string
	out, er *os.File
}

func newTestHost(t *testing.T) *testHost {
	dir := t.TempDir()
	h := &testHost{}
	var err error
	if h.out, err = os.Create(filepath.Join(dir, "stdout")); err != nil {
		t.Fatal(err)
	}
	if h.er, err = os.Create(filepath.Join(dir, "stderr")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.out.Close(); h.er.Close() })
	h.Host = Host{
		Stdout: h.out, Stderr: h.er,
		Interrupted: func() *language.Error { return &language.Error{Name: "Interrupted"} },
		Go: func(ctx context.Context, src string) (language.MimeBundle, *language.Error) {
			h.ran = append(h.ran, strings.TrimLeft(src, "\n "))
			h.out.WriteString("go:" + strings.TrimLeft(src, "\n ") + "\n")
			return language.MimeBundle{"text/plain": "r" + src}, nil
		},
	}
	return h
}

func (h *testHost) output(t *testing.T) (string, string) {
	o, err := os.ReadFile(h.out.Name())
	if err != nil {
		t.Fatal(err)
	}
	e, _ := os.ReadFile(h.er.Name())
	return string(o), string(e)
}

func (h *testHost) run(t *testing.T, code string) (language.MimeBundle, *language.Error) {
	t.Helper()
	c, err := Parse(code)
	if err != nil || c == nil {
		t.Fatalf("Parse(%q): %+v %v", code, c, err)
	}
	return h.Run(context.Background(), c)
}

func TestRunInOrder(t *testing.T) {
	h := newTestHost(t)
	res, err := h.run(t, "a()\n!echo shell\nb()\n!exit 2\n!kill -9 $$\nc")
	if err != nil {
		t.Fatal(err)
	}
	out, errs := h.output(t)
	if out != "go:a()\nshell\ngo:b()\ngo:c\n" {
		t.Errorf("stdout %q", out)
	}
	if errs != "Command 'exit 2' returned non-zero exit status 2.\nCommand 'kill -9 $$' died with signal 9 (killed).\n" {
		t.Errorf("stderr %q", errs)
	}
	// The result is the last part's.
	if res["text/plain"] != "r\n\n\n\n\nc" {
		t.Errorf("result %q", res["text/plain"])
	}
	// A cell that ends with a command has no result.
	if res, _ := h.run(t, "x\n!true"); res != nil {
		t.Errorf("result %v after a command", res)
	}
}

func TestEnvForms(t *testing.T) {
	h := newTestHost(t)
	t.Setenv("GOPROC_MAGIC_BASE", "base")
	changed := 0
	h.EnvChanged = func() { changed++ }
	for code, want := range map[string]string{
		"%env GOPROC_MAGIC_A=1":                          "1",
		"%env GOPROC_MAGIC_B = two words":                "two words",
		"%env GOPROC_MAGIC_C=x=y":                        "x=y",
		"%env GOPROC_MAGIC_D\t4":                         "4",
		"%env GOPROC_MAGIC_E=$GOPROC_MAGIC_BASE/bin":     "base/bin",
		"%env GOPROC_MAGIC_F=":                           "",
		"%env GOPROC_MAGIC_G ${GOPROC_MAGIC_BASE}:extra": "base:extra",
	} {
		if _, err := h.run(t, code); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		name := strings.FieldsFunc(strings.TrimPrefix(code, "%env "), func(r rune) bool { return r == '=' || r == ' ' || r == '\t' })[0]
		t.Cleanup(func() { os.Unsetenv(name) })
		if got, ok := os.LookupEnv(name); !ok || got != want {
			t.Errorf("%s: %s=%q, want %q", code, name, got, want)
		}
	}
	if changed != 7 {
		t.Errorf("EnvChanged called %d times, want 7", changed)
	}
	t.Setenv("GOPROC_MAGIC_API_TOKEN", "s3cret")
	h.run(t, "%env")
	if out, _ := h.output(t); !strings.Contains(out, "GOPROC_MAGIC_API_TOKEN=<hidden>\n") || strings.Contains(out, "s3cret") || !strings.Contains(out, "GOPROC_MAGIC_BASE=base\n") {
		t.Errorf("%%env listing:\n%s", out)
	}
}

func TestGoGetHook(t *testing.T) {
	h := newTestHost(t)
	_, err := h.run(t, "%go get example.com/m@v1.2.3")
	if err == nil || err.Name != "NotImplementedError" || !strings.Contains(err.Value, "example.com/m@v1.2.3") {
		t.Fatalf("without GoGet: %+v", err)
	}
	var got []string
	h.GoGet = func(_ context.Context, args []string) *language.Error { got = args; return nil }
	if _, err := h.run(t, "%go get a@v1 b@v2"); err != nil || strings.Join(got, " ") != "a@v1 b@v2" {
		t.Fatalf("with GoGet: %v %v", got, err)
	}
	if _, err := h.run(t, "%go build"); err == nil || err.Name != "UsageError" {
		t.Fatalf("%%go build: %+v", err)
	}
}

// An interrupt ends a shell command and what it started in the background.
func TestShellInterrupt(t *testing.T) {
	h := newTestHost(t)
	dir := t.TempDir()
	c, _ := Parse("!(sleep 30; touch " + dir + "/late) & echo $! > " + dir + "/pid; sleep 30")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Run(ctx, c)
	if err == nil || err.Name != "Interrupted" {
		t.Fatalf("want Interrupted, got %+v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, "pid"))
	stat := "/proc/" + strings.TrimSpace(string(pid)) + "/stat"
	for i := 0; ; i++ {
		// Gone, or a zombie its new parent has not reaped yet.
		b, err := os.ReadFile(stat)
		if f := strings.Fields(string(b)); err != nil || len(f) > 2 && f[2] == "Z" {
			break
		}
		if i == 50 {
			t.Fatalf("the background process still runs: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTimeMagic(t *testing.T) {
	h := newTestHost(t)
	res, err := h.run(t, "%time f(1)")
	if err != nil || res["text/plain"] != "r      f(1)" {
		t.Fatalf("%+v %v", res, err)
	}
	if out, _ := h.output(t); !strings.HasPrefix(out, "go:f(1)\nCPU times: user ") || !strings.Contains(out, "\nWall time: ") {
		t.Fatalf("output %q", out)
	}
	// A failing statement prints no times, as in IPython.
	h2 := newTestHost(t)
	h2.Go = func(context.Context, string) (language.MimeBundle, *language.Error) {
		return nil, &language.Error{Name: "panic"}
	}
	if _, err := h2.run(t, "%%time\nboom()"); err == nil {
		t.Fatal("want the error")
	}
	if out, _ := h2.output(t); out != "" {
		t.Fatalf("output %q", out)
	}
}
