// Package impl is the registry of the kernels package's implementations:
// for every kernel family (gemm, dot, elem, depthwise) the tiers it
// implements, each with whether this machine runs it. It follows the shape
// of the standard library's crypto/internal/impl: implementations register
// themselves from init functions, lookups never fail (a tier a family lacks,
// or one the machine cannot run, gives the family's base tier and says so),
// and Select/Reset let a test pretend the machine runs fewer tiers.
//
// Tiers are plain numbers here (the kernels package's Tier values); tier 0
// is the base every family must register. The package is not API: only the
// kernels package imports it.
package impl

import "sync/atomic"

// Impl is one family's implementation of one tier.
type Impl[T any] struct {
	Family  string
	Tier    uint8
	Name    string // e.g. "f32-gemm-12x32-avx512"
	Kernels T
}

// Family holds the implementations of one kernel family, indexed by tier.
// Register it with NewFamily at package initialisation, fill it from init
// functions, and read it afterwards: lookups take no lock.
type Family[T any] struct {
	name  string
	impls []Impl[T] // by tier; an empty Name means not implemented
	cpu   []bool    // by tier: the CPU runs it (before Select)
}

// families lists every family for Families, in registration order.
var families []interface {
	Name() string
	Registered() []Registration
}

// NewFamily returns an empty family and records it for Families.
func NewFamily[T any](name string) *Family[T] {
	f := &Family[T]{name: name}
	families = append(families, f)
	return f
}

// Name is the family's name.
func (f *Family[T]) Name() string { return f.name }

// Register records tier's implementation; cpuRuns says whether this machine
// can execute it. Registering a tier twice replaces the first.
func (f *Family[T]) Register(tier uint8, name string, cpuRuns bool, k T) {
	if name == "" {
		panic("impl: implementation without a name")
	}
	for len(f.impls) <= int(tier) {
		f.impls = append(f.impls, Impl[T]{})
		f.cpu = append(f.cpu, false)
	}
	f.impls[tier] = Impl[T]{Family: f.name, Tier: tier, Name: name, Kernels: k}
	f.cpu[tier] = cpuRuns
}

// Has reports whether the family implements tier and the machine runs it.
func (f *Family[T]) Has(tier uint8) bool {
	return int(tier) < len(f.impls) && f.impls[tier].Name != "" && f.cpu[tier] && Allowed(tier)
}

// Lookup returns tier's implementation when the family has it and the
// machine runs it, and the base tier's (0) otherwise: the returned Tier is
// the one actually used, so a caller can report the fallback.
func (f *Family[T]) Lookup(tier uint8) Impl[T] {
	if !f.Has(tier) {
		tier = 0
	}
	if len(f.impls) == 0 || f.impls[tier].Name == "" {
		panic("impl: family " + f.name + " has no base implementation")
	}
	return f.impls[tier]
}

// Registration describes one registered implementation, for listings.
type Registration struct {
	Family    string
	Tier      uint8
	Name      string
	Available bool
}

// Registered lists the family's implementations in tier order.
func (f *Family[T]) Registered() []Registration {
	var out []Registration
	for t, im := range f.impls {
		if im.Name != "" {
			out = append(out, Registration{Family: f.name, Tier: uint8(t), Name: im.Name, Available: f.Has(uint8(t))})
		}
	}
	return out
}

// Families lists every family's implementations, family by family.
func Families() []Registration {
	var out []Registration
	for _, f := range families {
		out = append(out, f.Registered()...)
	}
	return out
}

// hidden has bit t set for every tier Select hides.
var hidden atomic.Uint64

// Allowed reports whether Select leaves tier visible. The base tier always
// is.
func Allowed(tier uint8) bool {
	return tier == 0 || tier >= 64 || hidden.Load()&(1<<tier) == 0
}

// Select hides every tier but the base and tier, as if the machine ran
// nothing else, so that a test can check the fallbacks and defaults of a
// smaller CPU. Select(0) leaves only the base. It is meant for tests that do
// not run in parallel with other kernel users; Reset undoes it.
func Select(tier uint8) {
	if tier >= 64 {
		hidden.Store(^uint64(0))
		return
	}
	hidden.Store(^uint64(0) &^ (1 << tier))
}

// Reset makes every tier visible again.
func Reset() { hidden.Store(0) }
