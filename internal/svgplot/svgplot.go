// Package svgplot draws the few plots signet's HTML reports need as inline
// SVG, so a report is one self-contained file with no charting dependency
// and nothing to load. Every text it writes (titles, legends, mark labels)
// may come from an untrusted gallery and is escaped; colours are chosen
// from a fixed palette, never taken from the caller as markup.
package svgplot

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one set of values drawn as a histogram outline.
type Series struct {
	Name   string
	Values []float32
}

// Mark is a labelled vertical line, such as a threshold.
type Mark struct {
	Name string
	X    float64
}

// Histogram overlays several series on one axis. Each series is scaled to
// its own tallest bin, so a handful of genuine scores and thousands of
// impostor scores share one plot; the legend gives each series' size.
type Histogram struct {
	Title string
	// XLabel names the axis ("cosine score").
	XLabel string
	// Min and Max bound the axis; both zero means [-1, 1] narrowed to the
	// data and marks.
	Min, Max float64
	Bins     int // 0 means 40
	Width    int // pixels; 0 means 640
	Height   int // pixels; 0 means 220
	Series   []Series
	Marks    []Mark
}

// Fixed palettes: series outlines and mark lines. Chosen to stay apart for
// common colour-vision deficiencies (Okabe–Ito).
var (
	seriesColours = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00"}
	markColours   = []string{"#000000", "#7f3c8d", "#b8860b", "#555555"}
	markDashes    = []string{"6 3", "2 2", "8 2 2 2", "4 4"}
)

const maxBins = 400

// SVG renders the histogram. The result is a complete <svg> element for
// inline use in HTML.
func (h Histogram) SVG() string {
	w, ht, bins := h.Width, h.Height, h.Bins
	if w <= 0 {
		w = 640
	}
	if ht <= 0 {
		ht = 220
	}
	if bins <= 0 {
		bins = 40
	}
	bins = min(bins, maxBins)
	lo, hi := h.axis()
	const left, right, top = 44, 12, 28
	legendRows := len(h.Series) + len(h.Marks)
	plotW, plotH := float64(w-left-right), float64(ht-top-40)
	plotW, plotH = max(plotW, 10), max(plotH, 10)
	total := ht + 16*legendRows
	x := func(v float64) float64 { return float64(left) + (v-lo)/(hi-lo)*plotW }
	y0 := float64(top) + plotH

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		w, total, w, total, esc(h.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(h.Title))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="bold" fill="#222">%s</text>`, left, esc(h.Title))
	// Axes and ticks.
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`, left, y0, float64(left)+plotW, y0)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="#444"/>`, left, top, left, y0)
	step := tickStep(hi - lo)
	for t := math.Ceil(lo/step-1e-9) * step; t <= hi+1e-9; t += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`, x(t), y0, x(t), y0+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#333">%s</text>`, x(t), y0+15, tickLabel(t, step))
	}
	if h.XLabel != "" {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#333">%s</text>`, float64(left)+plotW/2, y0+30, esc(h.XLabel))
	}
	fmt.Fprintf(&b, `<text x="12" y="%.1f" font-size="10" fill="#333" transform="rotate(-90 12 %.1f)" text-anchor="middle">share of tallest bin</text>`,
		float64(top)+plotH/2, float64(top)+plotH/2)

	// Series: filled, translucent step outlines.
	for i, s := range h.Series {
		counts, peak := binCounts(s.Values, lo, hi, bins)
		if peak == 0 {
			continue
		}
		col := seriesColours[i%len(seriesColours)]
		var p strings.Builder
		fmt.Fprintf(&p, "M%.1f %.1f", x(lo), y0)
		bw := (hi - lo) / float64(bins)
		for k, c := range counts {
			yy := y0 - plotH*float64(c)/float64(peak)
			fmt.Fprintf(&p, " L%.1f %.1f L%.1f %.1f", x(lo+float64(k)*bw), yy, x(lo+float64(k+1)*bw), yy)
		}
		fmt.Fprintf(&p, " L%.1f %.1f Z", x(hi), y0)
		fmt.Fprintf(&b, `<path d="%s" fill="%s" fill-opacity="0.25" stroke="%s" stroke-width="1.5"/>`, p.String(), col, col)
	}
	// Marks: dashed vertical lines, clamped to the axis.
	for i, m := range h.Marks {
		if math.IsNaN(m.X) || math.IsInf(m.X, 0) {
			continue
		}
		xv := x(math.Max(lo, math.Min(hi, m.X)))
		col, dash := markColours[i%len(markColours)], markDashes[i%len(markDashes)]
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`, xv, top, xv, y0, col, dash)
	}
	// Legend below the axis label: one row per series and mark.
	ly := ht + 2
	for i, s := range h.Series {
		col := seriesColours[i%len(seriesColours)]
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="10" fill="%s" fill-opacity="0.25" stroke="%s"/>`, left, ly-9, col, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#222">%s (%d)</text>`, left+20, ly, esc(s.Name), len(s.Values))
		ly += 16
	}
	for i, m := range h.Marks {
		col, dash := markColours[i%len(markColours)], markDashes[i%len(markDashes)]
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`, left, ly-4, left+14, ly-4, col, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#222">%s = %s</text>`, left+20, ly, esc(m.Name), num(m.X))
		ly += 16
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// axis returns the x range: the caller's, or [-1, 1] narrowed to the data
// and marks with a margin, so scores bunched near 1 are not squeezed.
func (h Histogram) axis() (float64, float64) {
	if h.Max > h.Min && !math.IsInf(h.Max-h.Min, 0) {
		return h.Min, h.Max
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for _, s := range h.Series {
		for _, v := range s.Values {
			see(float64(v))
		}
	}
	for _, m := range h.Marks {
		see(m.X)
	}
	if lo > hi {
		return -1, 1
	}
	lo = math.Max(-1, math.Floor((lo-0.05)*10)/10)
	hi = math.Min(1, math.Ceil((hi+0.05)*10)/10)
	if hi-lo < 0.2 {
		lo, hi = math.Max(-1, hi-0.2), math.Max(hi, lo+0.2)
	}
	return lo, hi
}

// binCounts counts finite values into bins over [lo, hi]; values outside go
// to the edge bins so no score silently disappears.
func binCounts(vs []float32, lo, hi float64, bins int) ([]int, int) {
	counts := make([]int, bins)
	peak := 0
	for _, v := range vs {
		f := float64(v)
		if math.IsNaN(f) {
			continue
		}
		// Clamp before converting: int(±Inf) is not defined.
		k := int(math.Max(0, math.Min(float64(bins-1), math.Floor((f-lo)/(hi-lo)*float64(bins)))))
		counts[k]++
		peak = max(peak, counts[k])
	}
	return counts, peak
}

func tickStep(span float64) float64 {
	for _, s := range []float64{0.05, 0.1, 0.2, 0.25, 0.5} {
		if span/s <= 10 {
			return s
		}
	}
	return 1
}

func tickLabel(t, step float64) string {
	if math.Abs(t) < 1e-9 {
		t = 0
	}
	if step < 0.1 {
		return fmt.Sprintf("%.2f", t)
	}
	return fmt.Sprintf("%.1f", t)
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", v)
}

// esc escapes text for SVG inside HTML: &, <, >, " and '.
func esc(s string) string { return html.EscapeString(s) }
