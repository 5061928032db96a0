// Package onnx converts ONNX models (opsets 11–17) into signet's native
// graph (package model).
//
// It reads the protobuf wire format itself, with no protobuf dependency: the
// converter runs on untrusted files, so every declared length is checked
// against the bytes present before anything is sliced or allocated, nesting
// is capped, and malformed input yields an error wrapping ErrMalformed, never
// a panic. Anything the native graph cannot express exactly — an operator, an
// attribute value, a non-constant operand where the engine needs a constant —
// yields an error wrapping ErrUnsupported that names the operator, the node
// and the opset, rather than a graph that computes something else.
//
// Conversion infers static shapes from the graph inputs (a dynamic batch
// becomes 1), folds constant subgraphs (the Shape → Gather → Unsqueeze →
// Concat chains exporters put in front of Reshape), folds BatchNormalization
// into the preceding Conv, rewrites x·Sigmoid(x) into SiLU and PyTorch's
// F.normalize pattern into L2Normalize and its layer_norm pattern into
// LayerNormalization, folds zero Pads into the Conv or pool they feed,
// fuses activations into Conv, Gemm and MatMul, and removes Identity,
// Dropout and dead nodes. See model/ops.go for
// the target operator set.
//
// Conversion takes time and memory linear in the size of the file. Shape
// arithmetic is overflow-checked: a value of more than 2³¹-1 elements or
// more than model.MaxRank dimensions, or constant folding past its budget
// (256 MiB plus 8 bytes per byte of the file), yields ErrTooLarge; a value
// with a dimension of size 0 yields ErrZeroSize. Both wrap ErrUnsupported.
package onnx
