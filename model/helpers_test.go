package model_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

// Offsets of the header fields, from FORMAT.md. The tests use the documented
// layout rather than the package's constants so that a silent layout change
// breaks them.
const (
	hdrSize      = 88
	hdrVersion   = 8
	hdrFlags     = 12
	hdrFileLen   = 16
	hdrMetaOff   = 24
	hdrMetaLen   = 32
	hdrGraphOff  = 40
	hdrGraphLen  = 48
	hdrDataOff   = 56
	hdrDataLen   = 64
	hdrMetaCRC   = 72
	hdrGraphCRC  = 76
	hdrDataCRC   = 80
	hdrHeaderCRC = 84
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
var le = binary.LittleEndian

func tinyBytes(t testing.TB) []byte {
	t.Helper()
	b, err := model.Encode(modeltest.Tiny(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newEncoded makes the model of meta and g (model.New) and its file bytes
// (model.Encode), failing t if either is refused.
func newEncoded(t testing.TB, meta model.Metadata, g model.Graph) (*model.Model, []byte) {
	t.Helper()
	m, err := model.New(meta, g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

type span struct{ off, len uint64 }

// sections returns the metadata, graph and data sections a header declares,
// or ok=false when they do not lie inside b.
func sections(b []byte) (meta, graph, data span, ok bool) {
	if len(b) < hdrSize {
		return
	}
	get := func(off, ln int) span { return span{le.Uint64(b[off:]), le.Uint64(b[ln:])} }
	meta, graph, data = get(hdrMetaOff, hdrMetaLen), get(hdrGraphOff, hdrGraphLen), get(hdrDataOff, hdrDataLen)
	for _, s := range []span{meta, graph, data} {
		if s.off > uint64(len(b)) || s.len > uint64(len(b))-s.off {
			return meta, graph, data, false
		}
	}
	return meta, graph, data, true
}

// fixCRCs recomputes every checksum of b in place (those whose sections lie
// inside b), so that a deliberately malformed file reaches the parser
// instead of failing its checksum. It never panics, whatever b holds.
func fixCRCs(b []byte) []byte {
	if len(b) < hdrSize {
		return b
	}
	if meta, graph, data, ok := sections(b); ok {
		le.PutUint32(b[hdrMetaCRC:], crc32.Checksum(b[meta.off:meta.off+meta.len], castagnoli))
		le.PutUint32(b[hdrGraphCRC:], crc32.Checksum(b[graph.off:graph.off+graph.len], castagnoli))
		le.PutUint32(b[hdrDataCRC:], crc32.Checksum(b[data.off:data.off+data.len], castagnoli))
	}
	le.PutUint32(b[hdrHeaderCRC:], crc32.Checksum(b[:hdrHeaderCRC], castagnoli))
	return b
}

// graphSection returns the graph section of b, aliasing b.
func graphSection(t testing.TB, b []byte) []byte {
	t.Helper()
	_, g, _, ok := sections(b)
	if !ok {
		t.Fatal("bad header in test input")
	}
	return b[g.off : g.off+g.len]
}

// lp is s as the format stores it: a uint32 length, then the bytes.
func lp(s string) []byte {
	return append(le.AppendUint32(nil, uint32(len(s))), s...)
}

// find returns the offset in sec of the n-th (0-based) occurrence of pat.
func find(t testing.TB, sec, pat []byte, n int) int {
	t.Helper()
	base := 0
	for i := 0; ; i++ {
		j := bytes.Index(sec[base:], pat)
		if j < 0 {
			t.Fatalf("occurrence %d of %q not found", n, pat)
		}
		if i == n {
			return base + j
		}
		base += j + 1
	}
}

// tensorRecord returns the offset in the graph section of the tensor table
// record field that follows the name of tensor `name`: the dtype byte.
// Graph inputs and outputs come first and never share a tensor's name in
// the tiny model, so the first occurrence is the table record.
func tensorRecord(t testing.TB, sec []byte, name string) int {
	return find(t, sec, lp(name), 0) + 4 + len(name)
}
