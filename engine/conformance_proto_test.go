package engine_test

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A minimal reader for the part of an ONNX ModelProto the conformance test
// needs to decide which graph inputs are data and which are operands to bind
// as constants: the nodes (op type, inputs) and the graph input names. It is
// kept here, independent of the converter, so the test does not lean on the
// code it checks.

type onnxNode struct {
	op     string
	inputs []string
}

type onnxGraph struct {
	nodes  []onnxNode
	inputs []string
}

var errProto = errors.New("conformance: bad protobuf")

// protoFields calls fn for every field of one protobuf message. For
// length-delimited fields b is the payload; for varints v is the value.
func protoFields(msg []byte, fn func(num int, wire int, v uint64, b []byte) error) error {
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return errProto
		}
		msg = msg[n:]
		num, wire := int(key>>3), int(key&7)
		switch wire {
		case 0:
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return errProto
			}
			msg = msg[n:]
			if err := fn(num, wire, v, nil); err != nil {
				return err
			}
		case 1:
			if len(msg) < 8 {
				return errProto
			}
			msg = msg[8:]
		case 5:
			if len(msg) < 4 {
				return errProto
			}
			msg = msg[4:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return errProto
			}
			b := msg[n : n+int(l)]
			msg = msg[n+int(l):]
			if err := fn(num, wire, 0, b); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: wire type %d", errProto, wire)
		}
	}
	return nil
}

// parseONNXGraph extracts nodes and graph input names from a ModelProto
// (ModelProto.graph = 7; GraphProto.node = 1, .input = 11; NodeProto.input = 1,
// .op_type = 4; ValueInfoProto.name = 1).
func parseONNXGraph(data []byte) (onnxGraph, error) {
	var g onnxGraph
	err := protoFields(data, func(num, wire int, _ uint64, b []byte) error {
		if num != 7 || wire != 2 {
			return nil
		}
		return protoFields(b, func(num, wire int, _ uint64, b []byte) error {
			if wire != 2 {
				return nil
			}
			switch num {
			case 1:
				var n onnxNode
				err := protoFields(b, func(num, wire int, _ uint64, b []byte) error {
					switch {
					case num == 1 && wire == 2:
						n.inputs = append(n.inputs, string(b))
					case num == 4 && wire == 2:
						n.op = string(b)
					}
					return nil
				})
				g.nodes = append(g.nodes, n)
				return err
			case 11:
				return protoFields(b, func(num, wire int, _ uint64, b []byte) error {
					if num == 1 && wire == 2 {
						g.inputs = append(g.inputs, string(b))
					}
					return nil
				})
			}
			return nil
		})
	})
	return g, err
}
