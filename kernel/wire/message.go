package wire

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Delimiter separates the routing identities from the message proper.
const Delimiter = "<IDS|MSG>"

// ProtocolVersion is the messaging protocol version goproc speaks.
const ProtocolVersion = "5.3"

// DateFormat is ISO 8601 with microseconds and a timezone, as jupyter_client
// writes dates.
const DateFormat = "2006-01-02T15:04:05.000000Z07:00"

// Header is a message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message with its routing identities.
type Message struct {
	// Identities are the ZeroMQ routing frames before the delimiter.
	Identities [][]byte
	Header     Header
	// RawHeader is the header frame as received. Replies carry it verbatim
	// as their parent_header, so fields goproc does not know survive.
	RawHeader    json.RawMessage
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
	Content      json.RawMessage
	Buffers      [][]byte
}

// Errors Decode wraps, for callers that want to tell them apart.
var (
	ErrNoDelimiter  = errors.New("no " + Delimiter + " delimiter")
	ErrTruncated    = errors.New("truncated message")
	ErrBadSignature = errors.New("bad signature")
	ErrBadHeader    = errors.New("bad header")
	ErrBadJSON      = errors.New("malformed JSON")
)

var emptyObject = json.RawMessage("{}")

// Decode parses the frames of a message received on a ROUTER or SUB socket
// and verifies its signature. It never panics; errors say what is wrong.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	delim := -1
	for i, f := range frames {
		if string(f) == Delimiter {
			delim = i
			break
		}
	}
	if delim < 0 {
		return nil, fmt.Errorf("decoding %d frames: %w", len(frames), ErrNoDelimiter)
	}
	rest := frames[delim+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("decoding: %w: %d frames after the delimiter, want at least 5 (signature, header, parent_header, metadata, content)", ErrTruncated, len(rest))
	}
	sig, h, p, md, c := rest[0], rest[1], rest[2], rest[3], rest[4]
	if !s.Verify(sig, h, p, md, c) {
		return nil, fmt.Errorf("decoding: %w (%d bytes)", ErrBadSignature, len(sig))
	}
	m := &Message{Identities: frames[:delim:delim], Buffers: rest[5:]}
	if err := jsonObject(h, "header", false); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(h, &m.Header); err != nil {
		return nil, fmt.Errorf("decoding header: %w: %v", ErrBadHeader, err)
	}
	if m.Header.MsgID == "" || m.Header.MsgType == "" {
		return nil, fmt.Errorf("decoding header: %w: msg_id and msg_type are required", ErrBadHeader)
	}
	m.RawHeader = h
	var err error
	if m.ParentHeader, err = objectOrEmpty(p, "parent_header"); err != nil {
		return nil, err
	}
	if m.Metadata, err = objectOrEmpty(md, "metadata"); err != nil {
		return nil, err
	}
	if m.Content, err = objectOrEmpty(c, "content"); err != nil {
		return nil, err
	}
	return m, nil
}

func objectOrEmpty(b []byte, what string) (json.RawMessage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return emptyObject, nil
	}
	if err := jsonObject(b, what, true); err != nil {
		return nil, err
	}
	return b, nil
}

func jsonObject(b []byte, what string, allowNull bool) error {
	t := bytes.TrimSpace(b)
	if allowNull && string(t) == "null" {
		return nil
	}
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return fmt.Errorf("decoding %s: %w: want a JSON object (%d bytes)", what, ErrBadJSON, len(b))
	}
	return nil
}

// Encode signs m and returns its frames, identities first.
func Encode(m *Message, s *Signer) ([][]byte, error) {
	h, err := marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("encoding %s header: %w", m.Header.MsgType, err)
	}
	p, md, c := orEmpty(m.ParentHeader), orEmpty(m.Metadata), orEmpty(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(Delimiter), s.Sign(h, p, md, c), h, p, md, c)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

func orEmpty(b json.RawMessage) []byte {
	if len(b) == 0 || string(b) == "null" {
		return emptyObject
	}
	return b
}

// marshal is json.Marshal without HTML escaping (notebook output is full of
// <, > and &) and without the trailing newline of json.Encoder.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Marshal encodes a message part (content, metadata) as JSON without HTML
// escaping.
func Marshal(v any) (json.RawMessage, error) { return marshal(v) }

// Now is the current time in DateFormat.
func Now() string { return time.Now().UTC().Format(DateFormat) }

// NewUUID returns a random (version 4) UUID as a string.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to time.
		n := time.Now().UnixNano()
		for i := range b {
			b[i] = byte(n >> (8 * (i % 8)))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// Session makes the messages one kernel sends: it owns the session id,
// the username, and a counter that makes every msg_id unique (clients reject
// a repeated signature, and msg_id plus date make each signature unique).
type Session struct {
	ID       string
	Username string
	prefix   string
	count    atomic.Uint64
}

// NewSession returns a session with a fresh random id.
func NewSession(username string) *Session {
	id := NewUUID()
	if username == "" {
		username = "kernel"
	}
	return &Session{ID: id, Username: username, prefix: id[:8] + "_" + strconv.Itoa(os.Getpid()) + "_"}
}

// NewMsgID returns a msg_id unique within this session, in the
// "SESSION_PID_N" shape jupyter_client uses.
func (s *Session) NewMsgID() string {
	return s.prefix + strconv.FormatUint(s.count.Add(1), 10)
}

// NewHeader returns a fresh header for a message of type msgType.
func (s *Session) NewHeader(msgType string) Header {
	return Header{MsgID: s.NewMsgID(), Session: s.ID, Username: s.Username, Date: Now(),
		MsgType: msgType, Version: ProtocolVersion}
}

// NewMessage builds a message of type msgType whose parent is parent (may
// be nil), with content marshalled to JSON. It carries no identities.
func (s *Session) NewMessage(msgType string, parent *Message, content any) (*Message, error) {
	c, err := contentJSON(content)
	if err != nil {
		return nil, fmt.Errorf("encoding %s content: %w", msgType, err)
	}
	m := &Message{Header: s.NewHeader(msgType), ParentHeader: emptyObject, Metadata: emptyObject, Content: c}
	if parent != nil {
		m.ParentHeader = parent.RawHeader
		if len(m.ParentHeader) == 0 {
			if m.ParentHeader, err = marshal(parent.Header); err != nil {
				return nil, fmt.Errorf("encoding parent header: %w", err)
			}
		}
	}
	return m, nil
}

// Reply builds the reply of type msgType to req: same identities, and req's
// header as parent_header.
func (s *Session) Reply(req *Message, msgType string, content any) (*Message, error) {
	m, err := s.NewMessage(msgType, req, content)
	if err != nil {
		return nil, err
	}
	m.Identities = req.Identities
	return m, nil
}

func contentJSON(content any) (json.RawMessage, error) {
	switch c := content.(type) {
	case nil:
		return emptyObject, nil
	case json.RawMessage:
		return c, nil
	default:
		return marshal(c)
	}
}
