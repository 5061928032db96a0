package shape

// A MatMulFault says why two shapes do not multiply as numpy.matmul does.
type MatMulFault int

const (
	MatMulOK     MatMulFault = iota
	MatMulScalar             // an operand of rank 0
	MatMulInner              // the inner dimensions differ
	MatMulBatch              // the batch dimensions do not broadcast
)

// MatMul is the shape rule of numpy.matmul: a rank-1 a is promoted to a
// row and a rank-1 b to a column (ea, eb), their leading dimensions
// broadcast into batch, and out is batch followed by the rows of a and the
// columns of b that were not added by promotion. A negative dimension is
// unknown and matches any size.
func MatMul[T Int](a, b []T) (ea, eb, batch, out []T, fault MatMulFault) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, nil, nil, MatMulScalar
	}
	ea, eb = a, b
	if len(a) == 1 {
		ea = []T{1, a[0]}
	}
	if len(b) == 1 {
		eb = []T{b[0], 1}
	}
	if ka, kb := ea[len(ea)-1], eb[len(eb)-2]; ka >= 0 && kb >= 0 && ka != kb {
		return ea, eb, nil, nil, MatMulInner
	}
	batch, ok := Broadcast(ea[:len(ea)-2], eb[:len(eb)-2])
	if !ok {
		return ea, eb, nil, nil, MatMulBatch
	}
	out = batch[:len(batch):len(batch)]
	if len(a) != 1 {
		out = append(out, ea[len(ea)-2])
	}
	if len(b) != 1 {
		out = append(out, eb[len(eb)-1])
	}
	return ea, eb, batch, out, MatMulOK
}
