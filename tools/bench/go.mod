module github.com/signet-go/signet/tools/bench

go 1.26

require (
	github.com/signet-go/signet v0.0.0
	github.com/yalue/onnxruntime_go v1.27.0
)

require (
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
	golang.org/x/sys v0.41.0 // indirect
)

replace github.com/signet-go/signet => ../..
