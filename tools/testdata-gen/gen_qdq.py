#!/usr/bin/python3
"""Writes small QDQ-quantised CNNs to testdata/qdq/ with their expected outputs.

Each case is a folder with model.onnx (built with onnx.helper, opset 13),
input_0.pb and output_0.pb (TensorProtos) and quantum.txt (the output's
quantisation step, the bound engine/qdq_onnx_test.go holds signet to).
The expected output is computed here in float64 numpy with ONNX's QDQ
semantics (QuantizeLinear: saturate(round_half_even(x / scale) + zero point),
DequantizeLinear: (x - zero point) * scale): ONNX Runtime could not be
installed where the data was made (onnxruntime-node's install script
downloads its binaries).

Run from the repository root with the system interpreter:

    /usr/bin/python3 tools/testdata-gen/gen_qdq.py
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "testdata/qdq"


class Builder:
    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0
        self.env = {}  # value name -> numpy value (float64, or integer arrays)

    def fresh(self, p):
        self.n += 1
        return "%s_%d" % (p, self.n)

    def const(self, arr, p):
        name = self.fresh(p)
        self.inits.append(numpy_helper.from_array(arr, name))
        self.env[name] = arr
        return name

    def node(self, op, ins, value, **attrs):
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], name=self.fresh(op), **attrs))
        self.env[out] = value
        return out

    # QDQ pieces, computing as they go.
    def q(self, x, scale, zp, dtype):
        s = self.const(np.array(scale, np.float32), "scale")
        z = self.const(np.array(zp, dtype), "zp")
        info = np.iinfo(dtype)
        v = np.clip(np.round(self.env[x] / np.float64(np.float32(scale))) + zp, info.min, info.max).astype(dtype)
        return self.node("QuantizeLinear", [x, s, z], v)

    def dq(self, x, scale, zp, axis=None):
        scale = np.asarray(scale, np.float32)
        dtype = self.env[x].dtype
        s = self.const(scale, "scale")
        ins = [x, s]
        if zp is not None:
            ins.append(self.const(np.asarray(zp, dtype), "zp"))
        zpv = np.zeros(scale.shape, np.int64) if zp is None else np.asarray(zp, np.int64)
        xv = self.env[x].astype(np.int64)
        if scale.ndim == 1 and scale.size > 1:
            shp = [1] * xv.ndim
            shp[axis] = scale.size
            v = (xv - zpv.reshape(shp)) * scale.astype(np.float64).reshape(shp)
            return self.node("DequantizeLinear", ins, v, axis=axis)
        return self.node("DequantizeLinear", ins, (xv - zpv) * np.float64(scale))

    def weights(self, shape, axis, per_channel=True, dtype=np.int8):
        """Random int8 (or uint8, zero point 128) weights and their scales."""
        fan = int(np.prod(shape)) // shape[axis]
        w = self.rng.integers(-127, 128, size=shape)
        n = shape[axis] if per_channel else 1
        scale = (self.rng.uniform(0.5, 1.5, n) / (127 * np.sqrt(fan))).astype(np.float32)
        if dtype == np.uint8:
            c = self.const((w + 128).astype(np.uint8), "w")
            if per_channel:
                return self.dq(c, scale, np.full(n, 128, np.uint8), axis), scale
            return self.dq(c, scale[0], np.uint8(128), axis), scale
        c = self.const(w.astype(np.int8), "w")
        return self.dq(c, scale if per_channel else scale[0], None, axis), scale

    def bias(self, n, xs, ws):
        b = self.rng.integers(-2000, 2000, size=n).astype(np.int32)
        c = self.const(b, "b")
        s = (np.float32(xs) * ws.astype(np.float32)).astype(np.float32)
        if s.size == 1:
            s = np.full(n, s[0], np.float32)
        return self.dq(c, s, None, 0)

    def conv(self, x, w, b, pads, strides):
        xv, wv, bv = self.env[x], self.env[w], self.env[b]
        N, C, H, W = xv.shape
        K, _, kh, kw = wv.shape
        xp = np.pad(xv, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        OH = (H + pads[0] + pads[2] - kh) // strides[0] + 1
        OW = (W + pads[1] + pads[3] - kw) // strides[1] + 1
        y = np.zeros((N, K, OH, OW))
        for i in range(OH):
            for j in range(OW):
                patch = xp[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
                y[:, :, i, j] = np.einsum("nchw,kchw->nk", patch, wv)
        y += bv.reshape(1, K, 1, 1)
        return self.node("Conv", [x, w, b], y, kernel_shape=[kh, kw], pads=list(pads), strides=list(strides))

    def relu(self, x):
        return self.node("Relu", [x], np.maximum(self.env[x], 0))

    def model(self, shape, x_in, out):
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
        outp = helper.make_tensor_value_info(out, TensorProto.FLOAT, list(self.env[out].shape))
        g = helper.make_graph(self.nodes, self.name, [inp], [outp], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="signet gen_qdq.py")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def cnn(name, seed, act):
    """conv-relu-conv-gap-gemm with activations of type act (int8 or uint8)."""
    b = Builder(name, seed)
    x = b.rng.uniform(-1, 1, (1, 3, 10, 10)).astype(np.float32)
    b.env["input"] = x.astype(np.float64)
    z0 = -128 if act == np.int8 else 0
    zmid = 0 if act == np.int8 else 128
    xs = np.float32(1 / 127)
    q = b.q("input", xs, zmid, act)
    w, ws = b.weights((8, 3, 3, 3), 0)
    y = b.relu(b.conv(b.dq(q, xs, act(zmid)), w, b.bias(8, xs, ws), (1, 1, 1, 1), (1, 1)))
    s1 = np.float32(0.02)
    q = b.q(y, s1, z0, act)
    w, ws = b.weights((12, 8, 3, 3), 0, dtype=np.uint8 if act == np.uint8 else np.int8)
    y = b.relu(b.conv(b.dq(q, s1, act(z0)), w, b.bias(12, s1, ws), (1, 1, 1, 1), (2, 2)))
    s2 = np.float32(0.02)
    q = b.q(y, s2, z0, act)
    w, ws = b.weights((16, 12, 1, 1), 0, per_channel=False)
    y = b.conv(b.dq(q, s2, act(z0)), w, b.bias(16, s2, ws), (0, 0, 0, 0), (1, 1))
    s3 = np.float32(0.03)
    q = b.q(y, s3, zmid, act)
    d = b.dq(q, s3, act(zmid))
    gap = b.node("GlobalAveragePool", [d], b.env[d].mean(axis=(2, 3), keepdims=True))
    f = b.node("Flatten", [gap], b.env[gap].reshape(1, -1), axis=1)
    s4 = np.float32(0.01)
    q = b.q(f, s4, zmid, act)
    w, ws = b.weights((32, 16), 0)
    wv = b.env[w]
    y = b.node("Gemm", [b.dq(q, s4, act(zmid)), w, b.bias(32, s4, ws)], None, transB=1)
    b.env[y] = b.env[b.nodes[-1].input[0]] @ wv.T + b.env[b.nodes[-1].input[2]]
    s5 = np.float32(0.005)
    q = b.q(y, s5, zmid, act)
    out = b.dq(q, s5, act(zmid))
    return b.model([1, 3, 10, 10], x, out), x, b.env[out].astype(np.float32), s5


def matmul(name, seed):
    """Q -> DQ -> MatMul (per-column int8 weights) -> Q -> DQ, rank-3 input."""
    b = Builder(name, seed)
    x = b.rng.uniform(-1, 1, (2, 4, 20)).astype(np.float32)
    b.env["input"] = x.astype(np.float64)
    xs = np.float32(1 / 127)
    q = b.q("input", xs, 3, np.int8)
    w, ws = b.weights((20, 6), 1)
    d = b.dq(q, xs, np.int8(3))
    y = b.node("MatMul", [d, w], b.env[d] @ b.env[w])
    s = np.float32(0.01)
    out = b.dq(b.q(y, s, -5, np.int8), s, np.int8(-5))
    return b.model([2, 4, 20], x, out), x, b.env[out].astype(np.float32), s


def main():
    for name, (m, x, want, quantum) in {
        "cnn_int8": cnn("cnn_int8", 1, np.int8),
        "cnn_uint8": cnn("cnn_uint8", 2, np.uint8),
        "matmul_int8": matmul("matmul_int8", 3),
    }.items():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(m, os.path.join(d, "model.onnx"))
        for f, arr in (("input_0.pb", x), ("output_0.pb", want)):
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(numpy_helper.from_array(arr, f[:-3]).SerializeToString())
        with open(os.path.join(d, "quantum.txt"), "w") as fh:
            fh.write("%r\n" % float(quantum))
        print(name, want.shape, "expected from", "numpy float64")


if __name__ == "__main__":
    main()
