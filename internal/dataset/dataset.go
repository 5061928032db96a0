// Package dataset lists image folders the way every signet tool reads them:
// a folder of image files, or a folder-per-class dataset DIR/<label>/<file>.
// Entries whose names start with a dot are ignored everywhere; a folder
// where files are expected (or a file where class folders are expected) is
// an error, since a stray entry there usually means a wrong path. It lists
// names only: whether a file is an image is for the decoder to say.
package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Class is one class folder of a dataset.
type Class struct {
	Label string   // the folder's name
	Files []string // its files' paths, in name order
}

// Files returns the paths of the non-hidden files of dir in name order.
func Files(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents { // ReadDir sorts by name
		if hidden(e.Name()) {
			continue
		}
		if e.IsDir() {
			return nil, fmt.Errorf("%s: expected image files, found folder %s", dir, e.Name())
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out, nil
}

// Classes reads a folder-per-class dataset, classes in label order. A class
// folder may be empty; callers that need images say so themselves. what
// names the folders in errors ("class", "background class").
func Classes(dir, what string) ([]Class, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Class
	for _, e := range ents {
		if hidden(e.Name()) {
			continue
		}
		if !e.IsDir() {
			return nil, fmt.Errorf("%s: expected one folder per %s, found file %s", dir, what, e.Name())
		}
		files, err := Files(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Class{Label: e.Name(), Files: files})
	}
	return out, nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }
