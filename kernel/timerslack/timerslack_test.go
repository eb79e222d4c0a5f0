package timerslack

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		env     string
		want    time.Duration
		wantErr bool
	}{
		{"", Default, false},
		{"50us", 50 * time.Microsecond, false},
		{"2ms", 2 * time.Millisecond, false},
		{"0", 0, false},
		{"soon", Default, true},
		{"-1ms", Default, true},
	} {
		t.Setenv(Env, c.env)
		got, err := FromEnv()
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("%s=%q: got %v, %v; want %v, error %v", Env, c.env, got, err, c.want, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), Env) {
			t.Errorf("%s=%q: the error does not name the variable: %v", Env, c.env, err)
		}
	}
}

// TestApplyReachesEveryThreadAndChildren sets a slack no thread has yet and
// reads it back from threads that existed before Apply, from a thread
// started after it, and from a child process.
func TestApplyReachesEveryThreadAndChildren(t *testing.T) {
	want := Current() + 1234*time.Microsecond
	const early = 3
	release := make(chan struct{})
	got := make(chan time.Duration, early+1)
	var started sync.WaitGroup
	for range early {
		started.Add(1)
		go func() {
			runtime.LockOSThread() // each on a thread of its own, made before Apply
			defer runtime.UnlockOSThread()
			started.Done()
			<-release
			got <- Current()
		}()
	}
	started.Wait()
	if err := Apply(want); err != nil {
		t.Fatal(err)
	}
	close(release)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		got <- Current()
	}()
	for range early + 1 {
		if s := <-got; s != want {
			t.Errorf("a thread's slack is %v, want %v", s, want)
		}
	}
	out, err := exec.Command("cat", "/proc/self/timerslack_ns").Output()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(ns) != want {
		t.Errorf("a child's slack is %v, want %v", time.Duration(ns), want)
	}
	if err := Apply(0); err != nil || Current() != want {
		t.Errorf("Apply(0) changed the slack or failed: %v, %v", Current(), err)
	}
}
