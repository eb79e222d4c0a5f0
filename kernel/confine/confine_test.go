package confine

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestMain lets the test binary act as the confined child.
func TestMain(m *testing.M) {
	if os.Getenv("CONFINE_TEST_POLICY") != "" {
		policyChild()
	}
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

// policyChild applies the full policy and reports what it could still do.
func policyChild() {
	exe, _ := os.Executable()
	allowed := os.Getenv("CONFINE_TEST_ALLOWED")
	p := Policy{Write: []string{allowed, "/dev"}, Read: []string{"/usr", "/bin", "/lib", "/lib64", "/etc", "/proc", exe}, NoTCP: true, Scoped: true}
	if err := p.Apply(); err != nil {
		fmt.Println("apply failed:", err)
		os.Exit(3)
	}
	_, err := os.ReadFile(os.Getenv("CONFINE_TEST_SECRET"))
	fmt.Println("secret", err == nil)
	_, err = os.ReadFile("/etc/passwd")
	fmt.Println("etc", err == nil)
	c, err := net.Dial("tcp", os.Getenv("CONFINE_TEST_ADDR"))
	if err == nil {
		c.Close()
	}
	fmt.Println("tcp", err == nil)
	var ppid int
	fmt.Sscan(os.Getenv("CONFINE_TEST_PARENT"), &ppid)
	fmt.Println("signal", syscall.Kill(ppid, 0) == nil)
	err = os.WriteFile(filepath.Join(allowed, "ok"), []byte("x"), 0o644)
	fmt.Println("write", err == nil)
	os.Exit(0)
}

func TestPolicy(t *testing.T) {
	abi := ABI()
	if abi == 0 {
		t.Skip("no Landlock")
	}
	secretDir, allowed := t.TempDir(), t.TempDir()
	secret := filepath.Join(secretDir, "secret")
	os.WriteFile(secret, []byte("x"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CONFINE_TEST_POLICY=1", "CONFINE_TEST_ALLOWED="+allowed, "CONFINE_TEST_SECRET="+secret,
		"CONFINE_TEST_ADDR="+ln.Addr().String(), fmt.Sprintf("CONFINE_TEST_PARENT=%d", os.Getpid()))
	out, err := cmd.Output()
	if err != nil && strings.Contains(string(out), ErrThreadsUnsupported.Error()) {
		t.Skip("this test binary links cgo; build with CGO_ENABLED=0 to test Policy")
	}
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := string(out)
	want := "secret false\netc true\n"
	if abi >= 4 {
		want += "tcp false\n"
	} else {
		want += "tcp true\n"
	}
	if abi >= 6 {
		want += "signal false\n"
	} else {
		want += "signal true\n"
	}
	want += "write true\n"
	if got != want {
		t.Errorf("confined child (Landlock ABI %d) reported\n%s\nwant\n%s", abi, got, want)
	}
}
