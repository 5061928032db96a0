// Package npy reads and writes NumPy .npy files holding float tensors.
//
// The test data of signet (reference inputs and outputs exported from
// PyTorch) is stored as .npy so the Python side needs nothing but numpy.
// Only what that data needs is supported: little-endian float32 or float64
// (converted to float32 on read), C order, format versions 1, 2 and 3.
//
// A file is untrusted input: the header length and the element count it
// declares are checked against the bytes actually present before anything
// is allocated for them.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

var (
	// ErrMalformed reports a file that is not a well-formed .npy file:
	// bad magic, truncated or oversized header, unparsable header dictionary,
	// or a payload whose size disagrees with the declared shape.
	ErrMalformed = errors.New("npy: malformed file")
	// ErrUnsupported reports a well-formed file this package does not read:
	// a dtype other than little-endian float32/float64, or Fortran order.
	ErrUnsupported = errors.New("npy: unsupported file")
)

const (
	magic = "\x93NUMPY"
	// maxHeader bounds the header dictionary. NumPy itself refuses headers
	// over 10000 bytes by default; real ones are about 100 bytes.
	maxHeader = 1 << 16
	// maxDims bounds the number of dimensions (NumPy's own limit is 64).
	maxDims = 64
)

// ReadFile reads a .npy file; see Read.
func ReadFile(path string) (shape []int, data []float32, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	shape, data, err = Read(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return shape, data, nil
}

// Read decodes one .npy array from r and returns its shape and elements
// in C order. A 0-dimensional array has an empty shape and one element.
// The array must end exactly where r ends.
func Read(r io.Reader) (shape []int, data []float32, err error) {
	br := bufio.NewReader(r)
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: short preamble: %v", ErrMalformed, err)
	}
	if string(pre[:6]) != magic {
		return nil, nil, fmt.Errorf("%w: bad magic %q", ErrMalformed, pre[:6])
	}
	major := pre[6]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: short header length: %v", ErrMalformed, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, nil, fmt.Errorf("%w: short header length: %v", ErrMalformed, err)
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > maxHeader {
			return nil, nil, fmt.Errorf("%w: header length %d exceeds %d", ErrMalformed, n, maxHeader)
		}
		hlen = int(n)
	default:
		return nil, nil, fmt.Errorf("%w: format version %d.%d", ErrUnsupported, major, pre[7])
	}
	// Read the header through a limit so a declared length larger than the
	// file costs no more than the bytes really there.
	hdr, err := io.ReadAll(io.LimitReader(br, int64(hlen)))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading header: %v", ErrMalformed, err)
	}
	if len(hdr) != hlen {
		return nil, nil, fmt.Errorf("%w: header declares %d bytes, %d present", ErrMalformed, hlen, len(hdr))
	}
	h, err := parseHeader(string(hdr))
	if err != nil {
		return nil, nil, err
	}
	var elem int
	switch h.descr {
	case "<f4":
		elem = 4
	case "<f8":
		elem = 8
	default:
		return nil, nil, fmt.Errorf("%w: dtype %q (want <f4 or <f8)", ErrUnsupported, h.descr)
	}
	if h.fortran {
		return nil, nil, fmt.Errorf("%w: Fortran order", ErrUnsupported)
	}
	count := 1
	for _, d := range h.shape {
		if d < 0 {
			return nil, nil, fmt.Errorf("%w: negative dimension in shape %v", ErrMalformed, h.shape)
		}
		if d != 0 && count > math.MaxInt32/elem/d {
			return nil, nil, fmt.Errorf("%w: shape %v too large", ErrMalformed, h.shape)
		}
		count *= d
	}
	need := count * elem
	// One byte past the payload tells trailing garbage from a clean end.
	raw, err := io.ReadAll(io.LimitReader(br, int64(need)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading data: %v", ErrMalformed, err)
	}
	if len(raw) != need {
		if len(raw) > need {
			return nil, nil, fmt.Errorf("%w: data continues past the %d bytes of shape %v", ErrMalformed, need, h.shape)
		}
		return nil, nil, fmt.Errorf("%w: shape %v needs %d data bytes, %d present", ErrMalformed, h.shape, need, len(raw))
	}
	data = make([]float32, count)
	if elem == 4 {
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	} else {
		for i := range data {
			data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	}
	return h.shape, data, nil
}

// Write encodes data as a version 1.0 float32 .npy array of the given shape.
func Write(w io.Writer, shape []int, data []float32) error {
	count := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		count *= d
	}
	if count != len(data) {
		return fmt.Errorf("npy: shape %v holds %d elements, got %d", shape, count, len(data))
	}
	var dims strings.Builder
	for i, d := range shape {
		if i > 0 {
			dims.WriteString(", ")
		}
		dims.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dims.WriteString(",")
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims.String())
	// Pad with spaces so the data starts on a 64-byte boundary, as NumPy does;
	// the header ends with a newline.
	total := len(magic) + 2 + 2 + len(dict) + 1
	pad := (64 - total%64) % 64
	if len(dict)+pad+1 > math.MaxUint16 {
		return fmt.Errorf("npy: shape %v makes the header too long", shape)
	}
	buf := make([]byte, 0, total+pad+4*len(data))
	buf = append(buf, magic...)
	buf = append(buf, 1, 0)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(dict)+pad+1))
	buf = append(buf, dict...)
	buf = append(buf, strings.Repeat(" ", pad)...)
	buf = append(buf, '\n')
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

// WriteFile writes data to path as a float32 .npy file; see Write.
func WriteFile(path string, shape []int, data []float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, shape, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 64, 64), }
// It accepts exactly the three keys, in any order, each once.
func parseHeader(s string) (header, error) {
	var h header
	p := &parser{s: strings.TrimRight(s, " \n\x00")}
	bad := func(what string) (header, error) {
		return header{}, fmt.Errorf("%w: header %q: %s", ErrMalformed, truncate(s, 120), what)
	}
	if !p.eat('{') {
		return bad("missing '{'")
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return bad("expected a quoted key")
		}
		if seen[key] {
			return bad("duplicate key " + key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return bad("missing ':' after " + key)
		}
		p.space()
		switch key {
		case "descr":
			v, ok := p.str()
			if !ok {
				return bad("descr is not a string")
			}
			h.descr = v
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return bad("fortran_order is not True/False")
			}
		case "shape":
			shape, ok := p.tuple()
			if !ok {
				return bad("shape is not a tuple of integers")
			}
			h.shape = shape
		default:
			return bad("unknown key " + key)
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return bad("expected ',' or '}'")
		}
	}
	p.space()
	if p.i != len(p.s) {
		return bad("text after '}'")
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return bad("missing key")
	}
	return h, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a single- or double-quoted string without escapes (NumPy
// never writes any in the keys and dtypes this package accepts).
func (p *parser) str() (string, bool) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple parses "()", "(n,)" or "(n, m, ...)" with non-negative decimal
// integers; NumPy may write them with an L suffix (Python 2).
func (p *parser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, true
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start || p.i-start > 18 {
			return nil, false
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return nil, false
		}
		p.eat('L')
		if len(shape) == maxDims {
			return nil, false
		}
		shape = append(shape, d)
		p.space()
		if p.eat(')') {
			return shape, true
		}
		if !p.eat(',') {
			return nil, false
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
