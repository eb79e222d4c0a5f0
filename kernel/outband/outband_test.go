package outband

import (
	"strings"
	"testing"
)

type rec struct{ out []string }

func (r *rec) Text(p []byte)          { r.out = append(r.out, "T:"+string(p)) }
func (r *rec) Frame(k byte, p []byte) { r.out = append(r.out, "F"+string(k)+":"+string(p)) }
func joined(r *rec) string            { return strings.Join(r.out, "|") }
func merge(r *rec) string {
	// adjacent text pieces may be split differently; merge them
	var b strings.Builder
	last := ""
	for _, s := range r.out {
		if strings.HasPrefix(s, "T:") && strings.HasPrefix(last, "T:") {
			b.WriteString(s[2:])
		} else {
			if b.Len() > 0 {
				b.WriteString("|")
			}
			b.WriteString(s)
		}
		last = s
	}
	return b.String()
}

func TestDemuxEveryByteSplit(t *testing.T) {
	stream := "hello\n" + string(Encode(KindDisplay, []byte(`{"a":1}`))) + "a\x00b\n" + string(Encode(KindEnd, []byte("7"))) + "tail"
	want := "T:hello\n|FD:{\"a\":1}|T:a\x00b\n|FE:7|T:tail"
	for split := 0; split <= len(stream); split++ {
		r := &rec{}
		d := &Demux{H: r}
		d.Write([]byte(stream[:split]))
		d.Write([]byte(stream[split:]))
		if got := merge(r); got != want {
			t.Fatalf("split at %d: got %q want %q", split, got, want)
		}
	}
	// one byte at a time
	r := &rec{}
	d := &Demux{H: r}
	for i := 0; i < len(stream); i++ {
		d.Write([]byte{stream[i]})
	}
	if got := merge(r); got != want {
		t.Fatalf("bytewise: got %q want %q", got, want)
	}
	_ = joined
}

func TestLines(t *testing.T) {
	var l Lines
	if got := l.Add([]byte("ab")); got != nil {
		t.Fatalf("partial line released: %q", got)
	}
	if got := string(l.Add([]byte("c\nd\ne"))); got != "abc\nd\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(l.Flush()); got != "e" {
		t.Fatalf("flush got %q", got)
	}
	if l.Len() != 0 {
		t.Fatal("not empty after flush")
	}
}

// A header that announces more than MaxFrame is text: its bytes are not
// held back (unseen and uncounted by output limits) waiting for a frame
// that never ends.
func TestDemuxOversizedFrameIsText(t *testing.T) {
	var r rec
	d := Demux{H: &r, MaxFrame: 1024}
	hdr := magic + "D" + "ffffffff"
	d.Write([]byte(hdr + strings.Repeat("x", 4096)))
	if d.Pending() {
		t.Fatalf("a frame announcing 4 GiB is held back")
	}
	var text int
	for _, s := range r.out {
		if !strings.HasPrefix(s, "T:") {
			t.Fatalf("got a frame: %q", s)
		}
		text += len(s) - 2
	}
	if text != len(hdr)+4096 {
		t.Errorf("%d bytes of text, want %d", text, len(hdr)+4096)
	}
	// Within the cap, frames still work.
	r.out = nil
	d.Write(Encode(KindDisplay, []byte("{}")))
	if joined(&r) != "FD:{}" {
		t.Errorf("got %q", joined(&r))
	}
}
