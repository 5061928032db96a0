package dataset

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, paths ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestClasses(t *testing.T) {
	root := write(t, "b/2.png", "b/1.jpg", "b/.hidden", "a/x.png", ".git/config", "empty/")
	got, err := Classes(root, "class")
	if err != nil {
		t.Fatal(err)
	}
	want := []Class{
		{"a", []string{filepath.Join(root, "a", "x.png")}},
		{"b", []string{filepath.Join(root, "b", "1.jpg"), filepath.Join(root, "b", "2.png")}},
		{"empty", nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Classes = %v, want %v", got, want)
	}
}

func TestRefusesStrayEntries(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		err   string
	}{
		{[]string{"a/x.png", "stray.png"}, "expected one folder per class, found file stray.png"},
		{[]string{"a/x.png", "a/sub/y.png"}, "expected image files, found folder sub"},
	} {
		root := write(t, tc.paths...)
		_, err := Classes(root, "class")
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err %v, want %q", tc.paths, err, tc.err)
		}
	}
	if _, err := Files(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("Files(missing) = %v, want a not-exist error", err)
	}
}
