#!/usr/bin/env python3
"""Regenerate testdata/onnx-node: ONNX's own backend node tests for the ops
signet supports.

The cases come from the onnx package's generator (onnx.backend.test.cmd_tools
generate-data), written into a temporary directory; only cases whose ops are
in signet's op set and whose tensors are float32 are copied.

The generator predates numpy 1.24, which removed the np.float/np.int/np.bool/
np.object aliases some case definitions still use, so they are restored before
the generator is imported. Many cases draw random inputs without seeding; the
global numpy seed is fixed first so a rerun with the same onnx version writes
identical bytes.

Usage (from the repository root):
    python3 tools/testdata-gen/gen_onnx_node.py [-o testdata/onnx-node]
"""

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _builtin in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        setattr(np, _alias, _builtin)

# Imported after the aliases exist: case modules use them at import time.
import onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402
from onnx.backend.test import cmd_tools  # noqa: E402

# Case-name prefixes of the ops signet supports (model/ops.go).
PREFIXES = (
    "conv", "basic_conv", "maxpool", "averagepool", "globalaveragepool", "gemm",
    "matmul", "relu", "clip", "leakyrelu", "sigmoid", "hardsigmoid", "hardswish",
    "add", "sub", "mul", "div", "concat", "flatten", "reshape", "transpose",
    "split", "slice", "reduce_mean", "reduce_l2", "batchnorm", "lpnormalization",
    "identity", "dropout",
    # Pad, LayerNormalization, Softmax, ReduceMax/Min/Sum.
    "constant_pad", "edge_pad", "reflect_pad", "layer_normalization", "softmax",
    "reduce_max", "reduce_min", "reduce_sum",
)

# Element-wise math. These names are matched only when "_" or the end
# of the name follows ("exp" is not "expand", "log" not "logsoftmax", "neg"
# not "negative_log_likelihood_loss", "max" not "maxunpool").
WORDS = (
    "erf", "sqrt", "pow", "tanh", "neg", "abs", "reciprocal", "exp", "log",
    "max", "min", "prelu",
)

# Ops a copied case may contain (an _expanded case qualifies only if every node
# is one of these).
SUPPORTED_OPS = {
    "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "LeakyRelu",
    "Sigmoid", "HardSigmoid", "HardSwish", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Concat", "Flatten",
    "Reshape", "Transpose", "Split", "Slice", "ReduceMean", "ReduceL2",
    "LpNormalization", "Identity", "Dropout",
    "Pad", "LayerNormalization", "Softmax", "ReduceMax", "ReduceMin", "ReduceSum",
    "Constant",
    "Erf", "Sqrt", "Pow", "Tanh", "Neg", "Abs", "Reciprocal", "Exp", "Log",
    "Max", "Min", "PRelu",
}

# Cases that match a prefix and use supported ops but are left out on purpose.
EXCLUDED = {
    "test_averagepool_3d_default": "3-D pooling over NCDHW (signet is a 2-D CNN engine); 740 KB of data",
    "test_maxpool_3d_default": "3-D pooling over NCDHW (signet is a 2-D CNN engine); 740 KB of data",
}

# Cases whose tensors are int32 but whose op signet runs on float32 data:
# copied as <name>_float32 with every int32 tensor converted (the values are
# small integers, exact in float32), so the op itself is still tested.
FLOAT_VARIANTS = ("test_edge_pad", "test_reflect_pad")

# Data types a case may use: float32 tensors, plus the int64 constant operands
# (Reshape shape, Slice starts/ends/axes/steps, Split split) that the test binds
# as constants.
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def reason_to_skip(name, model):
    """Returns why a case is not copied, or None to copy it."""
    if name in EXCLUDED:
        return EXCLUDED[name]
    ops = {n.op_type for n in model.graph.node}
    other = sorted(ops - SUPPORTED_OPS)
    if other:
        return "uses ops outside signet's set: " + ", ".join(other)
    values = [(v, True) for v in model.graph.input] + [(v, False) for v in model.graph.output]
    for v, is_input in values:
        if not v.type.HasField("tensor_type"):
            return "value %r is not a tensor (sequence/optional type)" % v.name
        et = v.type.tensor_type.elem_type
        if et == FLOAT or (et == INT64 and is_input):
            continue
        return "value %r has dtype %s (signet computes in float32)" % (
            v.name, TensorProto.DataType.Name(et))
    return None


def copy_float_variant(src, dst):
    """Copies case directory src to dst with its int32 graph inputs, outputs
    and test tensors turned into float32."""
    from onnx import numpy_helper
    model = onnx.load(os.path.join(src, "model.onnx"))
    for v in list(model.graph.input) + list(model.graph.output):
        if v.type.tensor_type.elem_type == TensorProto.INT32:
            v.type.tensor_type.elem_type = FLOAT
    os.makedirs(dst)
    onnx.save(model, os.path.join(dst, "model.onnx"))
    for ds in sorted(os.listdir(src)):
        if not ds.startswith("test_data_set_"):
            continue
        os.makedirs(os.path.join(dst, ds))
        for pb in sorted(os.listdir(os.path.join(src, ds))):
            t = TensorProto()
            with open(os.path.join(src, ds, pb), "rb") as f:
                t.ParseFromString(f.read())
            if t.data_type == TensorProto.INT32:
                a = numpy_helper.to_array(t)
                t = numpy_helper.from_array(a.astype(np.float32), t.name)
            with open(os.path.join(dst, ds, pb), "wb") as f:
                f.write(t.SerializeToString())


def write_signet_cases(out):
    """Writes signet's own cases, in the suite's layout, for what ONNX 1.12
    has no node test of: the GELU PyTorch exports (x·0.5·(1+erf(x/√2)), which
    the converter makes one GELU), in PyTorch's association order after a
    Conv (fused into it) and with x·0.5 first and x·(1/√2) on its own.
    Expected outputs are GELU computed in float64 (for x < 0 as
    x·erfc(-x/√2)/2, without the cancellation of 1 + erf) and rounded: the
    fused kernel is held to the exact function, not to the float32 graph.
    Returns the names."""
    from onnx import helper, numpy_helper
    rng = np.random.RandomState(1)
    names = []

    def scalar(name, v):
        return numpy_helper.from_array(np.array(v, dtype=np.float32), name)

    def write(name, nodes, inits, inputs, feeds, y):
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info(n, FLOAT, a.shape) for n, a in zip(inputs, feeds)],
            [helper.make_tensor_value_info("y", FLOAT, y.shape)], inits)
        model = helper.make_model(graph, producer_name="signet gen_onnx_node.py",
                                  opset_imports=[helper.make_opsetid("", 13)])
        d = os.path.join(out, name)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(model, os.path.join(d, "model.onnx"))
        for i, (n, a) in enumerate(zip(inputs, feeds)):
            with open(os.path.join(d, "test_data_set_0", "input_%d.pb" % i), "wb") as f:
                f.write(numpy_helper.from_array(a, n).SerializeToString())
        with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(y.astype(np.float32), "y").SerializeToString())
        names.append(name)

    erfc = np.vectorize(math.erfc)

    def gelu(v):
        v = v.astype(np.float64)
        return 0.5 * v * erfc(-v / math.sqrt(2))

    x = (rng.randn(1, 3, 4, 4) * 2).astype(np.float32)
    consts = [scalar("sqrt2", math.sqrt(2)), scalar("one", 1), scalar("half", 0.5)]
    # PyTorch's order: Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5).
    write("test_signet_gelu", [
        helper.make_node("Div", ["x", "sqrt2"], ["d"]),
        helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["e", "one"], ["a"]),
        helper.make_node("Mul", ["x", "a"], ["m"]),
        helper.make_node("Mul", ["m", "half"], ["y"]),
    ], consts, ["x"], [x], gelu(x))
    # x·0.5 first, x·(1/√2) for the division.
    write("test_signet_gelu_half_first", [
        helper.make_node("Mul", ["rsqrt2", "x"], ["d"]),
        helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["one", "e"], ["a"]),
        helper.make_node("Mul", ["x", "half"], ["h"]),
        helper.make_node("Mul", ["a", "h"], ["y"]),
    ], consts[1:] + [scalar("rsqrt2", 1 / math.sqrt(2))], ["x"], [x], gelu(x))
    # After a Conv (with bias), where it becomes the Conv's activation.
    w = (rng.randn(2, 3, 3, 3) * 0.3).astype(np.float32)
    b = rng.randn(2).astype(np.float32)
    c = np.zeros((1, 2, 2, 2))
    for o in range(2):
        for i in range(2):
            for j in range(2):
                c[0, o, i, j] = (x[0, :, i:i + 3, j:j + 3].astype(np.float64) * w[o]).sum() + b[o]
    write("test_signet_gelu_after_conv", [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3]),
        helper.make_node("Div", ["c", "sqrt2"], ["d"]),
        helper.make_node("Erf", ["d"], ["e"]),
        helper.make_node("Add", ["e", "one"], ["a"]),
        helper.make_node("Mul", ["c", "a"], ["m"]),
        helper.make_node("Mul", ["m", "half"], ["y"]),
    ], consts + [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")], ["x"], [x], gelu(c))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default=os.path.join("testdata", "onnx-node"))
    args = ap.parse_args()

    np.random.seed(0)
    pat = re.compile(r"^test_(%s|(%s)(_|$))" % ("|".join(re.escape(p) for p in PREFIXES),
                                                 "|".join(re.escape(w) for w in WORDS)))
    tmp = tempfile.mkdtemp(prefix="onnx-node-")
    try:
        cmd_tools.generate_data(argparse.Namespace(output=tmp, op_type=None))
        src = os.path.join(tmp, "node")
        if os.path.isdir(args.output):
            shutil.rmtree(args.output)
        os.makedirs(args.output)
        copied, skipped = [], []
        for name in sorted(os.listdir(src)):
            if not pat.match(name):
                continue
            model = onnx.load(os.path.join(src, name, "model.onnx"))
            if name in FLOAT_VARIANTS:
                copy_float_variant(os.path.join(src, name), os.path.join(args.output, name + "_float32"))
                copied.append(name + "_float32")
            why = reason_to_skip(name, model)
            if why and name in FLOAT_VARIANTS:
                why += "; copied as %s_float32 with its int32 tensors in float32" % name
            if why:
                skipped.append((name, why))
                continue
            shutil.copytree(os.path.join(src, name), os.path.join(args.output, name))
            copied.append(name)
    finally:
        shutil.rmtree(tmp)
    copied += write_signet_cases(args.output)

    with open(os.path.join(args.output, "EXCLUDED.txt"), "w") as f:
        f.write("# Cases matching signet's op prefixes that were not copied, with the reason.\n")
        f.write("# Generated by tools/testdata-gen/gen_onnx_node.py from onnx %s.\n" % onnx.__version__)
        for name, why in skipped:
            f.write("%s\t%s\n" % (name, why))
    print("onnx %s: copied %d cases, excluded %d" % (onnx.__version__, len(copied), len(skipped)), file=sys.stderr)


if __name__ == "__main__":
    main()
