package quant

import (
	"fmt"
	"image"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/signet-go/signet/engine"
	"github.com/signet-go/signet/internal/imagedec"
	"github.com/signet-go/signet/internal/safefile"
	"github.com/signet-go/signet/model"
)

// MaxImageBytes bounds one calibration file, checked before it is decoded.
const MaxImageBytes = 64 << 20

// Images reads n calibration images (at most as many as there are) spread
// evenly over the sorted list of PNG and JPEG files under dir, searched
// recursively, and preprocesses each as the engine does at inference for
// m's single input: the calib argument of Quantize.
func Images(m *model.Model, dir string, n int) ([][][]float32, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: %d calibration images asked for", ErrOptions, n)
	}
	if len(m.Graph.Inputs) != 1 {
		return nil, fmt.Errorf("%w: the model has %d inputs; calibration from images needs one", ErrOptions, len(m.Graph.Inputs))
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".png", ".jpg", ".jpeg":
			if d.Type().IsRegular() {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s has no PNG or JPEG files", ErrOptions, dir)
	}
	slices.Sort(files)
	e, err := engine.New(m, engine.Options{})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	s := e.NewSession()
	defer s.Close()
	size := 1
	for _, d := range e.InputShapes()[0] {
		size *= d
	}
	n = min(n, len(files))
	calib := make([][][]float32, 0, n)
	for i := range n {
		p := files[i*len(files)/n]
		x := make([]float32, size)
		if err := preprocessFile(s, p, x); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		calib = append(calib, [][]float32{x})
	}
	return calib, nil
}

func preprocessFile(s *engine.Session, path string, dst []float32) error {
	img, err := LoadImage(path)
	if err != nil {
		return err
	}
	return s.Preprocess(img, dst)
}

// LoadImage decodes one image file (PNG or JPEG) under the file-size bound
// MaxImageBytes and the decoder's pixel limit, refusing anything but a
// regular file: the loader of every image the converter reads.
func LoadImage(path string) (image.Image, error) {
	f, st, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > MaxImageBytes {
		return nil, fmt.Errorf("%d bytes, limit %d", st.Size(), MaxImageBytes)
	}
	return imagedec.Decode(f)
}
