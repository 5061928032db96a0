#!/usr/bin/env python3
"""Export torchvision architectures to ONNX with reference inputs and outputs.

Every network is built from torchvision's own classes (no architecture is
designed here), randomly initialised with a fixed seed, and put in eval mode.
BatchNorm running statistics and affine parameters are then set to random
values: freshly initialised BN layers are the identity (mean 0, var 1,
weight 1, bias 0), which would let a converter that folds BN wrongly pass.

For each network the script writes, under OUT/<name>/:
    model.onnx                 the exported graph
    input_<i>.npy              three fixed inputs, float32 NCHW, batch 1
    output_<i>.npy             PyTorch's output for input_<i> (float32)

Default: small variants (reduced width, 64x64 or 96x96 inputs) for
testdata/torchvision, which is committed. With --full: the full-size
ImageNet networks at 224x224 (random weights: nothing can be downloaded)
for testdata/torchvision-full, which is not committed.

Usage (from the repository root):
    python3 tools/testdata-gen/export_torchvision.py            # -> testdata/torchvision
    python3 tools/testdata-gen/export_torchvision.py --full     # -> testdata/torchvision-full
"""

import argparse
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import convnext, densenet, efficientnet, mobilenetv2, mobilenetv3, resnet, shufflenetv2, squeezenet, vgg

NUM_INPUTS = 3


def small_resnet(widths, layers, num_classes):
    """torchvision's ResNet with BasicBlock, narrowed to the given stage widths.

    ResNet's constructor hard-codes the 64/128/256/512 widths, so the stem and
    stages are rebuilt with the class's own _make_layer; forward is unchanged.
    """
    m = resnet.ResNet(resnet.BasicBlock, layers, num_classes=num_classes)
    m.inplanes = widths[0]
    m.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(widths[0])
    m.layer1 = m._make_layer(resnet.BasicBlock, widths[0], layers[0])
    m.layer2 = m._make_layer(resnet.BasicBlock, widths[1], layers[1], stride=2)
    m.layer3 = m._make_layer(resnet.BasicBlock, widths[2], layers[2], stride=2)
    m.layer4 = m._make_layer(resnet.BasicBlock, widths[3], layers[3], stride=2)
    m.fc = nn.Linear(widths[3], num_classes)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    return m


def small_efficientnet_b0(width_mult, num_classes):
    setting, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=width_mult, depth_mult=1.0)
    return efficientnet.EfficientNet(setting, dropout=0.2, last_channel=last_channel, num_classes=num_classes)


class VGGEncoder(nn.Module):
    """VGG-style embedding network: torchvision's VGG feature stack (3x3
    conv + BN + ReLU, 2x2 max-pool), global average pool, a linear projection
    and an L2-normalised output (F.normalize, as metric-learning heads do)."""

    def __init__(self, cfg, dim):
        super().__init__()
        self.features = vgg.make_layers(cfg, batch_norm=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        last = [c for c in cfg if c != "M"][-1]
        self.proj = nn.Linear(last, dim)

    def forward(self, x):
        x = self.pool(self.features(x))
        x = self.proj(torch.flatten(x, 1))
        return F.normalize(x, p=2.0, dim=1)


# (name, builder, input size, opset, dynamic batch, keep BN). The opsets are
# spread over 13..17 so the converter sees each generation of the ops involved
# (e.g. HardSwish exists from opset 14). PyTorch's exporter folds BatchNorm
# into the preceding Conv in eval mode; "keep BN" exports with
# TrainingMode.PRESERVE instead (the model is still in eval mode, so the
# graph computes the same thing) so the BatchNormalization nodes reach the
# converter, as they do from exporters that do not fold.
SMALL = [
    ("resnet_basic", lambda: small_resnet([16, 32, 64, 128], [2, 2, 2, 2], 100), 96, 13, False, True),
    ("mobilenet_v2", lambda: mobilenetv2.MobileNetV2(width_mult=0.35, num_classes=10), 96, 13, True, False),
    ("mobilenet_v3_small", lambda: mobilenetv3.mobilenet_v3_small(width_mult=0.5, num_classes=100), 96, 14, False, False),
    ("efficientnet_b0", lambda: small_efficientnet_b0(0.35, 100), 96, 15, False, True),
    ("squeezenet1_1", lambda: squeezenet.SqueezeNet(version="1_1", num_classes=10), 96, 13, False, False),
    ("shufflenet_v2", lambda: shufflenetv2.ShuffleNetV2([4, 8, 4], [16, 32, 64, 128, 256], num_classes=100), 96, 16, False, False),
    ("vgg_l2", lambda: VGGEncoder([32, 32, "M", 64, 64, "M", 128, 128, "M", 256, 256, "M"], 128), 64, 17, False, True),
    # The Pad before DenseNet's transition pools, and ConvNeXt's
    # LayerNorm (the LayerNormalization op at opset 17; the full-size one
    # below exports the ReduceMean/Pow/Sqrt pattern) and GELU.
    ("densenet_small", lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16,
                                                 num_classes=10), 64, 13, False, False),
    ("convnext_small", lambda: randomise_layer_norms(convnext.ConvNeXt(
        [convnext.CNBlockConfig(16, 32, 1), convnext.CNBlockConfig(32, 64, 1), convnext.CNBlockConfig(64, 128, 2),
         convnext.CNBlockConfig(128, None, 1)], num_classes=10)), 64, 17, False, False),
]

FULL = [
    ("resnet18", lambda: torchvision.models.resnet18(), 224, 13, False, True),
    ("resnet50", lambda: torchvision.models.resnet50(), 224, 13, False, False),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(), 224, 13, False, False),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(), 224, 14, False, False),
    ("efficientnet_b0", lambda: torchvision.models.efficientnet_b0(), 224, 15, False, False),
    ("squeezenet1_1", lambda: torchvision.models.squeezenet1_1(), 224, 13, False, False),
    ("shufflenet_v2_x1_0", lambda: torchvision.models.shufflenet_v2_x1_0(), 224, 16, False, False),
    # DenseNet121 has a Pad before every transition's AveragePool
    # (torch.onnx adds one for count_include_pad); ConvNeXt-Tiny's
    # LayerNorms export as ReduceMean/Sub/Pow/Sqrt/Div before opset 17 and
    # its GELUs as Erf.
    ("densenet121", lambda: torchvision.models.densenet121(), 224, 13, False, False),
    ("convnext_tiny", lambda: randomise_layer_norms(torchvision.models.convnext_tiny()), 224, 16, False, False),
]


def randomise_layer_norms(model):
    """Gives ConvNeXt's LayerNorms random affine parameters, its Conv and
    Linear layers random biases (initialised to zero) and its blocks' layer
    scales values far from their 1e-6 initialisation, which would make every
    residual branch vanish and hide errors in it. Draws from torch's
    global generator, which export() seeds before building the model."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape) * 0.2)
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape) * 0.05)
            if hasattr(m, "layer_scale"):
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape) * 0.4 + 0.1)
    return model


def randomise_batchnorm(model, gen, calib):
    """Gives every BatchNorm random, non-trivial parameters and statistics.

    Purely random statistics drive a deep random network into a state where
    the output no longer depends on the input, or grows so large that float32
    rounding alone changes it by more than the tests' tolerance. So the
    affine weights and biases are drawn at random, the running statistics
    are then measured on a calibration batch (each BN roughly normalises what
    it really sees), and finally perturbed a little (means shifted, variances
    scaled) so they are not exactly what the calibration data implies.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        c = m.num_features
        with torch.no_grad():
            m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
    # Only the BN layers run in training mode, so dropout and stochastic
    # depth behave as at inference while the statistics are measured.
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batch
        m.train()
    with torch.no_grad():
        model(calib)
    model.eval()
    for m in bns:
        c = m.num_features
        with torch.no_grad():
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn(c, generator=gen) * 0.1 * std)
            m.running_var.mul_(torch.exp(torch.randn(c, generator=gen) * 0.2))


def make_inputs(rng, n, size):
    """Random images with low-frequency structure and per-channel offsets, so
    that global statistics (what a CNN's pooled features see) differ from one
    input to the next; white noise alone averages out to the same features."""
    out = []
    for _ in range(n):
        coarse = torch.from_numpy(rng.standard_normal((1, 3, 6, 6), dtype=np.float32))
        smooth = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
        noise = torch.from_numpy(rng.standard_normal((1, 3, size, size), dtype=np.float32))
        offset = torch.from_numpy(rng.standard_normal((1, 3, 1, 1), dtype=np.float32))
        out.append((smooth + 0.5 * noise + 0.5 * offset).numpy().astype(np.float32))
    return out


def export(name, build, size, opset, dynamic, keep_bn, out_dir, seed):
    torch.manual_seed(seed)
    model = build()
    gen = torch.Generator().manual_seed(seed + 1)
    rng = np.random.default_rng(seed + 2)
    calib = torch.from_numpy(np.concatenate(make_inputs(rng, 8, size)))
    randomise_batchnorm(model, gen, calib)
    inputs = make_inputs(rng, NUM_INPUTS, size)

    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    dynamic_axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(inputs[0]), os.path.join(d, "model.onnx"),
                          opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes=dynamic_axes,
                          training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL)
        for i, x in enumerate(inputs):
            y = model(torch.from_numpy(x))
            outs = y if isinstance(y, (tuple, list)) else (y,)
            np.save(os.path.join(d, "input_%d.npy" % i), x)
            for j, o in enumerate(outs):
                np.save(os.path.join(d, "output_%d_%d.npy" % (i, j) if len(outs) > 1 else "output_%d.npy" % i),
                        np.ascontiguousarray(o.numpy().astype(np.float32)))
    params = sum(p.numel() for p in model.parameters())
    mb = os.path.getsize(os.path.join(d, "model.onnx")) / 1e6
    print("%-20s %3dx%-3d opset %d  %8d params  model.onnx %.2f MB" % (name, size, size, opset, params, mb), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="export the full-size 224x224 networks")
    ap.add_argument("-o", "--output", help="output directory (default testdata/torchvision or testdata/torchvision-full)")
    ap.add_argument("--only", help="comma-separated names to export")
    args = ap.parse_args()

    # One thread: PyTorch's reductions are then evaluated in a fixed order and
    # the reference outputs are reproducible bit for bit.
    torch.set_num_threads(1)
    table = FULL if args.full else SMALL
    out = args.output or os.path.join("testdata", "torchvision-full" if args.full else "torchvision")
    only = set(args.only.split(",")) if args.only else None
    for k, (name, build, size, opset, dynamic, keep_bn) in enumerate(table):
        if only and name not in only:
            continue
        export(name, build, size, opset, dynamic, keep_bn, out, seed=1000 + k)


if __name__ == "__main__":
    main()
