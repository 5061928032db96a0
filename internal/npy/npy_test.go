package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// raw builds a .npy byte stream by hand so tests can produce files NumPy
// would write (float64, version 2) and files it never would (malformed).
func raw(major byte, dict string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	}
	b.WriteString(dict)
	b.Write(payload)
	return b.Bytes()
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		shape []int
		data  []float32
	}{
		{[]int{}, []float32{3.5}},
		{[]int{0}, []float32{}},
		{[]int{4}, []float32{1, -2, float32(math.Inf(1)), 0}},
		{[]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{[]int{1, 3, 2, 2}, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := Write(&b, c.shape, c.data); err != nil {
			t.Fatalf("Write(%v): %v", c.shape, err)
		}
		if (b.Len()-4*len(c.data))%64 != 0 {
			t.Errorf("shape %v: data does not start on a 64-byte boundary", c.shape)
		}
		shape, data, err := Read(&b)
		if err != nil {
			t.Fatalf("Read(%v): %v", c.shape, err)
		}
		if !reflect.DeepEqual(shape, c.shape) || !reflect.DeepEqual(data, c.data) {
			t.Errorf("round trip %v: got %v %v, want %v %v", c.shape, shape, data, c.shape, c.data)
		}
	}
}

func TestWriteRejectsMismatch(t *testing.T) {
	if err := Write(&bytes.Buffer{}, []int{2, 2}, []float32{1, 2, 3}); err == nil {
		t.Error("Write accepted 3 elements for shape [2 2]")
	}
	if err := Write(&bytes.Buffer{}, []int{-1}, nil); err == nil {
		t.Error("Write accepted a negative dimension")
	}
}

func TestReadFloat64AndVersion2(t *testing.T) {
	p := make([]byte, 16)
	binary.LittleEndian.PutUint64(p, math.Float64bits(0.1))
	binary.LittleEndian.PutUint64(p[8:], math.Float64bits(-1e300))
	f := raw(2, "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}\n", p)
	shape, data, err := Read(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{float32(0.1), float32(math.Inf(-1))}
	if !reflect.DeepEqual(shape, []int{2}) || !reflect.DeepEqual(data, want) {
		t.Errorf("got %v %v, want [2] %v", shape, data, want)
	}
}

// TestReadNumPyFile reads a file written by numpy.save (the torchvision test
// inputs), so the parser is held to the real header format.
func TestReadNumPyFile(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "torchvision", "vgg_l2", "input_0.npy")
	if _, err := os.Stat(path); err != nil {
		t.Skip("test data not present:", err)
	}
	shape, data, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, []int{1, 3, 64, 64}) || len(data) != 3*64*64 {
		t.Fatalf("got shape %v with %d elements", shape, len(data))
	}
	var b bytes.Buffer
	if err := Write(&b, shape, data); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), orig) {
		t.Error("Write does not reproduce numpy.save's bytes for the same array")
	}
}

func TestReadMalformed(t *testing.T) {
	okDict := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
	two := f32bytes(1, 2)
	long := raw(2, okDict, two)
	binary.LittleEndian.PutUint32(long[8:], 1<<31)
	beyond := raw(1, okDict, nil)
	binary.LittleEndian.PutUint16(beyond[8:], 5000)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short preamble", []byte("\x93NUM"), ErrMalformed},
		{"bad magic", raw(1, okDict, two)[1:], ErrMalformed},
		{"version 4", raw(4, okDict, two), ErrUnsupported},
		{"no header length", []byte(magic + "\x01\x00\x10"), ErrMalformed},
		{"header length beyond file", beyond, ErrMalformed},
		{"header length over cap", long, ErrMalformed},
		{"not a dict", raw(1, "descr <f4\n", two), ErrMalformed},
		{"unterminated dict", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)\n", two), ErrMalformed},
		{"unterminated string", raw(1, "{'descr: '<f4'}\n", two), ErrMalformed},
		{"missing shape", raw(1, "{'descr': '<f4', 'fortran_order': False}\n", two), ErrMalformed},
		{"duplicate key", raw(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", two), ErrMalformed},
		{"unknown key", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", two), ErrMalformed},
		{"negative dim", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}\n", two), ErrMalformed},
		{"float dim", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}\n", two), ErrMalformed},
		{"huge dim", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}\n", two), ErrMalformed},
		{"overflowing product", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000)}\n", two), ErrMalformed},
		{"bad fortran", raw(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n", two), ErrMalformed},
		{"text after dict", raw(1, okDict[:len(okDict)-1]+" x\n", two), ErrMalformed},
		{"too few data bytes", raw(1, okDict, two[:7]), ErrMalformed},
		{"trailing data", raw(1, okDict, append(two, 0)), ErrMalformed},
		{"shape larger than data", raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,)}\n", two), ErrMalformed},
		{"big endian", raw(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}\n", two), ErrUnsupported},
		{"int32", raw(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}\n", two), ErrUnsupported},
		{"fortran order", raw(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}\n", two), ErrUnsupported},
	}
	for _, c := range cases {
		_, _, err := Read(bytes.NewReader(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestReadFileMissing(t *testing.T) {
	if _, _, err := ReadFile(filepath.Join(t.TempDir(), "absent.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want os.ErrNotExist", err)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npy")
	if err := WriteFile(path, []int{3}, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	shape, data, err := ReadFile(path)
	if err != nil || !reflect.DeepEqual(shape, []int{3}) || !reflect.DeepEqual(data, []float32{1, 2, 3}) {
		t.Errorf("got %v %v %v", shape, data, err)
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, []int{2, 2}, []float32{1, 2, 3, 4})
	f.Add(b.Bytes())
	f.Add(raw(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}\n", make([]byte, 8)))
	f.Add(raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}\n", make([]byte, 4)))
	f.Fuzz(func(t *testing.T, in []byte) {
		shape, data, err := Read(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if n != len(data) || 4*len(data) > len(in) {
			t.Fatalf("shape %v with %d elements from %d bytes", shape, len(data), len(in))
		}
	})
}

func ExampleRead() {
	var file bytes.Buffer
	if err := Write(&file, []int{2, 2}, []float32{1, 2, 3, 4}); err != nil {
		panic(err)
	}
	shape, data, err := Read(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(shape, data)
	_, _, err = Read(strings.NewReader("not an npy file"))
	fmt.Println(errors.Is(err, ErrMalformed))
	// Output:
	// [2 2] [1 2 3 4]
	// true
}
