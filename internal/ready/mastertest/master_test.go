package mastertest

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"testing"
)

// TestAppendixB opens the spec's worked example (cedar-dc-set-ready.md
// Appendix B) with the emulator's own digests and AES-GCM, so the emulator
// is held to the spec independently of the client it tests.
func TestAppendixB(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	auth := h("0100000119000000000000ea6a0000000000000007436f6d6d616e64203d2036303034330055736553657373696f6e203d20225945532200536964203d202266616d696c793a616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162220043727970746f4d6574686f6473203d202241455322004e6f6e6365203d202241414141414141414141414141414141414141414141414141414141414141414141414141414141414141412200526573756d65526573706f6e7365203d20747275650052656d6f746556657273696f6e203d202224436f6e646f7256657273696f6e3a2032352e302e3020323032352d30312d3031204275696c6449443a2030202422000000")
	reply := h("010000009d000000000000000352657475726e436f6465203d2022415554484f52495a4544220052656d6f746556657273696f6e203d202224436f6e646f7256657273696f6e3a2032352e31342e3020323032362d30382d3231204275696c6449443a2030202422004e6f6e6365203d2022455245524552455245524552455245524552455245524552455245524552455245524552455245524552455222000000")
	frame := h("0100000096" + "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" +
		"36a437b6880973cffa5dbdbb3dfe6eb2efe38219d96534fb503d77e3f694bd12" +
		"8da42540c0a736eae09d82ccd7f906076267e3f5a041e5a28f48188633e2d47a" +
		"f89608cbdd7aaf2043e0c043c3588bdb5436984a86b75309f6afca6a45ce1f09" +
		"15c6dbf6945347d7e914c96bf5041e1b0944b9f2bf40" + "19c883707a6e8a670080b1bfafb5c6f2")
	key, _ := hkdf.Key(sha256.New, []byte("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
		[]byte("htcondor"), "keygen", 32)
	if hex.EncodeToString(key) != "5e0e06d4199f1da96cc816a90e79b0a45c5d197ce06a8460f3b889afe8df0812" {
		t.Fatalf("HKDF %x", key)
	}

	open := func(frame []byte, recv []byte) (Ready, error) {
		a, b := net.Pipe()
		defer a.Close()
		go func() { b.Write(frame); b.Close() }()
		// The master received the DC_AUTHENTICATE frame and sent the reply.
		sv := &server{c: a, recvMD: recv, recvAny: true, sendMD: reply, sentAny: true}
		pt, err := sv.readEncrypted(key)
		if err != nil {
			return Ready{}, err
		}
		return readyAd(pt)
	}
	r, err := open(frame, auth)
	if err != nil || r != (Ready{PID: 4242, Name: "CREDMON_OAUTH", State: "Ready"}) {
		t.Errorf("Appendix B opens as %+v, %v", r, err)
	}
	// Another transcript (the AAD binds it) or a flipped bit must fail.
	if _, err := open(frame, append([]byte{0}, auth...)); err == nil {
		t.Error("opened with the wrong transcript digest")
	}
	bad := append([]byte(nil), frame...)
	bad[40] ^= 0x80
	if _, err := open(bad, auth); err == nil {
		t.Error("opened a tampered frame")
	}
}
