#!/usr/bin/python3
"""Writes a float32 ONNX model in QDQ form with given activation ranges.

    /usr/bin/python3 tools/bench/qdq_onnx.py IN.onnx RANGES.json OUT.onnx

RANGES.json maps tensor names of IN.onnx to [scale, zero point] (int8, per
tensor), as `tools/bench -int8 -int8-ranges DIR` writes them from signet's
quantiser. The output has the layout of ONNX Runtime's own static QDQ
quantiser in its U8S8 form (uint8 activations, int8 weights: the form ONNX
Runtime's CPU execution provider fuses throughout on x86; with int8
activations it left half the sign encoder's convolutions as float Conv
between Q and DQ). Every tensor with a range is read through
QuantizeLinear -> DequantizeLinear as uint8, its zero point moved by 128
(the same values), and every Conv (not grouped) and Gemm whose input and
output both have ranges (the output after a BatchNormalization folded into
the layer, and after a Relu or Clip, which is dropped when the range starts
at 0, as the quantiser does) gets int8 weights, symmetric per output
channel (scale max|w|/127, round half to even), and an int32 bias with
scale input scale x weight scale, each behind a DequantizeLinear. signet
converts uint8 exactly to int8, so both engines run the same quantised
values on their int8 kernels. Needs Debian's python3-onnx.
"""

import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def main(src, ranges_path, dst):
    m = onnx.load(src)
    with open(ranges_path) as f:
        ranges = json.load(f)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    fold_batchnorm(g, inits)
    consumers = {}
    for n in g.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)

    def chain_end(n):
        """The output of n, or of the Relu or Clip that alone reads it."""
        y = n.output[0]
        c = consumers.get(y, [])
        if len(c) == 1 and c[0].op_type in ("Relu", "Clip"):
            return c[0].output[0]
        return y

    added_inits, added_nodes = [], []
    quantised = 0
    for n in list(g.node):
        if n.op_type not in ("Conv", "Gemm") or len(n.input) < 2 or n.input[1] not in inits:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Conv" and attrs.get("group", 1) != 1:
            continue
        x, end = n.input[0], chain_end(n)
        if x not in ranges or end not in ranges:
            continue
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        axis = 1 if n.op_type == "Gemm" and not attrs.get("transB", 0) else 0
        amax = np.abs(w).max(axis=tuple(i for i in range(w.ndim) if i != axis))
        ws = np.where(amax > 0, amax / 127, 1).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        wq = np.clip(np.round(w / ws.reshape(shape)), -127, 127).astype(np.int8)
        name = n.output[0]
        added_inits += const(name + "_w", wq, ws, np.int8)
        added_nodes.append(dequantize(name + "_w", axis))
        n.input[1] = name + "_w_dq"
        if len(n.input) > 2 and n.input[2] in inits:
            b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float64)
            bs = (np.float32(ranges[x][0]) * ws).astype(np.float32)
            added_inits += const(name + "_b", np.round(b / bs.astype(np.float64)).astype(np.int32), bs, np.int32)
            added_nodes.append(dequantize(name + "_b", 0))
            n.input[2] = name + "_b_dq"
        if end != name and ranges[end][1] == -128:
            g.node.remove(consumers[name][0])
            n.output[0] = end
        quantised += 1

    # Activations: every consumer of a tensor with a range reads it
    # through QuantizeLinear -> DequantizeLinear.
    qdq = {}
    for t, (scale, zero) in ranges.items():
        added_inits += [
            numpy_helper.from_array(np.array(scale, np.float32), t + "_scale"),
            numpy_helper.from_array(np.array(zero + 128, np.uint8), t + "_zero"),
        ]
        added_nodes += [
            helper.make_node("QuantizeLinear", [t, t + "_scale", t + "_zero"], [t + "_q"], name=t + "_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [t + "_q", t + "_scale", t + "_zero"], [t + "_dq"], name=t + "_DequantizeLinear"),
        ]
        qdq[t] = t + "_dq"
    for n in g.node:
        for i, x in enumerate(n.input):
            if x in qdq:
                n.input[i] = qdq[x]
    g.initializer.extend(added_inits)
    used = {x for n in g.node for x in n.input} | {x for n in added_nodes for x in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node) + added_nodes
    del g.node[:]
    g.node.extend(topological(nodes, {v.name for v in g.input} | {t.name for t in g.initializer}))
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print("%s: %d of %d Conv/Gemm layers int8, %d activations quantised" % (dst, quantised, sum(n.op_type in ("Conv", "Gemm") for n in g.node), len(ranges)))


def const(base, q, scale, dtype):
    """The initializers of a quantised constant: values, scale, zero point."""
    return [
        numpy_helper.from_array(q, base + "_q"),
        numpy_helper.from_array(scale, base + "_scale"),
        numpy_helper.from_array(np.zeros(scale.shape, dtype), base + "_zero"),
    ]


def dequantize(base, axis):
    return helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zero"], [base + "_dq"], name=base + "_DequantizeLinear", axis=axis)


def fold_batchnorm(g, inits):
    """Folds each BatchNormalization that alone reads a Conv's output into it."""
    readers = {}
    for n in g.node:
        for x in n.input:
            readers[x] = readers.get(x, 0) + 1
    producer = {n.output[0]: n for n in g.node if n.output}
    for bn in [n for n in g.node if n.op_type == "BatchNormalization"]:
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or readers[bn.input[0]] != 1 or conv.input[1] not in inits:
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (numpy_helper.to_array(inits[x]).astype(np.float64) for x in bn.input[1:5])
        k = gamma / np.sqrt(var + eps)
        w = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
        b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0])
        folded = [
            numpy_helper.from_array((w * k.reshape(-1, 1, 1, 1)).astype(np.float32), conv.output[0] + "_w_folded"),
            numpy_helper.from_array((beta + (b - mean) * k).astype(np.float32), conv.output[0] + "_b_folded"),
        ]
        for t in folded:
            g.initializer.append(t)
            inits[t.name] = t
        del conv.input[1:]
        conv.input.extend(t.name for t in folded)
        conv.output[0] = bn.output[0]
        g.node.remove(bn)


def topological(nodes, have):
    out, pending = [], list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(x == "" or x in have for x in n.input):
                out.append(n)
                have.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise SystemExit("qdq_onnx: graph has a cycle or an undefined input: %s" % rest[0].name)
        pending = rest
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
