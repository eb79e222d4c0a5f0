package wire

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConnectionInfo(t *testing.T) {
	ci, err := ParseConnectionInfo([]byte(`{"shell_port": 1, "iopub_port": 2, "stdin_port": 3,
		"control_port": 4, "hb_port": 5, "ip": "127.0.0.1", "key": "k", "transport": "tcp",
		"signature_scheme": "hmac-sha256", "kernel_name": "goproc"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ci.Endpoint(ci.ShellPort); got != "tcp://127.0.0.1:1" {
		t.Errorf("shell endpoint = %q", got)
	}
	ci, err = ParseConnectionInfo([]byte(`{"transport": "ipc", "ip": "/tmp/k", "shell_port": 7}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ci.Endpoint(7); got != "ipc:///tmp/k-7" {
		t.Errorf("ipc endpoint = %q", got)
	}
	if ci.SignatureScheme != "hmac-sha256" {
		t.Errorf("default scheme = %q", ci.SignatureScheme)
	}
	ci, _ = ParseConnectionInfo([]byte(`{"ip": "::1"}`))
	if got := ci.Endpoint(9); got != "tcp://[::1]:9" {
		t.Errorf("ipv6 endpoint = %q", got)
	}
	for _, bad := range []string{`{`, `{"transport": "udp"}`, `{"signature_scheme": "sha256"}`,
		`{"signature_scheme": "hmac-whirlpool"}`, `{"shell_port": 70000}`, `{"transport": "ipc"}`, `[]`} {
		if _, err := ParseConnectionInfo([]byte(bad)); err == nil {
			t.Errorf("ParseConnectionInfo(%s) succeeded", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "kernel.json")
	os.WriteFile(path, []byte(`{"key": "x"}`), 0o600)
	if ci, err := ReadConnectionFile(path); err != nil || ci.Key != "x" {
		t.Errorf("ReadConnectionFile = %+v, %v", ci, err)
	}
	if _, err := ReadConnectionFile(path + ".missing"); err == nil {
		t.Error("missing file accepted")
	}
}

// Digests computed with Python's hmac and hashlib, as jupyter_client does.
func TestSignMatchesPython(t *testing.T) {
	parts := [][]byte{[]byte(`{"msg_id":"a","msg_type":"kernel_info_request"}`), []byte(`{}`), []byte(`{}`), []byte(`{}`)}
	for scheme, want := range map[string]string{
		"hmac-sha256":   "ca8b68744108d95cd720d6bbf9ef601766bee34dd076f123ff807898f711d9d6",
		"hmac-sha512":   "e81e7c29baf616b664d9e3557998adc61d705f8ac2bdd7df20ade843b4491b5de7d8d1c87972629d4c9496e9f9c2efdc5c6174470bd1a43f6f1932ec88887acc",
		"hmac-md5":      "44d6b264ae03bd241b96b2697b863587",
		"hmac-sha3_256": "5911cd7258a3600d4c6420e8ea20cea7a380580a801a7c8fd603a12687b2f03f",
	} {
		s, err := NewSigner(scheme, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(s.Sign(parts...)); got != want {
			t.Errorf("%s: got %s want %s", scheme, got, want)
		}
		if !s.Verify([]byte(want), parts...) || s.Verify([]byte(strings.ToUpper(want)), parts...) || s.Verify(nil, parts...) {
			t.Errorf("%s: Verify wrong", scheme)
		}
	}
}

func TestUnsigned(t *testing.T) {
	s, err := NewSigner("hmac-sha256", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Enabled() || len(s.Sign([]byte("x"))) != 0 || !s.Verify([]byte("whatever")) {
		t.Error("empty key should sign with \"\" and accept anything")
	}
}

func TestRoundTrip(t *testing.T) {
	s, _ := NewSigner("hmac-sha256", []byte("key"))
	sess := NewSession("u")
	req := &Message{Identities: [][]byte{[]byte("client")}, Header: sess.NewHeader("execute_request"),
		Content: json.RawMessage(`{"code":"1<2 && 3>2"}`)}
	frames, err := Encode(req, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(frames, s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header != req.Header || string(got.Identities[0]) != "client" || string(got.Content) != string(req.Content) {
		t.Fatalf("round trip: %+v", got)
	}
	rep, err := sess.Reply(got, "execute_reply", map[string]any{"status": "ok", "html": "<b>"})
	if err != nil {
		t.Fatal(err)
	}
	if string(rep.ParentHeader) != string(got.RawHeader) || string(rep.Identities[0]) != "client" {
		t.Errorf("reply parent/identities wrong: %s", rep.ParentHeader)
	}
	if !strings.Contains(string(rep.Content), `"<b>"`) {
		t.Errorf("content HTML-escaped: %s", rep.Content)
	}
	if rep.Header.MsgID == req.Header.MsgID {
		t.Error("msg_id reused")
	}
	if _, err := time.Parse(time.RFC3339Nano, rep.Header.Date); err != nil || !strings.HasSuffix(rep.Header.Date, "Z") {
		t.Errorf("date %q: %v", rep.Header.Date, err)
	}
	// Tampering with any signed frame is detected.
	for i := 2; i < 7; i++ {
		bad := append([][]byte(nil), frames...)
		bad[i] = append([]byte(nil), bad[i]...)
		bad[i][0] ^= 1
		if _, err := Decode(bad, s); err == nil {
			t.Errorf("tampered frame %d accepted", i)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	s, _ := NewSigner("hmac-sha256", []byte("key"))
	sign := func(h, p, m, c string) [][]byte {
		return [][]byte{[]byte("id"), []byte(Delimiter), s.Sign([]byte(h), []byte(p), []byte(m), []byte(c)), []byte(h), []byte(p), []byte(m), []byte(c)}
	}
	good := `{"msg_id":"1","msg_type":"x","session":"s","username":"u","date":"","version":"5.3"}`
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"empty", nil, ErrNoDelimiter},
		{"garbage", [][]byte{[]byte("hello")}, ErrNoDelimiter},
		{"truncated", sign(good, "{}", "{}", "{}")[:5], ErrTruncated},
		{"forged", func() [][]byte { f := sign(good, "{}", "{}", "{}"); f[2] = []byte("00"); return f }(), ErrBadSignature},
		{"missing sig", func() [][]byte { f := sign(good, "{}", "{}", "{}"); f[2] = nil; return f }(), ErrBadSignature},
		{"header not json", sign("{", "{}", "{}", "{}"), ErrBadJSON},
		{"header array", sign("[]", "{}", "{}", "{}"), ErrBadJSON},
		{"header no type", sign(`{"msg_id":"1"}`, "{}", "{}", "{}"), ErrBadHeader},
		{"header wrong types", sign(`{"msg_id":1,"msg_type":"x"}`, "{}", "{}", "{}"), ErrBadHeader},
		{"content not json", sign(good, "{}", "{}", `{"code":`), ErrBadJSON},
		{"content string", sign(good, "{}", "{}", `"x"`), ErrBadJSON},
	}
	for _, c := range cases {
		_, err := Decode(c.frames, s)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	m, err := Decode(sign(good, "", "null", "{}"), s)
	if err != nil || string(m.ParentHeader) != "{}" {
		t.Errorf("empty parent: %v %s", err, m.ParentHeader)
	}
}

func TestUUID(t *testing.T) {
	a, b := NewUUID(), NewUUID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("uuids %s %s", a, b)
	}
}

func FuzzDecode(f *testing.F) {
	s, _ := NewSigner("hmac-sha256", nil)
	sess := NewSession("")
	m, _ := sess.NewMessage("execute_request", nil, map[string]any{"code": "fmt.Println(1)"})
	frames, _ := Encode(m, s)
	join := func(fr [][]byte) []byte {
		var out []byte
		for _, x := range fr {
			out = append(out, x...)
			out = append(out, 0)
		}
		return out
	}
	f.Add(join(frames))
	f.Add(join(append([][]byte{[]byte("id1"), []byte("id2")}, frames...)))
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"))
	f.Add([]byte("<IDS|MSG>\x00\x00{\"msg_id\":\"1\",\"msg_type\":\"x\"}\x00\x00null\x00{}\x00buf"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Frames are NUL-separated so the fuzzer can vary their number.
		var fr [][]byte
		start := 0
		for i, c := range data {
			if c == 0 {
				fr = append(fr, data[start:i])
				start = i + 1
			}
		}
		fr = append(fr, data[start:])
		msg, err := Decode(fr, s)
		if err != nil {
			return
		}
		if msg.Header.MsgID == "" || msg.Header.MsgType == "" || !json.Valid(msg.Content) {
			t.Fatalf("accepted invalid message: %+v", msg)
		}
		out, err := Encode(msg, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(out, s); err != nil {
			t.Fatalf("re-decoding an encoded message: %v", err)
		}
	})
}
