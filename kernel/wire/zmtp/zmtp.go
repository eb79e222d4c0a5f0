// Package zmtp is the server side of ZMTP 3.0 (the ZeroMQ wire protocol,
// https://rfc.zeromq.org/spec/23/) with the NULL mechanism, for the three
// socket types a Jupyter kernel binds: ROUTER (shell, control, stdin), PUB
// (iopub) and REP (heartbeat).
//
// It exists for latency. Every message is read through a buffer (one read
// system call for a whole message, not two per frame) and written with one
// writev from the goroutine that sends it, so a reply is on the wire when
// Send returns and a message published before it is on the wire before it.
// Received messages are handed to a callback on the connection's reader
// goroutine, without a queue in between.
//
// Peers are libzmq's (and zmq4's) DEALER, REQ and SUB sockets; Jupyter's
// message signing happens a layer above, so NULL is the only mechanism.
package zmtp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind is a socket type.
type Kind string

// The socket types this package serves.
const (
	Router Kind = "ROUTER"
	Pub    Kind = "PUB"
	Rep    Kind = "REP"
)

// Frame flags.
const (
	flagMore    = 0x01
	flagLong    = 0x02
	flagCommand = 0x04
)

// MaxFrame is the largest frame accepted from a peer; a larger one closes
// the connection (a corrupt length must not allocate the machine's memory).
const MaxFrame = 1 << 30

// Handler receives one message from peer p. For a ROUTER socket the first
// frame is the peer's routing identity. It runs on the peer's reader
// goroutine: the next message from that peer waits until it returns.
type Handler func(p *Peer, frames [][]byte)

// Socket is a listening socket and its connected peers.
type Socket struct {
	kind    Kind
	ln      net.Listener
	handle  Handler
	timeout time.Duration
	logf    func(format string, args ...any)
	onSub   func(p *Peer)

	mu     sync.Mutex
	peers  map[*Peer]struct{}
	byID   map[string]*Peer // ROUTER: routing identity -> peer
	nextID uint32
	closed bool
	wg     sync.WaitGroup
}

// Options tune a Socket.
type Options struct {
	// WriteTimeout bounds one write to a peer that does not read; the peer
	// is then disconnected. Default 10 s.
	WriteTimeout time.Duration
	// Logf receives connection errors; nil discards them.
	Logf func(format string, args ...any)
	// OnSubscribe (PUB) is called on the peer's reading goroutine after it
	// subscribes to a topic: a PUB drops what it sends before then, so a
	// server can greet the new subscriber with the state it missed.
	OnSubscribe func(p *Peer)
}

// Listen binds endpoint ("tcp://HOST:PORT", "ipc://PATH") and accepts peers
// in the background. handle receives the messages peers send (nil for PUB,
// whose peers only send subscriptions).
func Listen(kind Kind, endpoint string, handle Handler, opts Options) (*Socket, error) {
	network, addr, err := splitEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		os.Remove(addr) // a stale socket file from a previous kernel
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Socket{kind: kind, ln: ln, handle: handle, timeout: opts.WriteTimeout, logf: opts.Logf,
		onSub: opts.OnSubscribe, peers: map[*Peer]struct{}{}, byID: map[string]*Peer{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func splitEndpoint(ep string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(ep, "tcp://"):
		addr = ep[len("tcp://"):]
		if h, p, ok := strings.Cut(addr, ":"); ok && h == "*" {
			addr = "0.0.0.0:" + p
		}
		return "tcp", addr, nil
	case strings.HasPrefix(ep, "ipc://"):
		return "unix", ep[len("ipc://"):], nil
	}
	return "", "", fmt.Errorf("zmtp: unsupported endpoint %q (want tcp:// or ipc://)", ep)
}

// Addr is the address the socket listens on.
func (s *Socket) Addr() net.Addr { return s.ln.Addr() }

// Close stops listening and disconnects every peer.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	peers := make([]*Peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, p := range peers {
		p.conn.Close()
	}
	s.wg.Wait() // the accept loop; peer goroutines end on their own
	return err
}

func (s *Socket) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.logf("zmtp %s: accept: %v", s.kind, err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		p := &Peer{s: s, conn: c, r: bufio.NewReaderSize(c, 64<<10), subs: map[string]int{}}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.peers[p] = struct{}{}
		s.mu.Unlock()
		go p.serve()
	}
}

// Peer is one connected client.
type Peer struct {
	s    *Socket
	conn net.Conn
	r    *bufio.Reader
	id   string // ROUTER routing identity
	wmu  sync.Mutex

	smu  sync.RWMutex
	subs map[string]int // PUB: subscribed topic prefixes (counted)
	up   bool           // handshake done; guarded by s.mu
}

// Identity is the peer's routing identity (ROUTER sockets).
func (p *Peer) Identity() []byte { return []byte(p.id) }

func (p *Peer) serve() {
	defer p.drop()
	if err := p.handshake(); err != nil {
		if !disconnected(err) {
			p.s.logf("zmtp %s: handshake with %s: %v", p.s.kind, p.conn.RemoteAddr(), err)
		}
		return
	}
	for {
		frames, cmd, err := p.readMessage()
		if err != nil {
			if !disconnected(err) {
				p.s.logf("zmtp %s: reading from %s: %v", p.s.kind, p.conn.RemoteAddr(), err)
			}
			return
		}
		if cmd {
			p.command(frames[0])
			continue
		}
		switch p.s.kind {
		case Pub:
			// ZMTP 3.0 subscriptions: one frame, \x01topic or \x00topic.
			if len(frames) == 1 && len(frames[0]) > 0 && frames[0][0] <= 1 {
				p.subscribe(string(frames[0][1:]), frames[0][0] == 1)
			}
		case Router:
			if p.s.handle != nil {
				p.s.handle(p, append([][]byte{[]byte(p.id)}, frames...))
			}
		default:
			if p.s.handle != nil {
				p.s.handle(p, frames)
			}
		}
	}
}

// disconnected reports whether err only says that the peer went away:
// closed its end (EOF, mid-message too), reset the connection (a client
// that closes with data unread, as Jupyter clients do when they restart a
// kernel), or the socket was closed here. Those are not worth a log line.
func disconnected(err error) bool {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// drop forgets a disconnected peer.
func (p *Peer) drop() {
	s := p.s
	s.mu.Lock()
	delete(s.peers, p)
	if p.up && s.byID[p.id] == p {
		delete(s.byID, p.id)
	}
	s.mu.Unlock()
	p.conn.Close()
}

func (p *Peer) subscribe(topic string, on bool) {
	p.smu.Lock()
	if on {
		p.subs[topic]++
	} else if p.subs[topic] > 1 {
		p.subs[topic]--
	} else {
		delete(p.subs, topic)
	}
	p.smu.Unlock()
	if on && p.s.onSub != nil {
		p.s.onSub(p)
	}
}

func (p *Peer) subscribed(topic []byte) bool {
	p.smu.RLock()
	defer p.smu.RUnlock()
	for t := range p.subs {
		if len(topic) >= len(t) && string(topic[:len(t)]) == t {
			return true
		}
	}
	return false
}

// command handles a command received after the handshake.
func (p *Peer) command(body []byte) {
	name, data, ok := parseCommand(body)
	if !ok {
		return
	}
	switch name {
	case "PING":
		// PING: TTL (2 bytes) then context, which PONG echoes.
		ctx := []byte{}
		if len(data) >= 2 {
			ctx = data[2:]
		}
		p.writeCommand("PONG", ctx)
	case "SUBSCRIBE", "CANCEL":
		if p.s.kind == Pub {
			p.subscribe(string(data), name == "SUBSCRIBE")
		}
	}
}

func parseCommand(body []byte) (name string, data []byte, ok bool) {
	if len(body) < 1 || len(body) < 1+int(body[0]) {
		return "", nil, false
	}
	n := int(body[0])
	return string(body[1 : 1+n]), body[1+n:], true
}

// greeting is ours: ZMTP 3.0, NULL mechanism, as-server 0 (NULL has no
// client/server roles).
var greeting = func() []byte {
	g := make([]byte, 64)
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0
	copy(g[12:32], "NULL")
	return g
}()

func (p *Peer) handshake() error {
	p.conn.SetDeadline(time.Now().Add(p.s.timeout))
	defer p.conn.SetDeadline(time.Time{})
	if _, err := p.conn.Write(greeting); err != nil {
		return err
	}
	var g [64]byte
	if _, err := io.ReadFull(p.r, g[:]); err != nil {
		return err
	}
	if g[0] != 0xff || g[9]&1 != 1 {
		return errors.New("not a ZMTP peer")
	}
	if g[10] < 3 {
		return fmt.Errorf("ZMTP %d.%d peer; version 3 is required", g[10], g[11])
	}
	if mech := strings.TrimRight(string(g[12:32]), "\x00"); mech != "NULL" {
		return fmt.Errorf("security mechanism %q; only NULL is supported", mech)
	}
	if err := p.writeCommand("READY", property(nil, "Socket-Type", string(p.s.kind))); err != nil {
		return err
	}
	frames, cmd, err := p.readMessage()
	if err != nil {
		return err
	}
	if !cmd {
		return errors.New("expected READY")
	}
	name, data, ok := parseCommand(frames[0])
	if !ok || name != "READY" {
		return fmt.Errorf("expected READY, got %q", name)
	}
	props, err := parseProperties(data)
	if err != nil {
		return err
	}
	if !compatible(p.s.kind, props["socket-type"]) {
		return fmt.Errorf("peer socket type %q cannot talk to %s", props["socket-type"], p.s.kind)
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kind == Router {
		p.id = props["identity"]
		if p.id == "" {
			// libzmq's choice for anonymous peers: 0 then a 4-byte counter.
			s.nextID++
			var b [5]byte
			binary.BigEndian.PutUint32(b[1:], s.nextID)
			p.id = string(b[:])
		}
		// A reconnecting client takes its identity over from the old
		// connection (libzmq's ROUTER_HANDOVER).
		s.byID[p.id] = p
	}
	p.up = true
	return nil
}

func compatible(k Kind, peer string) bool {
	switch k {
	case Router:
		return peer == "DEALER" || peer == "REQ" || peer == "ROUTER"
	case Pub:
		return peer == "SUB" || peer == "XSUB"
	case Rep:
		return peer == "REQ" || peer == "DEALER"
	}
	return false
}

func property(b []byte, name, value string) []byte {
	b = append(b, byte(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// parseProperties decodes READY metadata; names are case-insensitive, so
// they are returned in lower case.
func parseProperties(b []byte) (map[string]string, error) {
	props := map[string]string{}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+4 {
			return nil, errors.New("malformed READY metadata")
		}
		name := strings.ToLower(string(b[1 : 1+n]))
		b = b[1+n:]
		v := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(len(b)) < uint64(v) {
			return nil, errors.New("malformed READY metadata")
		}
		props[name] = string(b[:v])
		b = b[v:]
	}
	return props, nil
}

// readMessage reads one message (all its frames) or one command.
func (p *Peer) readMessage() (frames [][]byte, cmd bool, err error) {
	for {
		flags, err := p.r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		var size uint64
		if flags&flagLong != 0 {
			var b [8]byte
			if _, err := io.ReadFull(p.r, b[:]); err != nil {
				return nil, false, err
			}
			size = binary.BigEndian.Uint64(b[:])
		} else {
			b, err := p.r.ReadByte()
			if err != nil {
				return nil, false, err
			}
			size = uint64(b)
		}
		if size > MaxFrame {
			return nil, false, fmt.Errorf("frame of %d bytes is larger than %d", size, MaxFrame)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(p.r, body); err != nil {
			return nil, false, err
		}
		if flags&flagCommand != 0 {
			if len(frames) > 0 {
				return nil, false, errors.New("command inside a multipart message")
			}
			return [][]byte{body}, true, nil
		}
		frames = append(frames, body)
		if flags&flagMore == 0 {
			return frames, false, nil
		}
	}
}

// frameHeader appends the header of a frame of n bytes.
func frameHeader(b []byte, flags byte, n int) []byte {
	if n > 255 {
		b = append(b, flags|flagLong)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, flags, byte(n))
}

func (p *Peer) writeCommand(name string, data []byte) error {
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, data...)
	return p.write(net.Buffers{frameHeader(nil, flagCommand, len(body)), body})
}

// encode appends msg's frames to bufs, headers in hdr (which must not grow
// beyond its capacity while bufs refers to it, so it is sized first).
func encode(bufs net.Buffers, msgs ...[][]byte) net.Buffers {
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	hdr := make([]byte, 0, 9*n)
	for _, m := range msgs {
		for i, f := range m {
			var fl byte
			if i < len(m)-1 {
				fl = flagMore
			}
			start := len(hdr)
			hdr = frameHeader(hdr, fl, len(f))
			bufs = append(bufs, hdr[start:len(hdr):len(hdr)])
			if len(f) > 0 {
				bufs = append(bufs, f)
			}
		}
	}
	return bufs
}

func (p *Peer) write(bufs net.Buffers) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.conn.SetWriteDeadline(time.Now().Add(p.s.timeout))
	_, err := bufs.WriteTo(p.conn)
	if err != nil {
		// A peer that does not read (or is gone) is disconnected, as the
		// half-written message leaves its stream unusable anyway.
		p.conn.Close()
	}
	return err
}

// ErrNoPeer is returned by Send on a ROUTER socket when no peer has the
// message's routing identity (libzmq drops such messages silently).
var ErrNoPeer = errors.New("zmtp: no peer with that routing identity")

// Send sends one or more messages, in order, with a single write per peer.
//   - ROUTER: each message's first frame is the routing identity; all
//     messages must go to the same peer.
//   - PUB: each message goes to every peer subscribed to a prefix of its
//     first frame.
//   - REP: use Peer.Send to answer the peer that asked.
func (s *Socket) Send(msgs ...[][]byte) error {
	if len(msgs) == 0 {
		return nil
	}
	switch s.kind {
	case Router:
		if len(msgs[0]) == 0 {
			return errors.New("zmtp: ROUTER message without a routing identity")
		}
		s.mu.Lock()
		p := s.byID[string(msgs[0][0])]
		s.mu.Unlock()
		if p == nil {
			return ErrNoPeer
		}
		strip := make([][][]byte, len(msgs))
		for i, m := range msgs {
			if len(m) < 2 || string(m[0]) != string(msgs[0][0]) {
				return errors.New("zmtp: ROUTER messages in one Send must go to one peer and have a body")
			}
			strip[i] = m[1:]
		}
		return p.write(encode(nil, strip...))
	case Pub:
		s.mu.Lock()
		peers := make([]*Peer, 0, len(s.peers))
		for p := range s.peers {
			peers = append(peers, p)
		}
		s.mu.Unlock()
		var errs []error
		for _, p := range peers {
			var sel [][][]byte
			for _, m := range msgs {
				if len(m) > 0 && p.subscribed(m[0]) {
					sel = append(sel, m)
				}
			}
			if len(sel) == 0 {
				continue
			}
			if err := p.write(encode(nil, sel...)); err != nil {
				errs = append(errs, fmt.Errorf("zmtp: publishing to %s: %w", p.conn.RemoteAddr(), err))
			}
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("zmtp: Send on a %s socket; answer with Peer.Send", s.kind)
}

// Send writes messages to this peer (the REP reply, envelope included).
func (p *Peer) Send(msgs ...[][]byte) error { return p.write(encode(nil, msgs...)) }
