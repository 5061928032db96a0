// Command _asm writes the amd64 assembly of package kernels with avo
// (github.com/mmcloughlin/avo). It lives in its own module so that avo never
// becomes a dependency of signet.
//
//	cd kernels/_asm && go run .          # rewrite ../kernels_amd64.s, ../consts_arm64.s
//	go run . -out /some/dir              # write them elsewhere (CI compares)
//
// Every amd64 routine goes into the one file kernels_amd64.s: one source
// per kernel family here, parameterised by instruction set (the isa values
// in isa.go) and tile shape; one table of vector constants (consts.go),
// emitted once at the top of that file and referenced by the kernels (and
// written again as the arm64 kernels' streams into consts_arm64.s); the Go
// constants the kernels dispatch on (activation kinds, epilogue codes,
// elementwise ops, struct offsets) come from go_asm.h, which the Go
// toolchain writes from the package's own declarations.
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
		{"kernels_amd64.s", amd64(genConsts, genFMAPeak, genPack, genElem, genAct,
			genUnary, genDot, genDot8, genDepthwise, genGemm, genQGemm, genQ8, genElemMax, genWinograd)},
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

// amd64 builds one avo file from the kernel families gens, in order.
func amd64(gens ...func(*file)) func() ([]byte, error) {
	return func() ([]byte, error) {
		f := newFile()
		f.head = comment([]string{
			"The amd64 kernels of package kernels, family by family, each generated",
			"from its own file in kernels/_asm; the Go declarations are in the",
			"*_amd64.go files.",
		})
		for _, gen := range gens {
			gen(f)
		}
		return f.print()
	}
}
