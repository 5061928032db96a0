package gallery_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
)

// readmeAfter returns the repository README from the end of marker on,
// failing t with what when it has none.
func readmeAfter(t *testing.T, marker, what string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatal("README.md has no " + what)
	}
	return rest
}

// The Go snippet in README.md ("Using it from Go") is the body of
// Example_engine, so it compiles and its output is checked. This test keeps
// the two identical: edit the example, then paste its body into the README.
func TestReadmeSnippetIsExample(t *testing.T) {
	section := readmeAfter(t, "\n## Using it from Go\n", `"## Using it from Go" section`)
	_, snippet, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the section has no ```go block")
	}
	snippet, _, ok = strings.Cut(snippet, "\n```\n")
	if !ok {
		t.Fatal("the ```go block is not closed")
	}

	const file = "example_engine_test.go"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var body string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "Example_engine" {
			// From after "{\n" to before "\n}", one tab of indent removed.
			text := string(src[fset.Position(fn.Body.Lbrace).Offset+2 : fset.Position(fn.Body.Rbrace).Offset-1])
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				lines[i] = strings.TrimPrefix(l, "\t")
			}
			body = strings.Join(lines, "\n")
		}
	}
	if body == "" {
		t.Fatalf("%s has no Example_engine", file)
	}
	if snippet != body {
		a, b := strings.Split(snippet, "\n"), strings.Split(body, "\n")
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Fatalf("README.md's Go snippet differs from the body of Example_engine in %s at line %d:\nREADME:  %q\nexample: %q", file, i+1, x, y)
			}
		}
	}
}

// README.md's "Dependencies:" line names exactly the modules go.mod
// requires directly (it once named a test library go.mod never had).
func TestReadmeDependenciesAreGoMod(t *testing.T) {
	deps := readmeAfter(t, "\nDependencies: ", `"Dependencies: " line`)
	deps, _, _ = strings.Cut(deps, "\n\n")
	var named []string
	for i, part := range strings.Split(deps, "`") {
		if i%2 == 1 && strings.Contains(part, ".") && strings.Contains(part, "/") {
			named = append(named, part)
		}
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	inBlock := false
	for _, l := range strings.Split(string(mod), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "require (":
			inBlock = true
		case inBlock && l == ")":
			inBlock = false
		case strings.HasPrefix(l, "require ") || inBlock && l != "":
			if strings.Contains(l, "// indirect") {
				continue
			}
			fields := strings.Fields(strings.TrimPrefix(l, "require "))
			required = append(required, fields[0])
		}
	}
	slices.Sort(named)
	slices.Sort(required)
	if !slices.Equal(named, required) {
		t.Fatalf("README.md names dependencies %v, go.mod requires %v", named, required)
	}
}
