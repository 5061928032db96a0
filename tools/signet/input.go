package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register the decoders signet accepts
	_ "image/png"
	"io"
	"os"

	"github.com/signet-go/signet/internal/npy"
)

// maxPixels bounds the decoded size of an input image (a 64-megapixel RGBA
// image is 256 MiB) so a small, highly compressed file cannot exhaust memory.
const maxPixels = 64 << 20

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
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(len(npyMagic))
	if bytes.Equal(head, npyMagic) {
		shape, data, err := npy.Read(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &input{file: path, shape: shape, data: data}, nil
	}
	img, err := decodeImage(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &input{file: path, img: img}, nil
}

// loadImage reads a PNG or JPEG file.
func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := decodeImage(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func decodeImage(r io.Reader) (image.Image, error) {
	var buf bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &buf))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, errors.New("not a PNG or JPEG image")
		}
		return nil, fmt.Errorf("cannot decode image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%s image of %dx%d pixels is outside the accepted size (1 to %d pixels)", format, cfg.Width, cfg.Height, maxPixels)
	}
	img, _, err := image.Decode(io.MultiReader(&buf, r))
	if err != nil {
		return nil, fmt.Errorf("cannot decode %s image: %w", format, err)
	}
	return img, nil
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
