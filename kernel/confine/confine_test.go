package confine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the confined child.
func TestMain(m *testing.M) {
	if target := os.Getenv("CONFINE_TEST_WRITE"); target != "" {
		allowed := os.Getenv("CONFINE_TEST_ALLOWED")
		if os.Getenv("CONFINE_TEST_DONE") == "" {
			env := append(os.Environ(), "CONFINE_TEST_DONE=1")
			if err := Exec([]string{allowed, "/dev"}, os.Args[0], os.Args, env); err != nil {
				os.Stdout.WriteString("exec failed: " + err.Error())
				os.Exit(3)
			}
		}
		for _, f := range strings.Split(target, ",") {
			err := os.WriteFile(f, []byte("x"), 0o644)
			if err != nil {
				os.Stdout.WriteString("denied " + f + "\n")
			} else {
				os.Stdout.WriteString("wrote " + f + "\n")
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
	allowed, outside := t.TempDir(), t.TempDir()
	in, out := filepath.Join(allowed, "in.txt"), filepath.Join(outside, "out.txt")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CONFINE_TEST_WRITE="+in+","+out, "CONFINE_TEST_ALLOWED="+allowed)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, b)
	}
	got := string(b)
	if !strings.Contains(got, "wrote "+in) || !strings.Contains(got, "denied "+out) {
		t.Fatalf("confinement not as expected:\n%s", got)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("file outside the allowed directory was created")
	}
}
