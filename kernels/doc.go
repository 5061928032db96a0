// Package kernels holds signet's numeric kernels: a plain reference
// implementation of each (the oracle, kept forever), a fast portable Go path,
// and assembly microkernels per CPU tier that slot in per layer.
//
// A kernel family is described by a contract (see GemmMicrokernel); every tier
// implements the same contract and tests compare each tier with the reference.
package kernels
