package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/signet-go/signet/internal/dataset"
	"github.com/signet-go/signet/internal/imagedec"
)

// parseFiles is parseFlags for a command that takes one or more FILEs and
// needs the string flags named in required set: a missing flag, then no
// FILE (the usage error none), is refused.
func parseFiles(fs *flag.FlagSet, args []string, none string, required ...string) ([]string, error) {
	files, err := parseFlags(fs, args)
	if err == nil {
		err = requireFlags(fs, required...)
	}
	if err == nil && len(files) == 0 {
		err = usagef("%s", none)
	}
	return files, err
}

// imageArgs expands command-line image arguments: a file stands for itself,
// a folder for every file in it (not recursing, hidden files skipped). An
// empty folder is an error, because enrolling nothing is never what the user
// meant.
func imageArgs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		files, err := dataset.Files(a)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: folder contains no images", a)
		}
		out = append(out, files...)
	}
	if len(out) == 0 {
		return nil, errors.New("no images")
	}
	return out, nil
}

// backgroundFiles lists the images of calibrate -background: a folder of
// images, or a folder of class folders of images (flattened: every image
// is an impostor for every class, so the folder names are not labels). A
// top level mixing files and folders is refused: it is usually a wrong path
// or a half-copied dataset.
func backgroundFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var file, folder string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() {
			folder = cmp.Or(folder, e.Name())
		} else {
			file = cmp.Or(file, e.Name())
		}
	}
	switch {
	case folder == "":
		return imageArgs([]string{dir})
	case file != "":
		return nil, fmt.Errorf("%s: mixes files (%s) and folders (%s); want a folder of images or a folder of class folders", dir, file, folder)
	}
	labels, byClass, err := classFolders(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range labels {
		out = append(out, byClass[l]...)
	}
	return out, nil
}

// classFolders reads a folder-per-class dataset: DIR/<label>/<image>, every
// class folder holding at least one file. Labels come back sorted.
func classFolders(dir string) (labels []string, files map[string][]string, err error) {
	classes, err := dataset.Classes(dir, "class")
	if err != nil {
		return nil, nil, err
	}
	files = map[string][]string{}
	for _, c := range classes {
		if len(c.Files) == 0 {
			return nil, nil, fmt.Errorf("%s: class folder %s contains no images", dir, c.Label)
		}
		labels = append(labels, c.Label)
		files[c.Label] = c.Files
	}
	if len(labels) == 0 {
		return nil, nil, fmt.Errorf("%s: no class folders", dir)
	}
	return labels, files, nil
}

// checkImages checks every file's header (format, size within the pixel
// limit) before anything else happens, so a bad file stops a command before
// the model loads; the images are then decoded one at a time.
func checkImages(paths []string) error {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
			continue // a pipe can be read once: it is checked as it is decoded
		}
		r, closeFn, err := openInput(p)
		if err != nil {
			return err
		}
		err = imagedec.Check(r)
		closeFn()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
