"""Exports a train.py checkpoint to ONNX (static 1x3x48x48 input "input", output "embedding").

    python3 tools/train/export.py --ckpt tools/train/cache/final.pt --out testdata/models/signs.onnx

Checks the exported graph with onnx.checker and its op types against the set
the signet converter accepts.  There is no onnxruntime here, so numerical
agreement with PyTorch is checked by the Go tests through the engine.
"""

import argparse
import os

import onnx
import torch

import train

ALLOWED = {"Conv", "BatchNormalization", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm",
           "ReduceL2", "Clip", "Expand", "Div", "Shape", "Constant", "Identity"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=13)
    a = ap.parse_args()
    ck = torch.load(a.ckpt, map_location="cpu")
    model = train.Encoder(tuple(ck.get("widths", (24, 32, 64, 128))))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    size = ck["size"]
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, x, a.out, opset_version=a.opset, input_names=["input"], output_names=["embedding"],
                      do_constant_folding=True, export_params=True)
    m = onnx.load(a.out)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = [o for o in ops if o not in ALLOWED]
    print("ops:", ", ".join(ops))
    if bad:
        raise SystemExit("unexpected ops in export: %s" % bad)
    print("wrote %s (%d bytes), input %s, output %s" % (a.out, os.path.getsize(a.out),
          [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim],
          [d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim]))


if __name__ == "__main__":
    main()
