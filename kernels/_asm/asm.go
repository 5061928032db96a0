package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"
	"github.com/mmcloughlin/avo/x86"
)

// file is one generated .s file: an avo build context plus what avo has no
// words for (go_asm.h names in operands, prose comments).
type file struct {
	*build.Context
	goAsmH bool
	// raw replaces operands after avo's passes: avo checks operand types,
	// so an instruction is built with a placeholder and printed with the
	// go_asm.h name (const_X, Type_field) that the assembler resolves.
	raw  []rawOperand
	head string // comment printed after the includes
	// docs is prose printed before a line that starts with its marker (a
	// function's "// func" stub line, a table's first DATA line); pending
	// goes before the next function.
	docs    []placedDoc
	pending string
	// globals are package-level (non-static) DATA sections, which avo's
	// context only makes static; they print before the functions.
	globals []*ir.Global
	post    []func([]byte) []byte // last touches on the printed text
}

type placedDoc struct{ marker, text string }

type rawOperand struct {
	inst *ir.Instruction
	idx  int
	text string
}

type rawOp string

func (r rawOp) Asm() string { return string(r) }

func newFile() *file {
	f := &file{Context: build.NewContext()}
	f.ConstraintExpr("!purego")
	return f
}

// doc sets the comment printed before the next function: the
// introduction of a kernel family.
func (f *file) doc(lines ...string) { f.pending = comment(lines) }

// docBefore prints lines before the first line that starts with marker.
func (f *file) docBefore(marker string, lines ...string) {
	f.docs = append(f.docs, placedDoc{marker, comment(lines)})
}

func comment(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			b.WriteString("//\n")
		} else {
			b.WriteString("// " + l + "\n")
		}
	}
	return b.String()
}

// kernelsPkg stands in for package kernels when parsing signatures: only
// the types the assembly signatures name need to exist, with their layout.
var kernelsPkg, kernelsFile, kernelsFset = func() (*types.Package, *ast.File, *token.FileSet) {
	const src = `package kernels
import "unsafe"
type dwTaps struct {
	ptrs [25]unsafe.Pointer
	offs [25]int
}
var _ unsafe.Pointer
`
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "kernels.go", src, 0)
	if err != nil {
		panic(err)
	}
	pkg, err := (&types.Config{Importer: importerFunc(func(string) (*types.Package, error) { return types.Unsafe, nil })}).Check("kernels", fset, []*ast.File{af}, nil)
	if err != nil {
		panic(err)
	}
	return pkg, af, fset
}()

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(p string) (*types.Package, error) { return f(p) }

// text starts function name with Go signature sig ("func(a int, ...)"),
// NOSPLIT and no frame. The signature must be the Go declaration's (go vet
// checks the frame offsets against it).
func (f *file) text(name, sig string) {
	if f.pending != "" {
		f.docs = append(f.docs, placedDoc{"// func " + name + "(", f.pending})
		f.pending = ""
	}
	f.Function(name)
	f.Attributes(attr.NOSPLIT)
	tv, err := types.Eval(kernelsFset, kernelsPkg, kernelsFile.End()-1, sig)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", name, err))
	}
	f.Signature(gotypes.NewSignature(kernelsPkg, tv.Type.(*types.Signature)))
}

// arg is the frame slot of parameter name.
func (f *file) arg(name string) operand.Mem {
	b, err := f.Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// args loads the parameters named in names (space-separated) into regs in
// turn: MOVL into a 32-bit register, MOVQ into a 64-bit one.
func (f *file) args(names string, regs ...reg.GPPhysical) {
	fields := strings.Fields(names)
	if len(fields) != len(regs) {
		panic("args: " + names)
	}
	for i, name := range fields {
		if regs[i].Size() == 4 {
			f.MOVL(f.arg(name), regs[i])
		} else {
			f.MOVQ(f.arg(name), regs[i])
		}
	}
}

// withRaw adds instruction i, printing operand idx as text.
func (f *file) withRaw(i *ir.Instruction, err error, idx int, text string) {
	if err != nil {
		panic(err)
	}
	f.Instruction(i)
	f.raw = append(f.raw, rawOperand{i, idx, text})
}

// withGoAsm is withRaw for an operand naming go_asm.h macros.
func (f *file) withGoAsm(i *ir.Instruction, err error, idx int, text string) {
	f.withRaw(i, err, idx, text)
	f.goAsmH = true
}

// cmpConst emits CMPL r, $const_name: name is a Go constant of package
// kernels, its value taken from go_asm.h.
func (f *file) cmpConst(r reg.Register, name string) {
	i, err := x86.CMPL(r, operand.U8(0))
	f.withGoAsm(i, err, 1, "$const_"+name)
}

// ret leaves an AVX routine: VZEROUPPER spares the caller's SSE code the
// transition penalty, then RET.
func (f *file) ret() {
	f.VZEROUPPER()
	f.RET()
}

// passes is avo's Compile pipeline without PruneJumpToFollowingLabel, so
// the code is exactly what the generator writes.
var passes = pass.Concat(
	pass.Verify,
	pass.FunctionPass(pass.PruneDanglingLabels),
	pass.FunctionPass(pass.LabelTarget),
	pass.FunctionPass(pass.CFG),
	pass.InstructionPass(pass.ZeroExtend32BitOutputs),
	pass.FunctionPass(pass.Liveness),
	pass.FunctionPass(pass.AllocateRegisters),
	pass.FunctionPass(pass.BindRegisters),
	pass.FunctionPass(pass.VerifyAllocation),
	pass.FunctionPass(pass.EnsureBasePointerCalleeSaved),
	pass.Func(pass.IncludeTextFlagHeader),
	pass.FunctionPass(pass.PruneSelfMoves),
	pass.FunctionPass(pass.RequiredISAExtensions),
)

func (f *file) print() ([]byte, error) {
	irf, err := f.Result()
	if err != nil {
		return nil, err
	}
	secs := make([]ir.Section, 0, len(f.globals)+len(irf.Sections))
	for _, g := range f.globals {
		secs = append(secs, g)
	}
	irf.Sections = append(secs, irf.Sections...)
	if err := passes.Execute(irf); err != nil {
		return nil, err
	}
	if f.goAsmH {
		irf.Includes = append(irf.Includes, "go_asm.h")
	}
	for _, r := range f.raw {
		r.inst.Operands[r.idx] = rawOp(r.text)
	}
	src, err := printer.NewGoAsm(printer.Config{Name: "avo from kernels/_asm"}).Print(irf)
	if err != nil {
		return nil, err
	}
	// Prose avo cannot carry: the file comment after the includes.
	if f.head != "" {
		at := bytes.LastIndex(src, []byte("#include"))
		if at < 0 {
			at = bytes.Index(src, []byte("//go:build"))
		}
		at += bytes.IndexByte(src[at:], '\n') + 1
		src = insertAt(src, at, "\n"+f.head)
	}
	for _, d := range f.docs {
		at := bytes.Index(src, []byte("\n"+d.marker))
		if at < 0 {
			return nil, fmt.Errorf("no line %q for its comment", d.marker)
		}
		src = insertAt(src, at+1, d.text+"\n")
	}
	for _, post := range f.post {
		src = post(src)
	}
	return src, nil
}

func insertAt(src []byte, at int, text string) []byte {
	return append(src[:at:at], append([]byte(text), src[at:]...)...)
}

func replaceOnce(src []byte, old, new string) []byte {
	return bytes.Replace(src, []byte(old), []byte(new), 1)
}
