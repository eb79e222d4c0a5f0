package zmtp

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

func endpoint(t *testing.T, s *Socket) string {
	return "tcp://" + s.Addr().String()
}

func recvTimeout(t *testing.T, s zmq4.Socket) zmq4.Msg {
	t.Helper()
	type res struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := s.Recv(); ch <- res{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return zmq4.Msg{}
}

func TestRouterDealer(t *testing.T) {
	got := make(chan [][]byte, 4)
	var srv *Socket
	srv, err := Listen(Router, "tcp://127.0.0.1:0", func(p *Peer, frames [][]byte) {
		got <- frames
		// echo back, twice in one write
		reply := append([][]byte{frames[0]}, frames[1:]...)
		if err := srv.Send(reply, [][]byte{frames[0], []byte("second")}); err != nil {
			t.Error(err)
		}
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	d := zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("client-1")))
	defer d.Close()
	if err := d.Dial(endpoint(t, srv)); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1000)
	if err := d.Send(zmq4.NewMsgFrom([]byte("<IDS|MSG>"), []byte(""), []byte(long))); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-got:
		if len(f) != 4 || string(f[0]) != "client-1" || string(f[1]) != "<IDS|MSG>" || len(f[2]) != 0 || string(f[3]) != long {
			t.Fatalf("server got %q", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server got nothing")
	}
	m := recvTimeout(t, d)
	if len(m.Frames) != 3 || string(m.Frames[2]) != long {
		t.Fatalf("client got %d frames", len(m.Frames))
	}
	m = recvTimeout(t, d)
	if len(m.Frames) != 1 || string(m.Frames[0]) != "second" {
		t.Fatalf("client got %q", m.Frames)
	}
	if err := srv.Send([][]byte{[]byte("nobody"), []byte("x")}); err != ErrNoPeer {
		t.Fatalf("send to unknown identity: %v", err)
	}
}

func TestAnonymousDealersGetDistinctIdentities(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]bool{}
	done := make(chan struct{}, 2)
	srv, err := Listen(Router, "tcp://127.0.0.1:0", func(p *Peer, frames [][]byte) {
		mu.Lock()
		ids[string(frames[0])] = true
		mu.Unlock()
		done <- struct{}{}
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for i := 0; i < 2; i++ {
		d := zmq4.NewDealer(context.Background())
		defer d.Close()
		if err := d.Dial(endpoint(t, srv)); err != nil {
			t.Fatal(err)
		}
		if err := d.Send(zmq4.NewMsgString("hi")); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	if len(ids) != 2 {
		t.Fatalf("identities %v", ids)
	}
}

func TestPubSub(t *testing.T) {
	srv, err := Listen(Pub, "tcp://127.0.0.1:0", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sub := zmq4.NewSub(context.Background())
	defer sub.Close()
	if err := sub.Dial(endpoint(t, srv)); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, "kernel."); err != nil {
		t.Fatal(err)
	}
	// Wait for the subscription to arrive, publishing until it does.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.Send([][]byte{[]byte("kernel.probe")})
		srv.mu.Lock()
		ready := false
		for p := range srv.peers {
			ready = ready || p.subscribed([]byte("kernel.x"))
		}
		srv.mu.Unlock()
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscription never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Send([][]byte{[]byte("other.topic"), []byte("dropped")},
		[][]byte{[]byte("kernel.a"), []byte("1")}, [][]byte{[]byte("kernel.b"), []byte("2")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		m := recvTimeout(t, sub)
		if string(m.Frames[0]) == "kernel.probe" {
			continue
		}
		got = append(got, fmt.Sprintf("%s=%s", m.Frames[0], m.Frames[1]))
	}
	if got[0] != "kernel.a=1" || got[1] != "kernel.b=2" {
		t.Fatalf("got %q", got)
	}
}

func TestRepEcho(t *testing.T) {
	dir := t.TempDir()
	ep := "ipc://" + filepath.Join(dir, "hb")
	srv, err := Listen(Rep, ep, func(p *Peer, frames [][]byte) { p.Send(frames) }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	req := zmq4.NewReq(context.Background())
	defer req.Close()
	if err := req.Dial(ep); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := req.Send(zmq4.NewMsgString(fmt.Sprint("ping", i))); err != nil {
			t.Fatal(err)
		}
		m := recvTimeout(t, req)
		if string(m.Frames[len(m.Frames)-1]) != fmt.Sprint("ping", i) {
			t.Fatalf("got %q", m.Frames)
		}
	}
}

// writeRaw connects to srv, writes b and waits until the server closes
// the connection.
func writeRaw(t *testing.T, srv *Socket, b []byte) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(b)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 256)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection not closed")
			}
			return
		}
	}
}

func TestGarbagePeerIsDropped(t *testing.T) {
	srv, err := Listen(Router, "tcp://127.0.0.1:0", func(*Peer, [][]byte) {}, Options{WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	writeRaw(t, srv, []byte("GET / HTTP/1.0\r\n\r\n"+strings.Repeat("z", 100)))
	srv.mu.Lock()
	n := len(srv.peers)
	srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d peers left", n)
	}
}

// A peer that resets its connection (it closed with data unread, as a
// Jupyter client restarting a kernel does) has only gone away: that is not
// logged as a connection error.
func TestResetPeerIsNotLogged(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	srv, err := Listen(Router, "tcp://127.0.0.1:0", func(*Peer, [][]byte) {}, Options{Logf: func(f string, a ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprintf(f, a...))
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, withReady := range []bool{false, true} {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		msg := append([]byte(nil), greeting...)
		if withReady {
			ready := []byte{byte(len("READY"))}
			ready = append(ready, "READY"...)
			ready = property(ready, "Socket-Type", "DEALER")
			msg = append(msg, frameHeader(nil, flagCommand, len(ready))...)
			msg = append(msg, ready...)
		}
		c.Write(msg[:len(msg)-1]) // the server waits for the last byte
		time.Sleep(50 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0) // close with a reset
		c.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		srv.mu.Lock()
		n := len(srv.peers)
		srv.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d peers left", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) > 0 {
		t.Errorf("a reset was logged: %q", logged)
	}
}

func TestHugeFrameLengthRejected(t *testing.T) {
	srv, err := Listen(Router, "tcp://127.0.0.1:0", func(*Peer, [][]byte) { t.Error("handler called") }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g := append([]byte(nil), greeting...)
	ready := []byte{byte(len("READY"))}
	ready = append(ready, "READY"...)
	ready = property(ready, "Socket-Type", "DEALER")
	msg := append(g, frameHeader(nil, flagCommand, len(ready))...)
	msg = append(msg, ready...)
	msg = append(msg, flagLong, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	writeRaw(t, srv, msg)
}

// A PUB greets each new subscriber through OnSubscribe, and what it sends
// there reaches that subscriber first.
func TestOnSubscribeGreets(t *testing.T) {
	srv, err := Listen(Pub, "tcp://127.0.0.1:0", nil, Options{OnSubscribe: func(p *Peer) {
		p.Send([][]byte{[]byte("kernel.welcome"), []byte("hello")})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sub := zmq4.NewSub(context.Background())
	defer sub.Close()
	if err := sub.Dial(endpoint(t, srv)); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, "kernel."); err != nil {
		t.Fatal(err)
	}
	m := recvTimeout(t, sub)
	if string(m.Frames[0]) != "kernel.welcome" || string(m.Frames[1]) != "hello" {
		t.Fatalf("first message %q", m.Frames)
	}
}
