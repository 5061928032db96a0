package model

// Layout of the fixed header; FORMAT.md is the normative description.
const (
	// Version is the format version this package writes and the only one it
	// reads.
	Version = 1

	// Alignment is the byte alignment, relative to the start of the file, of
	// the data section and of every tensor in it, so that a memory-mapped
	// file hands out tensors that vector loads can use directly.
	Alignment = 64

	headerSize = 88

	offVersion   = 8
	offFlags     = 12
	offFileLen   = 16
	offMetaOff   = 24
	offMetaLen   = 32
	offGraphOff  = 40
	offGraphLen  = 48
	offDataOff   = 56
	offDataLen   = 64
	offMetaCRC   = 72
	offGraphCRC  = 76
	offDataCRC   = 80
	offHeaderCRC = 84
)

// magic opens every model file. The high-bit first byte and the CR LF, ^Z,
// LF tail catch files mangled by 7-bit or newline-converting transfers, as in
// PNG.
var magic = [8]byte{0x89, 'S', 'G', 'N', '\r', '\n', 0x1a, '\n'}

// Caps on everything a file declares. They bound the work and memory a
// decoder spends on a hostile file before checksums and structure are known
// good, and New enforces the same caps so that every model it accepts can be
// written and read back.
const (
	MaxNameLen     = 4096    // bytes in a name: value, node, op, attribute, tensor, metadata key
	MaxTextLen     = 1 << 20 // bytes in a free-text string: metadata values, string attributes
	MaxRank        = 8       // dimensions of a tensor or graph input/output
	MaxValues      = 4096    // graph inputs, and separately graph outputs
	MaxNodes       = 1 << 20 // nodes in a graph
	MaxTensors     = 1 << 20 // initializers in a graph
	MaxNodeIO      = 4096    // inputs, and separately outputs, of one node
	MaxAttrs       = 256     // attributes of one node
	MaxAttrElems   = 1 << 20 // elements of an ints or floats attribute
	MaxChannels    = 4096    // entries of Metadata.Mean and Metadata.Std
	MaxExtra       = 1 << 16 // entries of Metadata.Extra
	MaxMetaSection = 64 << 20
	// MaxGraphSection bounds the encoded graph (names, shapes, attributes
	// and tensor table; not tensor data).
	MaxGraphSection = 256 << 20
	// MaxOutputSize bounds Metadata.OutputSize so it fits an int everywhere.
	MaxOutputSize = 1<<31 - 1
)

func align(n uint64) uint64 { return (n + Alignment - 1) &^ (Alignment - 1) }
