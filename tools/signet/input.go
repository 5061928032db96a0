package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"io"

	"github.com/signet-go/signet/internal/imagedec"
	"github.com/signet-go/signet/internal/npy"
	"github.com/signet-go/signet/internal/safefile"
)

var npyMagic = []byte("\x93NUMPY")

// input is one file given on the command line: an image, or a tensor in the
// model's input layout with a leading batch dimension.
type input struct {
	file  string
	img   image.Image
	shape []int     // tensor inputs only
	data  []float32 // tensor inputs only
}

func (in *input) isTensor() bool { return in.img == nil }

// readInput opens path and decides by content, not by name, whether it is a
// .npy tensor or an image.
func readInput(path string) (*input, error) {
	r, closeFn, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	head := make([]byte, len(npyMagic))
	n, _ := io.ReadFull(r, head)
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(head[:n], npyMagic) {
		shape, data, err := npy.Read(bufio.NewReader(r))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &input{file: path, shape: shape, data: data}, nil
	}
	img, err := imagedec.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &input{file: path, img: img}, nil
}

// loadImage reads a PNG or JPEG file through the shared decoder, which
// refuses images over imagedec.MaxPixels from their header.
func loadImage(path string) (image.Image, error) {
	r, closeFn, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	img, err := imagedec.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// maxStreamBytes bounds what is read into memory from an input that cannot
// seek (a pipe such as /dev/stdin): enough for an uncompressed image at the
// pixel limit.
const maxStreamBytes = 8*imagedec.MaxPixels + 1<<20

// openInput opens path for reading with seeks: a regular file as it is,
// anything else (a pipe) read into memory up to maxStreamBytes.
func openInput(path string) (io.ReadSeeker, func() error, error) {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: is a directory", path)
	}
	if fi.Mode().IsRegular() {
		return f, f.Close, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStreamBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxStreamBytes {
		return nil, nil, fmt.Errorf("%s: %w: more than %d bytes", path, imagedec.ErrTooLarge, maxStreamBytes)
	}
	return bytes.NewReader(b), func() error { return nil }, nil
}

// splitBatch checks a tensor's shape against the model input shape (whose
// first dimension is the batch, fixed to 1) and returns the number of samples.
func splitBatch(shape, want []int) (int, error) {
	if len(shape) != len(want) {
		return 0, fmt.Errorf("tensor shape %v does not match the model input %v (rank %d, want rank %d)", shape, want, len(shape), len(want))
	}
	for i := 1; i < len(want); i++ {
		if shape[i] != want[i] {
			return 0, fmt.Errorf("tensor shape %v does not match the model input %v (dimension %d is %d, want %d)", shape, want, i, shape[i], want[i])
		}
	}
	if len(shape) == 0 || shape[0] < 1 {
		return 0, fmt.Errorf("tensor shape %v has no samples", shape)
	}
	return shape[0], nil
}

func product(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
