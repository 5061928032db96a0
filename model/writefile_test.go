package model_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/signet-go/signet/model"
	"github.com/signet-go/signet/model/modeltest"
)

// WriteFile replaced a symlinked path by a regular file and reset an
// existing file's mode to 0644.
func TestWriteFileKeepsModeAndSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions and symlinks")
	}
	dir := t.TempDir()
	m := modeltest.Tiny(t)
	target := filepath.Join(dir, "real", "enc.sgn")
	if err := os.Mkdir(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "enc.sgn")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := model.WriteFile(link, m); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", st.Mode().Perm())
	}
	got, err := model.Open(link)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Fingerprint() != m.Fingerprint() {
		t.Error("the target does not hold the written model")
	}
	// A new file gets 0644; no temporary file is left behind.
	fresh := filepath.Join(dir, "new.sgn")
	if err := model.WriteFile(fresh, m); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}
	for _, d := range []string{dir, filepath.Dir(target)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if len(e.Name()) > 0 && e.Name()[0] == '.' {
				t.Errorf("left behind %s", e.Name())
			}
		}
	}
}
