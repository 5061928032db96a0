package testalloc

import "testing"

var sink []byte

func TestBytes(t *testing.T) {
	const n = 1 << 20
	if got := Bytes(func() { sink = make([]byte, n) }); got < n {
		t.Fatalf("allocating %d bytes counted %d", n, got)
	}
	if got := Bytes(func() {}); got > 4<<10 {
		t.Fatalf("doing nothing counted %d bytes", got)
	}
}
