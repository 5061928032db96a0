//go:build purego || !(amd64 || arm64)

package kernels

import "unsafe"

// Without assembly no SIMD tier runs, so Depthwise never calls these.

func dwRowAsm(Tier, int, *[5]unsafe.Pointer, *float32, *float32, int, int, int, int, int, int, uint32, float32, float32) {
	panic("kernels: no depthwise assembly in this build")
}

func dwPixelAsm(Tier, *dwTaps, int, *float32, *float32, int, int, uint32, float32, float32) {
	panic("kernels: no depthwise assembly in this build")
}
