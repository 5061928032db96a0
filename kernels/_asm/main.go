// Command _asm writes the amd64 assembly of package kernels with avo
// (github.com/mmcloughlin/avo). It lives in its own module so that avo never
// becomes a dependency of signet.
//
//	cd kernels/_asm && go run .          # rewrite ../*_amd64.s
//	go run . -out /some/dir              # write them elsewhere (CI compares)
//
// One source per kernel family, parameterised by instruction set (the isa
// values in isa.go) and tile shape; one table of vector constants
// (consts.go), emitted once into consts_amd64.s and referenced by the
// others; the Go constants the kernels dispatch on (activation kinds,
// epilogue codes, elementwise ops, struct offsets) come from go_asm.h, which
// the Go toolchain writes from the package's own declarations.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	// A flag set of our own: avo's build package registers its flags
	// (-out among them) on the default one.
	fs := flag.NewFlagSet("_asm", flag.ExitOnError)
	out := fs.String("out", "..", "directory to write the .s files into")
	fs.Parse(os.Args[1:])
	files := []struct {
		name string
		gen  func() ([]byte, error)
	}{
		{"consts_amd64.s", amd64(genConsts)},
		{"fmapeak_amd64.s", amd64(genFMAPeak)},
		{"pack_amd64.s", amd64(genPack)},
		{"elem_amd64.s", amd64(genElem)},
		{"act_amd64.s", amd64(genAct)},
		{"unary_amd64.s", amd64(genUnary)},
		{"dot_amd64.s", amd64(genDot)},
		{"dw_amd64.s", amd64(genDepthwise)},
		{"gemm_amd64.s", amd64(genGemm)},
		{"qgemm_amd64.s", amd64(genQGemm)},
		{"consts_arm64.s", genConstsARM64},
	}
	for _, fl := range files {
		src, err := fl.gen()
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, fl.name), src, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", fl.name, err)
			os.Exit(1)
		}
	}
}

// amd64 builds one avo file with gen.
func amd64(gen func(*file)) func() ([]byte, error) {
	return func() ([]byte, error) {
		f := newFile()
		gen(f)
		return f.print()
	}
}
