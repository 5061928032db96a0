package main

import (
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genFMAPeak writes fmaPeakAVX512 and fmaPeakAVX2: n iterations of 24
// FMAs over twelve independent chains, enough to cover 4-cycle latency on
// two FMA pipes, so the loop runs at the core's FMA throughput.
func genFMAPeak(f *file) {
	f.doc("FMA throughput probes (declared in fmapeak_amd64.go).")
	for _, v := range tiers {
		f.text("fmaPeak"+v.name, "func(n int)")
		f.MOVQ(f.arg("n"), RCX)
		for i := 0; i < 14; i++ {
			f.zero(v, v.V(i))
		}
		f.TESTQ(RCX, RCX)
		f.JLE(LabelRef("done"))
		f.Label("loop")
		for rep := 0; rep < 2; rep++ {
			for i := 0; i < 12; i++ {
				f.VFMADD231PS(v.V(12), v.V(13), v.V(i))
			}
		}
		f.DECQ(RCX)
		f.JNZ(LabelRef("loop"))
		f.Label("done")
		f.ret()
	}
}
