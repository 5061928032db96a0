package quant

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/signet-go/signet/model"
)

func TestImages(t *testing.T) {
	m, err := model.Open(filepath.Join("..", "..", "..", "testdata", "models", "signs.sgn"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := filepath.Join("..", "..", "..", "testdata", "signs-calib")
	calib, err := Images(m, dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(calib) != 5 || len(calib[0]) != 1 || len(calib[0][0]) != 3*64*64 {
		t.Fatalf("%d inputs, first %d×%d values", len(calib), len(calib[0]), len(calib[0][0]))
	}
	if all, err := Images(m, dir, 1000); err != nil || len(all) != 128 {
		t.Errorf("asking for more than there are: %d inputs, %v", len(all), err)
	}
	for name, n := range map[string]int{t.TempDir(): 4, dir: 0} {
		if _, err := Images(m, name, n); !errors.Is(err, ErrOptions) {
			t.Errorf("Images(%s, %d): %v, want ErrOptions", name, n, err)
		}
	}
}
