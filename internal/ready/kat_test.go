package ready

// Known-answer tests: the spec's Appendix B (cedar-dc-set-ready.md §9.3),
// byte for byte. The vectors were computed with OpenSSL (the EVP calls
// HTCondor makes) and Go; they pin the encodings, the transcript digests,
// the HKDF and the AES-GCM framing that no emulator can vouch for.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

const (
	katKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	katAES = "5e0e06d4199f1da96cc816a90e79b0a45c5d197ce06a8460f3b889afe8df0812"

	katSharedPort = "0100000037" + "000000000000004b" + "6d61737465725f343030305f6265656600" +
		"435245444d4f4e5f4f4155544800" + "0000000000000014" + "0000000000000000"
	katAuth   = "0100000119000000000000ea6a0000000000000007436f6d6d616e64203d2036303034330055736553657373696f6e203d20225945532200536964203d202266616d696c793a616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162220043727970746f4d6574686f6473203d202241455322004e6f6e6365203d202241414141414141414141414141414141414141414141414141414141414141414141414141414141414141412200526573756d65526573706f6e7365203d20747275650052656d6f746556657273696f6e203d202224436f6e646f7256657273696f6e3a2032352e302e3020323032352d30312d3031204275696c6449443a2030202422000000"
	katCSend  = "c8c4be0c4a14f02050ddcbe30daa155ee7787ce1f157b563d6d840d43034501b"
	katReply  = "010000009d000000000000000352657475726e436f6465203d2022415554484f52495a4544220052656d6f746556657273696f6e203d202224436f6e646f7256657273696f6e3a2032352e31342e3020323032362d30382d3231204275696c6449443a2030202422004e6f6e6365203d2022455245524552455245524552455245524552455245524552455245524552455245524552455245524552455222000000"
	katCRecv  = "48471fc63e62dec969d663137f131fdf2a6902efd4c8ee41089457fb1e3ae72e"
	katReady  = "000000000000000300000000000000114461656d6f6e504944203d203432343200000000000000001d4461656d6f6e4e616d65203d2022435245444d4f4e5f4f41555448220000000000000000164461656d6f6e5374617465203d202252656164792200000000000000000100000000000000000100"
	katIV     = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	katCipher = "36a437b6880973cffa5dbdbb3dfe6eb2efe38219d96534fb503d77e3f694bd12" +
		"8da42540c0a736eae09d82ccd7f906076267e3f5a041e5a28f48188633e2d47a" +
		"f89608cbdd7aaf2043e0c043c3588bdb5436984a86b75309f6afca6a45ce1f09" +
		"15c6dbf6945347d7e914c96bf5041e1b0944b9f2bf40"
	katTag = "19c883707a6e8a670080b1bfafb5c6f2"
)

var katSid = "family:" + strings.Repeat("ab", 24)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownAnswerHKDF(t *testing.T) {
	k, err := aesKey(katKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(k); got != katAES {
		t.Errorf("AES key %s; want %s", got, katAES)
	}
}

// TestKnownAnswerExchange runs the client's stream over a recorder and
// compares every byte it writes with Appendix B, feeding it the
// appendix's resume reply.
func TestKnownAnswerExchange(t *testing.T) {
	var wire bytes.Buffer
	rw := &recorder{w: &wire, r: bytes.NewReader(unhex(t, katReply))}
	s := &stream{rw: rw, chunk: defaultChunk}

	if err := s.writeMessage(sharedPortMsg("master_4000_beef", "CREDMON_OAUTH", 20)); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(wire.Bytes()); got != katSharedPort {
		t.Errorf("shared-port frame\n got %s\nwant %s", got, katSharedPort)
	}
	// Appendix B says "61 bytes", but its own header and fields add up to
	// 5 + 55 = 60: the hex is right, the count is not.
	if wire.Len() != 60 {
		t.Errorf("shared-port frame is %d bytes; want 60", wire.Len())
	}
	wire.Reset()

	s.hashing = true
	if err := s.writeMessage(resumeMsg(katSid, make([]byte, 33), true)); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(wire.Bytes()); got != katAuth {
		t.Errorf("DC_AUTHENTICATE frame\n got %s\nwant %s", got, katAuth)
	}
	if wire.Len() != 286 {
		t.Errorf("DC_AUTHENTICATE frame is %d bytes; want 286", wire.Len())
	}
	wire.Reset()

	reply, err := s.readMessage()
	if err != nil {
		t.Fatal(err)
	}
	ad, err := plainAd(reply)
	if err != nil || ad["returncode"] != `"AUTHORIZED"` {
		t.Fatalf("reply ad %v, %v", ad, err)
	}

	key, _ := aesKey(katKey)
	var iv [ivSize]byte
	copy(iv[:], unhex(t, katIV))
	if err := s.encrypt(key, iv); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(s.final[0][:]); got != katCSend {
		t.Errorf("C.send %s; want %s", got, katCSend)
	}
	if got := hex.EncodeToString(s.final[1][:]); got != katCRecv {
		t.Errorf("C.recv %s; want %s", got, katCRecv)
	}
	sum := sha256.Sum256(unhex(t, katAuth))
	if hex.EncodeToString(sum[:]) != katCSend {
		t.Error("Appendix B's C.send is not SHA-256 of its own DC_AUTHENTICATE frame")
	}

	pt := readyMsg(ReadyAd{PID: 4242, Name: "CREDMON_OAUTH", State: "Ready"})
	if got := hex.EncodeToString(pt); got != katReady || len(pt) != 118 {
		t.Errorf("ready plaintext (%d bytes)\n got %s\nwant %s", len(pt), got, katReady)
	}
	if err := s.writeMessage(pt); err != nil {
		t.Fatal(err)
	}
	want := "0100000096" + katIV + katCipher + katTag
	if got := hex.EncodeToString(wire.Bytes()); got != want {
		t.Errorf("encrypted frame\n got %s\nwant %s", got, want)
	}
	if wire.Len() != 155 {
		t.Errorf("encrypted frame is %d bytes; want 155", wire.Len())
	}

	// A second frame: IV a0a1a2a4…, AAD the header only.
	wire.Reset()
	if err := s.writeMessage([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f := wire.Bytes()
	if hex.EncodeToString(f[:5]) != "0100000013" {
		t.Fatalf("second frame header %x; want 0100000013 (no IV)", f[:5])
	}
	iv2 := unhex(t, "a0a1a2a4a4a5a6a7a8a9aaabacadaeaf")
	pt2, err := s.aead.Open(nil, iv2, f[5:], f[:5])
	if err != nil || !bytes.Equal(pt2, []byte{1, 2, 3}) {
		t.Errorf("second frame does not open with IV counter+1 and header-only AAD: %v", err)
	}
}

// TestKnownAnswerFrameLimits: the counter refuses to wrap; a message is
// never an empty frame.
func TestKnownAnswerFrameLimits(t *testing.T) {
	var wire bytes.Buffer
	s := &stream{rw: &recorder{w: &wire}, chunk: 4}
	if err := s.writeMessage(nil); err != nil || wire.Len() != 0 {
		t.Errorf("empty message wrote %d bytes, %v", wire.Len(), err)
	}
	if err := s.writeMessage([]byte("12345678")); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(wire.Bytes()); got != "000000000431323334"+"010000000435363738" {
		t.Errorf("split frames %s", got)
	}
	key, _ := aesKey(katKey)
	s.encrypt(key, [16]byte{})
	s.ctr = 0xFFFFFFFF
	if err := s.writeMessage([]byte("x")); err == nil {
		t.Error("the IV counter wrapped")
	}
}

type recorder struct {
	w *bytes.Buffer
	r *bytes.Reader
}

func (r *recorder) Write(p []byte) (int, error) { return r.w.Write(p) }
func (r *recorder) Read(p []byte) (int, error)  { return r.r.Read(p) }
