package model

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/signet-go/signet/internal/safefile"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// enc appends little-endian primitives; the section encoders are built on it
// so that the byte layout is written down in one place.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) f32(v float32) { e.u32(math.Float32bits(v)) }
func (e *enc) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) f32s(v []float32) {
	e.u32(uint32(len(v)))
	for _, x := range v {
		e.f32(x)
	}
}
func (e *enc) dims(v []int64) {
	e.u32(uint32(len(v)))
	for _, x := range v {
		e.u64(uint64(x))
	}
}

// encodeMeta writes the metadata section. Extra is written in key order so
// that equal models encode to equal bytes.
func encodeMeta(m *Metadata) []byte {
	var e enc
	e.str(m.Name)
	e.str(m.InputLayout)
	e.str(m.ChannelOrder)
	e.f32s(m.Mean)
	e.f32s(m.Std)
	e.str(m.OutputName)
	e.u64(uint64(m.OutputSize))
	if m.L2Normalized {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.b = append(e.b, m.SourceSHA256[:]...)
	e.str(m.ConverterVersion)
	e.u32(uint32(len(m.Extra)))
	for _, k := range slices.Sorted(maps.Keys(m.Extra)) {
		e.str(k)
		e.str(m.Extra[k])
	}
	return e.b
}

// encodeGraph writes the graph section and returns it with the length of the
// data section the tensor table describes. Tensor offsets are relative to the
// data section, so the graph section does not change when metadata does.
//
// sizeHint, when known (Decode knows the section's length), sizes the buffer
// up front so that re-encoding a decoded graph allocates it once.
func encodeGraph(g *Graph, sizeHint int) ([]byte, uint64) {
	e := enc{b: make([]byte, 0, sizeHint)}
	e.u32(uint32(len(g.Inputs)))
	for _, v := range g.Inputs {
		e.str(v.Name)
		e.dims(v.Shape)
	}
	e.u32(uint32(len(g.Outputs)))
	for _, v := range g.Outputs {
		e.str(v.Name)
		e.dims(v.Shape)
	}
	e.u32(uint32(len(g.Initializers)))
	var end uint64
	for i := range g.Initializers {
		t := &g.Initializers[i]
		off := uint64(0)
		if i > 0 {
			off = align(end)
		}
		e.str(t.Name)
		e.u8(uint8(t.DType))
		e.dims(t.Shape)
		e.u64(off)
		e.u64(uint64(len(t.Data)))
		end = off + uint64(len(t.Data))
	}
	e.u32(uint32(len(g.Nodes)))
	for i := range g.Nodes {
		n := &g.Nodes[i]
		e.str(n.Op)
		e.str(n.Name)
		e.u32(uint32(len(n.Inputs)))
		for _, s := range n.Inputs {
			e.str(s)
		}
		e.u32(uint32(len(n.Outputs)))
		for _, s := range n.Outputs {
			e.str(s)
		}
		e.u32(uint32(len(n.Attrs)))
		for j := range n.Attrs {
			a := &n.Attrs[j]
			e.str(a.Name)
			e.u8(uint8(a.Kind))
			switch a.Kind {
			case AttrInt:
				e.u64(uint64(a.Int))
			case AttrFloat:
				e.f32(a.Float)
			case AttrInts:
				e.dims(a.Ints)
			case AttrFloats:
				e.f32s(a.Floats)
			case AttrString:
				e.str(a.String)
			}
		}
	}
	return e.b, end
}

var zeros [Alignment]byte

// writeData streams the data section: each tensor's bytes, zero-padded so
// the next one starts on an Alignment boundary; no padding after the last.
func writeData(w io.Writer, ts []Tensor) error {
	var end uint64
	for i := range ts {
		if i > 0 {
			if pad := align(end) - end; pad > 0 {
				if _, err := w.Write(zeros[:pad]); err != nil {
					return err
				}
				end += pad
			}
		}
		if _, err := w.Write(ts[i].Data); err != nil {
			return err
		}
		end += uint64(len(ts[i].Data))
	}
	return nil
}

type crcWriter struct{ crc uint32 }

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc = crc32.Update(c.crc, castagnoli, p)
	return len(p), nil
}

// header lays out the file for m; the data section follows the graph section
// at the next Alignment boundary.
func (m *Model) header() [headerSize]byte {
	metaOff := uint64(headerSize)
	graphOff := metaOff + uint64(len(m.metaSec))
	dataOff := align(graphOff + uint64(len(m.graphSec)))
	var c crcWriter
	_ = writeData(&c, m.Graph.Initializers) // crcWriter never fails

	var h [headerSize]byte
	le := binary.LittleEndian
	copy(h[:], magic[:])
	le.PutUint32(h[offVersion:], Version)
	le.PutUint32(h[offFlags:], 0)
	le.PutUint64(h[offFileLen:], dataOff+m.dataLen)
	le.PutUint64(h[offMetaOff:], metaOff)
	le.PutUint64(h[offMetaLen:], uint64(len(m.metaSec)))
	le.PutUint64(h[offGraphOff:], graphOff)
	le.PutUint64(h[offGraphLen:], uint64(len(m.graphSec)))
	le.PutUint64(h[offDataOff:], dataOff)
	le.PutUint64(h[offDataLen:], m.dataLen)
	le.PutUint32(h[offMetaCRC:], crc32.Checksum(m.metaSec, castagnoli))
	le.PutUint32(h[offGraphCRC:], crc32.Checksum(m.graphSec, castagnoli))
	le.PutUint32(h[offDataCRC:], c.crc)
	le.PutUint32(h[offHeaderCRC:], crc32.Checksum(h[:offHeaderCRC], castagnoli))
	return h
}

func (m *Model) checkReady() error {
	if m == nil || !m.ready {
		return errf(ErrInvalidGraph, "model was not built by New, Decode or Open")
	}
	return nil
}

// Encode returns the model file for m as one byte slice. Use Write or
// WriteFile for large models to avoid holding a second copy of the weights.
func Encode(m *Model) ([]byte, error) {
	if err := m.checkReady(); err != nil {
		return nil, err
	}
	h := m.header()
	size := binary.LittleEndian.Uint64(h[offFileLen:])
	if size > uint64(math.MaxInt) {
		return nil, errf(ErrInvalidGraph, "encoded model is %d bytes, too large for this platform", size)
	}
	b := make([]byte, 0, int(size))
	w := sliceWriter{&b}
	b = append(b, h[:]...)
	b = append(b, m.metaSec...)
	b = append(b, m.graphSec...)
	b = append(b, zeros[:align(uint64(len(b)))-uint64(len(b))]...)
	_ = writeData(w, m.Graph.Initializers) // appending to a slice never fails
	return b, nil
}

type sliceWriter struct{ b *[]byte }

func (s sliceWriter) Write(p []byte) (int, error) {
	*s.b = append(*s.b, p...)
	return len(p), nil
}

// Write writes the model file for m to w, streaming tensor data without
// copying it.
func Write(w io.Writer, m *Model) error {
	if err := m.checkReady(); err != nil {
		return err
	}
	h := m.header()
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(h[:])
	bw.Write(m.metaSec)
	bw.Write(m.graphSec)
	n := uint64(headerSize + len(m.metaSec) + len(m.graphSec))
	bw.Write(zeros[:align(n)-n])
	// bufio.Writer keeps the first error and returns it from every later
	// call, so checking writeData and Flush is enough.
	if err := writeData(bw, m.Graph.Initializers); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteFile writes the model file for m to path atomically: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory (on every OS, see internal/safefile), so readers
// (including ones that have the old file memory-mapped) see either the old or
// the new file, never a partial one.
func WriteFile(path string, m *Model) (err error) {
	if err := m.checkReady(); err != nil {
		return err
	}
	// Write through a symlink to its target, keeping the link, and keep an
	// existing file's permissions rather than imposing 0644.
	mode := os.FileMode(0o644)
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
		if st, err := os.Stat(target); err == nil {
			mode = st.Mode().Perm()
		}
	}
	return safefile.WriteFile(path, mode, true, func(w io.Writer) error { return Write(w, m) })
}
