package backend

import (
	"slices"
	"sync"

	"github.com/signet-go/signet/kernels"
)

// A Factory makes a backend for a planned engine of the given CPU tier
// (which a non-CPU backend may ignore).
type Factory func(tier kernels.Tier) Backend

var (
	regMu    sync.Mutex
	registry = map[string]Factory{}
)

// Register makes a backend known by name, as ollama's ml.RegisterBackend
// does: a backend package calls it from init, and the engine's op-by-op
// test then runs it against the reference. Registering a name twice
// panics (a programming error, at init time).
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: " + name + " registered twice")
	}
	registry[name] = f
}

// Registered returns the names of the registered backends, sorted.
func Registered() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns the factory registered under name.
func Get(name string) (Factory, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	f, ok := registry[name]
	return f, ok
}
