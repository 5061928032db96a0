package onnx

import "fmt"

// The subset of onnx.proto (proto2) the converter reads. Field numbers are
// those of onnx/onnx.proto; fields not listed are skipped.

type modelProto struct {
	irVersion       int64
	opsets          []opsetID
	producerName    string
	producerVersion string
	graph           *graphProto
}

type opsetID struct {
	domain  string
	version int64
}

type graphProto struct {
	name      string
	nodes     []nodeProto
	inits     []tensorProto
	inputs    []valueInfo
	outputs   []valueInfo
	valueInfo []valueInfo
	sparse    int // count of sparse_initializer entries (unsupported)
}

type nodeProto struct {
	inputs  []string
	outputs []string
	name    string
	opType  string
	domain  string
	attrs   []attrProto
}

// AttributeProto.AttributeType values.
const (
	attrUndefined = 0
	attrFloat     = 1
	attrInt       = 2
	attrString    = 3
	attrTensor    = 4
	attrGraph     = 5
	attrFloats    = 6
	attrInts      = 7
	attrStrings   = 8
)

type attrProto struct {
	name    string
	typ     int32
	f       float32
	i       int64
	s       []byte
	t       *tensorProto
	floats  []float32
	ints    []int64
	strings [][]byte
	// set records which fields were present, for models that omit type.
	hasF, hasI, hasS, hasT, hasOther bool
}

// TensorProto.DataType values.
const (
	dtFloat    = 1
	dtUint8    = 2
	dtInt8     = 3
	dtUint16   = 4
	dtInt16    = 5
	dtInt32    = 6
	dtInt64    = 7
	dtString   = 8
	dtBool     = 9
	dtFloat16  = 10
	dtDouble   = 11
	dtUint32   = 12
	dtUint64   = 13
	dtBfloat16 = 16
)

type tensorProto struct {
	dims         []int64
	dataType     int32
	floatData    []float32
	int32Data    []int64 // int32_data holds every type narrower than 32 bits too
	int64Data    []int64
	doubleData   []float64
	uint64Data   []int64
	raw          []byte
	hasRaw       bool
	name         string
	dataLocation int32
	external     bool
	strings      int
	segment      bool
}

type valueInfo struct {
	name     string
	isTensor bool
	elemType int32
	hasShape bool
	dims     []int64 // -1 where the dimension is symbolic or unknown
}

func parseModel(data []byte) (*modelProto, error) {
	r, err := newReader(data, 0)
	if err != nil {
		return nil, err
	}
	m := &modelProto{}
	err = r.each(func(r *reader, f field) (err error) {
		var b []byte
		switch f.num {
		case 1:
			m.irVersion, err = f.int64("ir_version")
		case 2:
			m.producerName, err = f.str("producer_name")
		case 3:
			m.producerVersion, err = f.str("producer_version")
		case 7:
			if b, err = f.bytes("graph"); err == nil {
				if m.graph != nil {
					// proto2 merges repeated occurrences of a message field;
					// no exporter writes two graphs, so refuse rather than merge.
					return fmt.Errorf("%w: model has more than one graph", ErrMalformed)
				}
				m.graph, err = parseGraph(r, b)
			}
		case 8:
			if b, err = f.bytes("opset_import"); err == nil {
				var o opsetID
				o, err = parseOpset(r, b)
				m.opsets = append(m.opsets, o)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func parseOpset(parent *reader, b []byte) (o opsetID, err error) {
	err = parent.message(b, func(_ *reader, f field) (err error) {
		switch f.num {
		case 1:
			o.domain, err = f.str("opset domain")
		case 2:
			o.version, err = f.int64("opset version")
		}
		return err
	})
	return o, err
}

// countFields counts the fields of message b by number, for the repeated
// fields wanted (at most five): parsing into slices of exactly that size
// allocates each element once instead of about five times over through
// append's growth. It returns false when b is malformed; the parse proper
// reports why.
func countFields(b []byte, want ...int32) ([5]int, bool) {
	var n [5]int
	r := reader{buf: b}
	err := r.each(func(_ *reader, f field) error {
		for i, w := range want {
			if f.num == w {
				n[i]++
			}
		}
		return nil
	})
	return n, err == nil
}

func parseGraph(parent *reader, b []byte) (*graphProto, error) {
	g := &graphProto{}
	if n, ok := countFields(b, 1, 5, 11, 12, 13); ok {
		g.nodes = make([]nodeProto, 0, n[0])
		g.inits = make([]tensorProto, 0, n[1])
		g.inputs = make([]valueInfo, 0, n[2])
		g.outputs = make([]valueInfo, 0, n[3])
		g.valueInfo = make([]valueInfo, 0, n[4])
	}
	err := parent.message(b, func(r *reader, f field) (err error) {
		var sub []byte
		switch f.num {
		case 1:
			if sub, err = f.bytes("node"); err == nil {
				var n nodeProto
				n, err = parseNode(r, sub)
				g.nodes = append(g.nodes, n)
			}
		case 2:
			g.name, err = f.str("graph name")
		case 5:
			if sub, err = f.bytes("initializer"); err == nil {
				g.inits = append(g.inits, tensorProto{})
				err = parseTensorInto(r, sub, &g.inits[len(g.inits)-1])
			}
		case 11, 12, 13:
			if sub, err = f.bytes("value info"); err == nil {
				var v valueInfo
				v, err = parseValueInfo(r, sub)
				switch f.num {
				case 11:
					g.inputs = append(g.inputs, v)
				case 12:
					g.outputs = append(g.outputs, v)
				default:
					g.valueInfo = append(g.valueInfo, v)
				}
			}
		case 15:
			_, err = f.bytes("sparse_initializer")
			g.sparse++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func parseNode(parent *reader, b []byte) (n nodeProto, err error) {
	if c, ok := countFields(b, 1, 2, 5); ok {
		n.inputs = make([]string, 0, c[0])
		n.outputs = make([]string, 0, c[1])
		n.attrs = make([]attrProto, 0, c[2])
	}
	err = parent.message(b, func(r *reader, f field) (err error) {
		var s string
		switch f.num {
		case 1:
			if s, err = f.str("node input"); err == nil {
				n.inputs = append(n.inputs, s)
			}
		case 2:
			if s, err = f.str("node output"); err == nil {
				n.outputs = append(n.outputs, s)
			}
		case 3:
			n.name, err = f.str("node name")
		case 4:
			n.opType, err = f.str("op_type")
		case 7:
			n.domain, err = f.str("node domain")
		case 5:
			var sub []byte
			if sub, err = f.bytes("attribute"); err == nil {
				var a attrProto
				a, err = parseAttr(r, sub)
				n.attrs = append(n.attrs, a)
			}
		}
		return err
	})
	return n, err
}

func parseAttr(parent *reader, b []byte) (a attrProto, err error) {
	err = parent.message(b, func(r *reader, f field) (err error) {
		switch f.num {
		case 1:
			a.name, err = f.str("attribute name")
		case 20:
			a.typ, err = f.int32("attribute type")
		case 2:
			a.f, err = f.float32("attribute f")
			a.hasF = true
		case 3:
			a.i, err = f.int64("attribute i")
			a.hasI = true
		case 4:
			a.s, err = f.bytes("attribute s")
			a.hasS = true
		case 5:
			var sub []byte
			if sub, err = f.bytes("attribute t"); err == nil {
				a.t, err = parseTensor(r, sub)
				a.hasT = true
			}
		case 7:
			a.floats, err = appendFloats(a.floats, f, "attribute floats")
		case 8:
			a.ints, err = appendVarints(a.ints, f, "attribute ints")
		case 9:
			var s []byte
			if s, err = f.bytes("attribute strings"); err == nil {
				a.strings = append(a.strings, s)
			}
		case 6, 10, 11, 14, 15, 22, 23:
			// graphs, tensors, type protos, sparse tensors: nothing the
			// supported ops take; remember them so the op can be refused.
			_, err = f.bytes("attribute")
			a.hasOther = true
		}
		return err
	})
	if err != nil {
		return a, err
	}
	if a.typ == attrUndefined {
		// Old writers leave type unset; infer it from the one field present.
		switch {
		case a.hasF:
			a.typ = attrFloat
		case a.hasI:
			a.typ = attrInt
		case a.hasS:
			a.typ = attrString
		case a.hasT:
			a.typ = attrTensor
		case len(a.floats) > 0:
			a.typ = attrFloats
		case len(a.ints) > 0:
			a.typ = attrInts
		case len(a.strings) > 0:
			a.typ = attrStrings
		}
	}
	return a, nil
}

func parseTensor(parent *reader, b []byte) (*tensorProto, error) {
	t := &tensorProto{}
	if err := parseTensorInto(parent, b, t); err != nil {
		return nil, err
	}
	return t, nil
}

func parseTensorInto(parent *reader, b []byte, t *tensorProto) error {
	return parent.message(b, func(_ *reader, f field) (err error) {
		switch f.num {
		case 1:
			t.dims, err = appendVarints(t.dims, f, "tensor dims")
		case 2:
			t.dataType, err = f.int32("tensor data_type")
		case 3:
			t.segment = true
		case 4:
			t.floatData, err = appendFloats(t.floatData, f, "float_data")
		case 5:
			t.int32Data, err = appendVarints(t.int32Data, f, "int32_data")
		case 6:
			t.strings++
		case 7:
			t.int64Data, err = appendVarints(t.int64Data, f, "int64_data")
		case 8:
			t.name, err = f.str("tensor name")
		case 9:
			t.raw, err = f.bytes("raw_data")
			t.hasRaw = true
		case 10:
			t.doubleData, err = appendDoubles(t.doubleData, f, "double_data")
		case 11:
			t.uint64Data, err = appendVarints(t.uint64Data, f, "uint64_data")
		case 13:
			t.external = true
		case 14:
			t.dataLocation, err = f.int32("data_location")
		}
		return err
	})
}

func parseValueInfo(parent *reader, b []byte) (v valueInfo, err error) {
	err = parent.message(b, func(r *reader, f field) (err error) {
		switch f.num {
		case 1:
			v.name, err = f.str("value name")
		case 2:
			var sub []byte
			if sub, err = f.bytes("value type"); err == nil {
				err = parseType(r, sub, &v)
			}
		}
		return err
	})
	return v, err
}

// parseType reads TypeProto; only tensor_type (field 1) matters, any other
// kind (sequence, map, optional) leaves isTensor false.
func parseType(parent *reader, b []byte, v *valueInfo) error {
	return parent.message(b, func(r *reader, f field) error {
		if f.num != 1 {
			return nil
		}
		sub, err := f.bytes("tensor_type")
		if err != nil {
			return err
		}
		v.isTensor = true
		return r.message(sub, func(r *reader, f field) (err error) {
			switch f.num {
			case 1:
				v.elemType, err = f.int32("elem_type")
			case 2:
				var sb []byte
				if sb, err = f.bytes("shape"); err == nil {
					v.hasShape = true
					v.dims, err = parseShape(r, sb)
				}
			}
			return err
		})
	})
}

func parseShape(parent *reader, b []byte) ([]int64, error) {
	dims := []int64{}
	err := parent.message(b, func(r *reader, f field) error {
		if f.num != 1 {
			return nil
		}
		sub, err := f.bytes("dim")
		if err != nil {
			return err
		}
		d := int64(-1)
		err = r.message(sub, func(_ *reader, f field) (err error) {
			switch f.num {
			case 1:
				d, err = f.int64("dim_value")
				if err == nil && d < 0 {
					err = fmt.Errorf("%w: negative dim_value %d", ErrMalformed, d)
				}
			case 2:
				_, err = f.bytes("dim_param")
				d = -1
			}
			return err
		})
		dims = append(dims, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dims, nil
}
