package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// From any folder inside the repository (this package's own, two levels
// below tools/bench, whose go.mod is another module's) Root finds the
// folder whose go.mod is the signet module's.
func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", filepath.Join("tools", "bench", "go.mod")} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("root %s: %v", root, err)
		}
	}
}
