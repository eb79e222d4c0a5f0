package confine

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestMain lets the test binary act as the confined child.
func TestMain(m *testing.M) {
	if target := os.Getenv("CONFINE_TEST_WRITE"); target != "" {
		allowed := os.Getenv("CONFINE_TEST_ALLOWED")
		switch {
		case os.Getenv("CONFINE_TEST_MODE") == "process":
			if err := Process([]string{allowed, "/dev"}); err != nil {
				os.Stdout.WriteString("process failed: " + err.Error())
				os.Exit(3)
			}
		case os.Getenv("CONFINE_TEST_DONE") == "":
			env := append(os.Environ(), "CONFINE_TEST_DONE=1")
			if err := Exec([]string{allowed, "/dev"}, os.Args[0], os.Args, env); err != nil {
				os.Stdout.WriteString("exec failed: " + err.Error())
				os.Exit(3)
			}
		}
		// Writes from many goroutines (so from several OS threads) and from
		// a child process started afterwards.
		files := strings.Split(target, ",")
		var wg sync.WaitGroup
		results := make([]string, len(files))
		for i, f := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
					results[i] = "denied " + f + "\n"
				} else {
					results[i] = "wrote " + f + "\n"
				}
			}()
		}
		wg.Wait()
		for _, r := range results {
			os.Stdout.WriteString(r)
		}
		for _, f := range files {
			if exec.Command("/bin/sh", "-c", "echo x > "+f+".child").Run() != nil {
				os.Stdout.WriteString("child denied " + f + "\n")
			} else {
				os.Stdout.WriteString("child wrote " + f + "\n")
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestWritesConfined(t *testing.T) {
	if ABI() == 0 {
		t.Skip("Landlock not available on this kernel")
	}
	for _, mode := range []string{"exec", "process"} {
		t.Run(mode, func(t *testing.T) {
			allowed, outside := t.TempDir(), t.TempDir()
			in, out := filepath.Join(allowed, "in.txt"), filepath.Join(outside, "out.txt")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "CONFINE_TEST_WRITE="+in+","+out, "CONFINE_TEST_ALLOWED="+allowed, "CONFINE_TEST_MODE="+mode)
			b, err := cmd.CombinedOutput()
			got := string(b)
			if mode == "process" && strings.Contains(got, ErrThreadsUnsupported.Error()) {
				t.Skip("this test binary links cgo; build with CGO_ENABLED=0 to test Process")
			}
			if err != nil {
				t.Fatalf("child: %v: %s", err, b)
			}
			for _, want := range []string{"wrote " + in, "denied " + out, "child wrote " + in, "child denied " + out} {
				if !strings.Contains(got, want+"\n") {
					t.Fatalf("want %q; confinement not as expected:\n%s", want, got)
				}
			}
			for _, f := range []string{out, out + ".child"} {
				if _, err := os.Stat(f); err == nil {
					t.Fatalf("%s outside the allowed directory was created", f)
				}
			}
		})
	}
}
