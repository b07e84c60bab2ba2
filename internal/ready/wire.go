package ready

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Command numbers (condor_commands.h).
const (
	sharedPortConnect = 75
	dcAuthenticate    = 60010
	dcSetReady        = 60043
)

const (
	headerSize = 5
	maxPayload = 1 << 20 // receivers reject larger frames
	ivSize     = 16
	tagSize    = 16
	// defaultChunk is C++'s frame size (CONDOR_IO_BUF_SIZE 4096 with the
	// header); frame boundaries mean nothing, so it only matters to tests.
	defaultChunk = 4096 - headerSize
)

// aesKey derives the AES-256-GCM key from a session key the way
// Condor_Crypt_Base::hkdf does: RFC 5869 HKDF-SHA256 over the key's ASCII
// text, salt "htcondor", info "keygen".
func aesKey(sessionKey string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(sessionKey), []byte("htcondor"), "keygen", 32)
}

// putInt appends a CEDAR integer: 8 bytes big-endian, for every int type.
func putInt(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// putString appends a CEDAR string: NUL-terminated in plaintext, and with
// an 8-byte length (counting the NUL) in front once encryption is on.
func putString(b []byte, s string, encrypted bool) []byte {
	if encrypted {
		b = putInt(b, int64(len(s)+1))
	}
	return append(append(b, s...), 0)
}

// putAd appends a ClassAd: the count, "Name = value" per attribute, and
// the empty MyType and TargetType strings getClassAd requires.
func putAd(b []byte, attrs []string, encrypted bool) []byte {
	b = putInt(b, int64(len(attrs)))
	for _, a := range attrs {
		b = putString(b, a, encrypted)
	}
	return putString(putString(b, "", encrypted), "", encrypted)
}

// stream is the client end of a CEDAR connection: frames, the two
// transcript digests and, once on, AES-GCM.
type stream struct {
	rw      io.ReadWriter
	chunk   int // plaintext bytes per frame
	hashing bool
	sendMD  hash.Hash // nil until a frame was hashed: a silent direction's digest is zeros
	recvMD  hash.Hash

	aead   cipher.AEAD
	baseIV [ivSize]byte
	ctr    uint32
	final  [2][32]byte // send, recv digests, frozen at the first encrypted frame
}

func (s *stream) hash(md *hash.Hash, b ...[]byte) {
	if !s.hashing {
		return
	}
	if *md == nil {
		*md = sha256.New()
	}
	for _, p := range b {
		(*md).Write(p)
	}
}

// writeMessage sends one message: frames of at most chunk bytes, the last
// with end flag 1, never an empty frame.
func (s *stream) writeMessage(msg []byte) error {
	if len(msg) == 0 {
		return nil // end_of_message with nothing buffered writes nothing
	}
	var out []byte
	for len(msg) > 0 {
		n := min(len(msg), s.chunk)
		part := msg[:n]
		msg = msg[n:]
		end := byte(0)
		if len(msg) == 0 {
			end = 1
		}
		var err error
		if out, err = s.appendFrame(out, end, part); err != nil {
			return err
		}
	}
	_, err := s.rw.Write(out)
	return err
}

func (s *stream) appendFrame(out []byte, end byte, part []byte) ([]byte, error) {
	if s.aead == nil {
		hdr := binary.BigEndian.AppendUint32([]byte{end}, uint32(len(part)))
		s.hash(&s.sendMD, hdr, part)
		return append(append(out, hdr...), part...), nil
	}
	if s.ctr == 0xFFFFFFFF {
		return nil, errors.New("AES-GCM IV counter exhausted")
	}
	n := len(part) + tagSize
	if s.ctr == 0 {
		n += ivSize
	}
	hdr := binary.BigEndian.AppendUint32([]byte{end}, uint32(n))
	iv := s.baseIV
	binary.BigEndian.PutUint32(iv[:4], binary.BigEndian.Uint32(iv[:4])+s.ctr)
	aad := hdr
	out = append(out, hdr...)
	if s.ctr == 0 {
		aad = append(append(append([]byte(nil), s.final[0][:]...), s.final[1][:]...), hdr...)
		out = append(out, s.baseIV[:]...)
	}
	s.ctr++
	return s.aead.Seal(out, iv[:], part, aad), nil
}

// readMessage reads one plaintext message: frames until one has a non-zero
// end flag.
func (s *stream) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var hdr [headerSize]byte
		if _, err := io.ReadFull(s.rw, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) && len(msg) == 0 {
				return nil, errors.New("the master closed the connection")
			}
			return nil, err
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if hdr[0] > 10 || n == 0 || n > maxPayload {
			return nil, fmt.Errorf("bad frame header %x", hdr)
		}
		part := make([]byte, n)
		if _, err := io.ReadFull(s.rw, part); err != nil {
			return nil, err
		}
		s.hash(&s.recvMD, hdr[:], part)
		msg = append(msg, part...)
		if hdr[0] != 0 {
			return msg, nil
		}
	}
}

// encrypt turns AES-GCM on for what we send, freezing the transcript
// digests into the first frame's AAD.
func (s *stream) encrypt(key []byte, iv [ivSize]byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	if s.aead, err = cipher.NewGCMWithNonceSize(block, ivSize); err != nil {
		return err
	}
	s.baseIV = iv
	for i, md := range []hash.Hash{s.sendMD, s.recvMD} {
		if md != nil {
			md.Sum(s.final[i][:0])
		}
	}
	return nil
}

// plainAd reads a plaintext ClassAd message into name → unparsed value.
func plainAd(msg []byte) (map[string]string, error) {
	if len(msg) < 8 {
		return nil, errors.New("short ClassAd")
	}
	n := int64(binary.BigEndian.Uint64(msg))
	msg = msg[8:]
	if n < 0 || n > 100 {
		return nil, fmt.Errorf("ClassAd with %d attributes", n)
	}
	ad := map[string]string{}
	for i := int64(0); i < n+2; i++ {
		j := strings.IndexByte(string(msg), 0)
		if j < 0 {
			return nil, errors.New("unterminated string in ClassAd")
		}
		line := string(msg[:j])
		msg = msg[j+1:]
		if i >= n {
			continue // MyType, TargetType
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("ClassAd line %q has no '='", clip(line))
		}
		ad[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(val)
	}
	if len(msg) != 0 {
		return nil, fmt.Errorf("%d bytes after the ClassAd", len(msg))
	}
	return ad, nil
}
