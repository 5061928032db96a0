package model_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/signet-go/signet/model"
)

func section(t testing.TB, b []byte, which string) []byte {
	t.Helper()
	meta, graph, data, ok := sections(b)
	if !ok {
		t.Fatal("bad header in test input")
	}
	s := map[string]span{"meta": meta, "graph": graph, "data": data}[which]
	return b[s.off : s.off+s.len]
}

// replaceAll replaces old by new (same length) everywhere in the section.
func replaceAll(t testing.TB, b []byte, which, old, new string) {
	t.Helper()
	if len(old) != len(new) {
		t.Fatal("replacement must keep the length")
	}
	sec := section(t, b, which)
	if !bytes.Contains(sec, []byte(old)) {
		t.Fatalf("%q not in %s section", old, which)
	}
	copy(sec, bytes.ReplaceAll(sec, []byte(old), []byte(new)))
}

// putTensor64 returns an edit that writes v at byte off of the graph
// section's record of tensor name (dtype at 0, first dim at 5, data offset
// at 13, data length at 21 for a rank-1 tensor).
func putTensor64(name string, off int, v uint64) func(*testing.T, []byte) []byte {
	return func(t *testing.T, b []byte) []byte {
		sec := section(t, b, "graph")
		le.PutUint64(sec[tensorRecord(t, sec, name)+off:], v)
		return b
	}
}

// TestMalformed decodes deliberately broken files. Cases marked fix have
// their checksums recomputed after the damage, so they test the parser and
// the validation behind the checksums, as a buggy or hostile writer would.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		fix  bool
		edit func(t *testing.T, b []byte) []byte
		want error
		msg  string
	}{
		{"empty file", false, func(t *testing.T, b []byte) []byte { return nil }, model.ErrTruncated, "header"},
		{"half a header", false, func(t *testing.T, b []byte) []byte { return b[:50] }, model.ErrTruncated, "header"},
		{"last byte missing", false, func(t *testing.T, b []byte) []byte { return b[:len(b)-1] }, model.ErrTruncated, "declares"},
		{"wrong magic", false, func(t *testing.T, b []byte) []byte { b[1] = 'X'; return b }, model.ErrCorrupt, "bad magic"},
		{"ONNX file", false, func(t *testing.T, b []byte) []byte { return []byte("\x08\x07\x12\x07pytorch") }, model.ErrCorrupt, "bad magic"},
		{"wrong version", true, func(t *testing.T, b []byte) []byte { le.PutUint32(b[hdrVersion:], 2); return b }, model.ErrVersion, "version 2"},
		{"wrong version, stale header CRC", false, func(t *testing.T, b []byte) []byte { le.PutUint32(b[hdrVersion:], 0); return b }, model.ErrVersion, "version 0"},
		{"flipped header byte", false, func(t *testing.T, b []byte) []byte { b[hdrDataLen+1] ^= 0x10; return b }, model.ErrChecksum, "header"},
		{"flipped metadata byte", false, func(t *testing.T, b []byte) []byte { section(t, b, "meta")[6] ^= 1; return b }, model.ErrChecksum, "metadata section"},
		{"flipped graph byte", false, func(t *testing.T, b []byte) []byte { section(t, b, "graph")[40] ^= 0x80; return b }, model.ErrChecksum, "graph section"},
		{"flipped tensor byte", false, func(t *testing.T, b []byte) []byte { b[len(b)-3] ^= 4; return b }, model.ErrChecksum, "data section"},
		{"reserved flags set", true, func(t *testing.T, b []byte) []byte { b[hdrFlags] = 1; return b }, model.ErrCorrupt, "reserved flags"},
		{"trailing byte", false, func(t *testing.T, b []byte) []byte { return append(b, 0) }, model.ErrCorrupt, "trailing"},
		{"huge declared file length", true, func(t *testing.T, b []byte) []byte { le.PutUint64(b[hdrFileLen:], 1<<62); return b }, model.ErrTruncated, "declares"},
		{"huge metadata length", true, func(t *testing.T, b []byte) []byte { le.PutUint64(b[hdrMetaLen:], 1<<40); return b }, model.ErrCorrupt, "exceeds limit"},
		{"graph section misplaced", true, func(t *testing.T, b []byte) []byte {
			le.PutUint64(b[hdrGraphOff:], le.Uint64(b[hdrGraphOff:])+8)
			return b
		}, model.ErrCorrupt, "graph section at offset"},
		{"data section past end", true, func(t *testing.T, b []byte) []byte {
			le.PutUint64(b[hdrDataLen:], le.Uint64(b[hdrDataLen:])+64)
			return b
		}, model.ErrCorrupt, "does not end"},
		{"nonzero padding before data", true, func(t *testing.T, b []byte) []byte {
			b[le.Uint64(b[hdrDataOff:])-1] = 7
			return b
		}, model.ErrCorrupt, "padding"},
		{"nonzero padding between tensors", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			rec := tensorRecord(t, sec, "conv.bias")
			section(t, b, "data")[le.Uint64(sec[rec+13:])-1] = 1
			return b
		}, model.ErrCorrupt, "padding byte"},
		{"huge string length", true, func(t *testing.T, b []byte) []byte { le.PutUint32(section(t, b, "graph")[4:], 0xfffffff0); return b }, model.ErrCorrupt, "exceeds limit 4096"},
		{"string past section end", true, func(t *testing.T, b []byte) []byte { le.PutUint32(section(t, b, "graph")[4:], 4000); return b }, model.ErrTruncated, "needs at least 4000 bytes"},
		{"huge node count", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			le.PutUint32(sec[find(t, sec, lp("Conv"), 0)-4:], model.MaxNodes)
			return b
		}, model.ErrTruncated, "node count"},
		{"node count above limit", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			le.PutUint32(sec[find(t, sec, lp("Conv"), 0)-4:], 0xffffffff)
			return b
		}, model.ErrCorrupt, "exceeds limit"},
		{"huge tensor length", true, putTensor64("conv.bias", 21, 1<<62), model.ErrCorrupt, "outside"},
		{"tensor offset out of range", true, putTensor64("fc.bias", 13, 1<<20), model.ErrCorrupt, "outside"},
		{"misaligned tensor offset", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			at := tensorRecord(t, sec, "conv.bias") + 13
			le.PutUint64(sec[at:], le.Uint64(sec[at:])+4)
			return b
		}, model.ErrCorrupt, "not 64-byte aligned"},
		{"overlapping tensors", true, putTensor64("conv.bias", 13, 0), model.ErrCorrupt, "follow each other"},
		{"tensor rank above limit", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			le.PutUint32(sec[tensorRecord(t, sec, "conv.bias")+1:], 200)
			return b
		}, model.ErrCorrupt, "exceeds limit 8"},
		{"duplicate tensor names", true, func(t *testing.T, b []byte) []byte { replaceAll(t, b, "graph", "fc.weight", "conv.bias"); return b }, model.ErrInvalidGraph, `"conv.bias" defined twice`},
		{"duplicate value names", true, func(t *testing.T, b []byte) []byte { replaceAll(t, b, "graph", "relu.out", "pool.out"); return b }, model.ErrInvalidGraph, `"pool.out" defined twice`},
		{"undefined node input", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			copy(sec[find(t, sec, []byte("conv.out"), 1):], "conv.xyz")
			return b
		}, model.ErrInvalidGraph, `input "conv.xyz" is not defined`},
		{"zero dim", true, putTensor64("conv.bias", 5, 0), model.ErrInvalidGraph, "dimension 0 is 0"},
		{"negative dim", true, putTensor64("conv.bias", 5, ^uint64(0)), model.ErrInvalidGraph, "dimension 0 is -1, must be >= 1"},
		{"graph input dim -2", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			le.PutUint64(sec[find(t, sec, lp("image"), 0)+13+8:], uint64(1<<64-2))
			return b
		}, model.ErrInvalidGraph, "dimension 1 is -2, must be >= 1 or -1"},
		{"element count overflow", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			at := tensorRecord(t, sec, "conv.weight") + 5
			le.PutUint64(sec[at:], 1<<40)
			le.PutUint64(sec[at+8:], 1<<40)
			return b
		}, model.ErrInvalidGraph, "overflows"},
		{"dtype/length mismatch", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			sec[tensorRecord(t, sec, "conv.bias")] = byte(model.Int64)
			return b
		}, model.ErrInvalidGraph, "data has 16 bytes"},
		{"unknown dtype", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			sec[tensorRecord(t, sec, "conv.bias")] = 9
			return b
		}, model.ErrInvalidGraph, "unknown dtype 9"},
		{"unknown attribute kind", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "graph")
			sec[find(t, sec, lp("group"), 0)+9] = 77
			return b
		}, model.ErrInvalidGraph, `attribute "group" has unknown kind 77`},
		{"unread bytes after graph", true, func(t *testing.T, b []byte) []byte {
			// Lengthen the graph section by one padding byte.
			le.PutUint64(b[hdrGraphLen:], le.Uint64(b[hdrGraphLen:])+1)
			return b
		}, model.ErrCorrupt, "1 unread bytes"},
		{"L2 flag not boolean", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "meta")
			sec[find(t, sec, lp("embedding"), 0)+13+8] = 2
			return b
		}, model.ErrCorrupt, "must be 0 or 1"},
		{"extra keys out of order", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "meta")
			copy(sec[find(t, sec, []byte("license"), 0):], "purpose")
			copy(sec[find(t, sec, []byte("purpose"), 1):], "license")
			return b
		}, model.ErrCorrupt, "sorted"},
		{"duplicate extra key", true, func(t *testing.T, b []byte) []byte { replaceAll(t, b, "meta", "purpose", "license"); return b }, model.ErrCorrupt, "unique"},
		{"zero std", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "meta")
			// name, layout, channel order, 3 means, then the std count.
			at := len(lp("tiny")) + len(lp("NCHW")) + len(lp("RGB")) + 4 + 12 + 4
			le.PutUint32(sec[at:], 0)
			return b
		}, model.ErrInvalidMetadata, "std[0] is 0"},
		{"output name not an output", true, func(t *testing.T, b []byte) []byte {
			sec := section(t, b, "meta")
			copy(sec[find(t, sec, []byte("embedding"), 0):], "embeddinX")
			return b
		}, model.ErrInvalidMetadata, "not a graph output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(t, tinyBytes(t))
			if c.fix {
				fixCRCs(b)
			}
			m, err := model.Decode(b)
			if err == nil {
				t.Fatalf("decoded without error: %+v", m.Meta)
			}
			if !errors.Is(err, c.want) || !errors.Is(err, model.ErrCorrupt) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q does not say %q", err, c.msg)
			}
		})
	}
	t.Logf("%d malformed files rejected", len(cases))
}

// TestTruncatedEverywhere cuts the tiny model after every byte: each prefix
// must be reported as truncated, never decoded or panicked on.
func TestTruncatedEverywhere(t *testing.T) {
	b := tinyBytes(t)
	for n := range len(b) {
		if _, err := model.Decode(b[:n:n]); !errors.Is(err, model.ErrTruncated) {
			t.Fatalf("prefix of %d bytes: got %v, want ErrTruncated", n, err)
		}
	}
}

// TestFlippedEverywhere flips each byte of the tiny model in turn. Inside
// a section the checksum must catch it; in the header the magic, version or
// header checksum; in padding the zero check.
func TestFlippedEverywhere(t *testing.T) {
	orig := tinyBytes(t)
	meta, graph, data, _ := sections(orig)
	b := bytes.Clone(orig)
	for i := range b {
		b[i] ^= 0x5a
		_, err := model.Decode(b)
		b[i] = orig[i]
		var want error
		at := uint64(i)
		switch {
		case at < 8:
			want = model.ErrCorrupt
		case at < 12:
			want = model.ErrVersion
		case at < hdrSize:
			want = model.ErrChecksum
		case at < meta.off+meta.len, at < graph.off+graph.len, at >= data.off:
			want = model.ErrChecksum
		default: // between the graph and data sections
			want = model.ErrCorrupt
		}
		if !errors.Is(err, want) {
			t.Fatalf("byte %d flipped: got %v, want %v", i, err, want)
		}
	}
}
