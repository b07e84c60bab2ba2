package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// checkCCache walks a version 4 ticket cache the way gokrb5's parser does
// and refuses one whose counts or lengths run past its end. gokrb5 sizes
// its address and authorization-data slices from counts in the file before
// reading them, so a corrupt cache of a few bytes could make it allocate
// tens of GiB and kill the process, which no recover catches. Only version
// 4, what MIT has written since 1.2, is taken; the older versions used
// native byte order and the binary formats of long-gone releases.
func checkCCache(b []byte) error {
	r := &ccReader{b: b}
	if len(b) < 2 || b[0] != 5 {
		return errors.New("not an MIT ticket cache (first byte is not 5)")
	}
	if b[1] != 4 {
		return fmt.Errorf("ticket cache format version %d is not supported (MIT writes version 4)", b[1])
	}
	r.p = 2
	// The header, walked with gokrb5's loop condition (it compares the
	// offset with the header length), so both agree on where it ends.
	hlen := int(r.u16())
	for r.err == nil && r.p <= hlen {
		tag, flen := r.u16(), int(r.u16())
		r.skip(flen)
		if tag != 1 || flen != 8 {
			r.fail("unknown header field")
		}
	}
	r.principal()
	for r.err == nil && r.p < len(b) {
		r.principal()
		r.principal()
		r.u16() // key type
		r.data()
		r.skip(4*4 + 1 + 4) // times, is_skey, flags
		for range r.count(6) {
			r.u16()
			r.data()
		}
		for range r.count(6) {
			r.u16()
			r.data()
		}
		r.data() // ticket
		r.data() // second ticket
	}
	return r.err
}

type ccReader struct {
	b   []byte
	p   int
	err error
}

func (r *ccReader) fail(why string) {
	if r.err == nil {
		r.err = fmt.Errorf("malformed ticket cache at byte %d: %s", r.p, why)
	}
}

func (r *ccReader) skip(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > len(r.b)-r.p {
		r.fail("length past the end")
		return
	}
	r.p += n
}

func (r *ccReader) u16() uint16 {
	if r.skip(2); r.err != nil {
		return 0
	}
	return binary.BigEndian.Uint16(r.b[r.p-2:])
}

func (r *ccReader) i32() int32 {
	if r.skip(4); r.err != nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(r.b[r.p-4:]))
}

func (r *ccReader) data() { r.skip(int(r.i32())) }

// count reads an element count and refuses one that cannot fit in what is
// left, each element taking at least min bytes.
func (r *ccReader) count(min int) int {
	n := int(r.i32())
	if r.err != nil {
		return 0
	}
	if n < 0 || n > (len(r.b)-r.p)/min {
		r.fail("count past the end")
		return 0
	}
	return n
}

func (r *ccReader) principal() {
	r.i32() // name type
	n := r.count(4)
	r.data() // realm
	for range n {
		r.data()
	}
}
