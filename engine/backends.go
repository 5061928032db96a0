package engine

// The backends linked into the engine. Each registers itself from init
// (backend.Register) under the name Options.Backend takes. A new backend
// adds its import here, or in a file of its own behind a build tag (e.g.
// backends_cuda.go with //go:build cuda) when it needs a toolchain or
// driver that some builds lack. The CPU backend is also the fallback
// (plan.go), so it is always linked.
import _ "github.com/signet-go/signet/engine/internal/cpu"
