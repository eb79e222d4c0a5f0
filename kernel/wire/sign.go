package wire

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// hashes maps the hashlib names jupyter_client accepts after "hmac-" to
// their Go implementations. (blake2 and shake are not offered: blake2 is not
// in the standard library and shake has no fixed size for HMAC.)
var hashes = map[string]func() hash.Hash{
	"md5":        md5.New,
	"sha1":       sha1.New,
	"sha224":     sha256.New224,
	"sha256":     sha256.New,
	"sha384":     sha512.New384,
	"sha512":     sha512.New,
	"sha512_224": sha512.New512_224,
	"sha512_256": sha512.New512_256,
	"sha3_224":   func() hash.Hash { return sha3.New224() },
	"sha3_256":   func() hash.Hash { return sha3.New256() },
	"sha3_384":   func() hash.Hash { return sha3.New384() },
	"sha3_512":   func() hash.Hash { return sha3.New512() },
}

// Signer signs and verifies messages with the connection's key. A Signer
// with an empty key signs with the empty string and accepts any signature,
// as the spec says for unsigned connections. It is safe for concurrent use.
type Signer struct {
	scheme string
	key    []byte
	pool   sync.Pool // of hash.Hash (HMAC with key)
}

// NewSigner returns a signer for a signature_scheme such as "hmac-sha256".
func NewSigner(scheme string, key []byte) (*Signer, error) {
	name, ok := strings.CutPrefix(strings.ToLower(scheme), "hmac-")
	if !ok {
		return nil, fmt.Errorf("signature_scheme %q: must have the form hmac-HASH", scheme)
	}
	name = strings.ReplaceAll(name, "-", "_")
	newHash, ok := hashes[name]
	if !ok {
		return nil, fmt.Errorf("signature_scheme %q: unsupported hash %q", scheme, name)
	}
	s := &Signer{scheme: scheme, key: append([]byte(nil), key...)}
	s.pool.New = func() any { return hmac.New(newHash, s.key) }
	return s, nil
}

// Enabled reports whether messages are signed (the key is not empty).
func (s *Signer) Enabled() bool { return s != nil && len(s.key) > 0 }

// Sign returns the hex digest over the given frames (header, parent header,
// metadata, content), or nil when signing is disabled.
func (s *Signer) Sign(frames ...[]byte) []byte {
	if !s.Enabled() {
		return []byte{}
	}
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	for _, f := range frames {
		h.Write(f)
	}
	sum := h.Sum(nil)
	s.pool.Put(h)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// Verify reports whether sig is the signature of frames, in constant time.
// With signing disabled every signature is accepted.
func (s *Signer) Verify(sig []byte, frames ...[]byte) bool {
	if !s.Enabled() {
		return true
	}
	want := s.Sign(frames...)
	return subtle.ConstantTimeCompare(want, sig) == 1
}
