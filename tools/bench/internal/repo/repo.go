// Package repo finds the signet repository the bench commands run in: they
// take model paths relative to its root.
package repo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// RootOr returns root, a -root flag's value, or Root where it is empty.
func RootOr(root string) (string, error) {
	if root != "" {
		return root, nil
	}
	return Root()
}

// Root walks up from the working directory to the signet module's go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/signet-go/signet\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the signet repository root; pass -root")
		}
		dir = parent
	}
}
