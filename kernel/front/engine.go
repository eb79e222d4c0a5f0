package front

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// engineSlot starts the engine in the background and hands it out once it
// is ready. A failed start is reported to the caller that waited for it,
// and the next caller tries again.
type engineSlot struct {
	ctx       context.Context
	newEngine EngineFactory
	log       *slog.Logger
	info      atomic.Pointer[language.Info]

	mu       sync.Mutex
	ready    chan struct{} // closed when the current attempt ends
	launched bool          // the first attempt began
	eng      language.Engine
	err      error
	closed   bool
	started  time.Time
}

func newEngineSlot(ctx context.Context, f EngineFactory, log *slog.Logger) *engineSlot {
	return &engineSlot{ctx: ctx, newEngine: f, log: log, ready: make(chan struct{})}
}

// start begins the first attempt to start the engine, unless one began
// already or the slot is closed.
func (s *engineSlot) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.launched || s.closed {
		return
	}
	s.launched = true
	s.launch(s.ready)
}

// launch starts an attempt that closes ready when it ends. Call with mu held.
func (s *engineSlot) launch(ready chan struct{}) {
	s.eng, s.err, s.started = nil, nil, time.Now()
	go func() {
		eng, err := s.safeStart()
		if err == nil {
			// Info is called here, before anyone else can use the engine:
			// the engine's methods must not run concurrently.
			info := eng.Info()
			s.info.Store(&info)
			s.log.Info("engine ready", "took", time.Since(s.started).Round(time.Millisecond))
		} else {
			s.log.Error("engine failed to start", "err", err)
		}
		s.mu.Lock()
		s.eng, s.err = eng, err
		closed := s.closed
		if closed {
			s.eng = nil
		}
		s.mu.Unlock()
		if closed && eng != nil {
			if err := eng.Close(); err != nil {
				s.log.Warn("closing the engine", "err", err)
			}
		}
		close(ready)
	}()
}

func (s *engineSlot) safeStart() (eng language.Engine, err error) {
	defer func() {
		if v := recover(); v != nil {
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			eng, err = nil, fmt.Errorf("starting the Go engine panicked: %v\n%s", v, buf)
		}
	}()
	if s.newEngine == nil {
		return nil, errors.New("no engine configured")
	}
	eng, err = s.newEngine(s.ctx)
	if err == nil && eng == nil {
		err = errors.New("the engine factory returned no engine")
	}
	if err != nil {
		return nil, fmt.Errorf("starting the Go engine: %w", err)
	}
	return eng, nil
}

// get waits for the engine. If starting it failed, it returns that error and
// begins a new attempt for the next caller.
func (s *engineSlot) get(ctx context.Context) (language.Engine, error) {
	s.start()
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("the kernel is shutting down")
	}
	if s.err != nil {
		err := s.err
		if s.ready == ready {
			s.ready = make(chan struct{})
			s.launch(s.ready)
		}
		return nil, err
	}
	return s.eng, nil
}

// Info is the engine's language_info once it is ready, else Go's.
func (s *engineSlot) Info() language.Info {
	if p := s.info.Load(); p != nil {
		return *p
	}
	// The engine reports "1.26.8"; runtime.Version() is "go1.26.8".
	return language.GoInfo(strings.TrimPrefix(runtime.Version(), "go"))
}

// close closes the engine, waiting up to timeout for a start in progress.
func (s *engineSlot) close(timeout time.Duration) error {
	s.mu.Lock()
	s.closed = true
	ready, launched := s.ready, s.launched
	s.mu.Unlock()
	if !launched {
		return nil
	}
	select {
	case <-ready:
	case <-time.After(timeout):
		return errors.New("the engine did not finish starting; it will be closed when it does")
	}
	s.mu.Lock()
	eng := s.eng
	s.eng = nil
	s.mu.Unlock()
	if eng == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- eng.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("engine Close did not return within %v", timeout)
	}
}
