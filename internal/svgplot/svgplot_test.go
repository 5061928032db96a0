package svgplot

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

const hostile = `</text><script>alert(1)</script><text a="'&`

// parse tokenises an SVG, failing on malformed XML, and returns its
// character data and element names.
func parse(t *testing.T, svg string) (text string, elements map[string]int) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	elements = map[string]int{}
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			elements[x.Name.Local]++
		case xml.CharData:
			b.Write(x)
			b.WriteByte('\n')
		}
	}
	return b.String(), elements
}

// Untrusted names stay text: the SVG parses, has no element the plotter
// did not write, and shows each name as it was.
func TestHistogramEscapes(t *testing.T) {
	h := Histogram{Title: "t" + hostile, XLabel: "x" + hostile,
		Series: []Series{{Name: "s" + hostile, Values: []float32{0.1, 0.2, 0.9}}, {Name: "e", Values: nil}},
		Marks:  []Mark{{Name: "m" + hostile, X: 0.5}}}
	svg := h.SVG()
	if strings.Contains(svg, "<script") || strings.Contains(svg, `a="'`) {
		t.Error("a name is written raw")
	}
	text, elements := parse(t, svg)
	for _, want := range []string{"t" + hostile, "x" + hostile, "s" + hostile + " (3)", "e (0)", "m" + hostile + " = 0.5000"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	for name := range elements {
		switch name {
		case "svg", "title", "text", "line", "path", "rect":
		default:
			t.Errorf("unexpected element <%s>", name)
		}
	}
	// One outline per non-empty series, one line per mark in the plot and
	// one in the legend.
	if elements["path"] != 1 {
		t.Errorf("%d paths, want 1", elements["path"])
	}
}

func TestBinCounts(t *testing.T) {
	vs := []float32{-5, 0, 0.01, 0.5, 0.99, 1, 7, float32(math.NaN()), float32(math.Inf(1))}
	counts, peak := binCounts(vs, 0, 1, 4)
	// Out-of-range values land in the edge bins; NaN nowhere.
	want := []int{3, 0, 1, 4}
	for i := range want {
		if counts[i] != want[i] {
			t.Fatalf("counts %v, want %v", counts, want)
		}
	}
	if peak != 4 {
		t.Errorf("peak %d", peak)
	}
}

func TestAxis(t *testing.T) {
	for _, c := range []struct {
		h      Histogram
		lo, hi float64
	}{
		{Histogram{}, -1, 1},
		{Histogram{Series: []Series{{Values: []float32{0.93, 0.97}}}}, 0.8, 1},
		{Histogram{Series: []Series{{Values: []float32{-0.3, 0.2}}}, Marks: []Mark{{X: 0.95}}}, -0.4, 1},
		{Histogram{Min: 0.5, Max: 0.7, Series: []Series{{Values: []float32{-1}}}}, 0.5, 0.7},
		{Histogram{Marks: []Mark{{X: math.NaN()}, {X: math.Inf(1)}}}, -1, 1},
	} {
		lo, hi := c.h.axis()
		if math.Abs(lo-c.lo) > 1e-9 || math.Abs(hi-c.hi) > 1e-9 {
			t.Errorf("%+v: axis [%v, %v], want [%v, %v]", c.h, lo, hi, c.lo, c.hi)
		}
	}
}

// Degenerate input still gives a well-formed plot.
func TestHistogramDegenerate(t *testing.T) {
	for _, h := range []Histogram{
		{},
		{Width: 1, Height: 1, Bins: -3},
		{Bins: 1 << 30, Series: []Series{{Values: []float32{0.5}}}},
		{Marks: []Mark{{Name: "nan", X: math.NaN()}}, Series: []Series{{Values: []float32{float32(math.NaN())}}}},
	} {
		text, _ := parse(t, h.SVG())
		if strings.Contains(text, "NaN") {
			t.Errorf("%+v: NaN printed:\n%s", h, text)
		}
	}
}
