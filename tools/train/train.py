"""Trains signet's reference sign encoder (48x48 RGB -> 128-d unit vector) on CPU.

Two metric-learning objectives are available and were compared on the
model-selection classes (never trained on, never in the benchmark):
  cosface  normalised-softmax head with an additive cosine margin
  supcon   supervised contrastive loss over class-balanced P x K batches
The checkpoint keeps the encoder weights, the preprocessing and the
selection-set few-shot accuracies.  export.py turns it into ONNX.

    python3 tools/train/render_cache.py           # once: training cache
    python3 tools/train/train.py --objective cosface --epochs 12 --out cache/cosface.pt
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import fewshot
from render_cache import cache_name

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 48
EMB = 128
# Per-channel normalisation, RGB order, applied to pixel/255.  Measured on the
# training cache (render_cache.py defaults), rounded; the converter is given
# the same numbers so the Go engine preprocesses identically.
MEAN = (0.452, 0.471, 0.424)
STD = (0.285, 0.263, 0.281)


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Block(nn.Module):
    """Basic residual block: two 3x3 convs, identity skip (same shape)."""

    def __init__(self, c):
        super().__init__()
        self.c1 = conv_bn(c, c)
        self.c2 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.c2(self.c1(x)))


class Encoder(nn.Module):
    """Small ResNet-style encoder. Only Conv/BN/ReLU/Add/GlobalAveragePool/Flatten/Gemm
    and the final L2 normalisation, which the engine runs natively."""

    def __init__(self, widths=(24, 32, 64, 128), emb=EMB):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.features = nn.Sequential(
            conv_bn(3, w0, 2), conv_bn(w0, w1),          # 24x24
            conv_bn(w1, w2, 2), Block(w2),               # 12x12
            conv_bn(w2, w3, 2), Block(w3),               # 6x6
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w3, emb)

    def forward(self, x):
        x = self.pool(self.features(x)).flatten(1)
        return F.normalize(self.fc(x), dim=1)


def count_flops(model, size=SIZE):
    """Multiply-adds x2 of every Conv and Linear for one image."""
    macs = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
            macs.append(out.numel() * k)
        elif isinstance(m, nn.Linear):
            macs.append(m.in_features * m.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    model.train(was)
    for h in hs:
        h.remove()
    return 2 * sum(macs)


class CosFace(nn.Module):
    def __init__(self, n_classes, emb=EMB, s=24.0, m=0.25):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_classes, emb) * 0.01)
        self.s, self.m = s, m

    def forward(self, z, y):
        cos = z @ F.normalize(self.w, dim=1).t()
        logits = self.s * (cos - self.m * F.one_hot(y, cos.shape[1]))
        return F.cross_entropy(logits, y)


def supcon_loss(z, y, tau=0.1):
    sim = z @ z.t() / tau
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    pos = (y[:, None] == y[None, :]) & ~eye
    logp = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    return -(logp * pos).sum(1).div(pos.sum(1).clamp(min=1)).mean()


def to_input(xb_uint8):
    x = xb_uint8.permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x, g, size=SIZE):
    """Cheap batched extras on top of the rendered capture model: shift by up to
    4 px (reflect padding), brightness/contrast jitter, occasional cutout.
    Never a flip or a rotation: a mirrored or rotated design is another class."""
    n = x.shape[0]
    p = 4 * size // SIZE
    xp = F.pad(x, (p, p, p, p), mode="reflect")
    dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = xp[i, :, dy[i]:dy[i] + size, dx[i]:dx[i] + size]
    c = 1 + 0.2 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 2
    b = 0.3 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 2
    out = out * c + b
    cut = torch.rand(n, generator=g) < 0.15
    for i in torch.nonzero(cut).flatten().tolist():
        s = int(torch.randint(8, 18, (1,), generator=g)) * size // SIZE
        y0, x0 = torch.randint(0, size - s, (2,), generator=g).tolist()
        out[i, :, y0:y0 + s, x0:x0 + s] = torch.randn(3, 1, 1, generator=g) * 0.8
    return out


def embed(model, x_uint8, bs=512):
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x_uint8), bs):
            outs.append(model(to_input(torch.from_numpy(x_uint8[i:i + bs]))))
    model.train()
    return torch.cat(outs).numpy()


def select_metrics(model, sx, sy, episodes=600, seed=7, pairs=None):
    e = embed(model, sx)
    a1, _ = fewshot.episodes(e, sy, 5, 1, episodes, seed)
    a5, _ = fewshot.episodes(e, sy, 5, 5, episodes, seed)
    w5, _ = fewshot.episodes(e, sy, None, 5, 100, seed)
    au = fewshot.open_set(e, sy, 5, 50, seed)
    m = {"5way1shot": a1, "5way5shot": a5, "allway5shot": w5, "openset_auroc5": au,
         "open3_reject_at90": fewshot.open_set_reject(e, sy, 3, 50, seed)}
    if pairs is not None and len(pairs):
        m["pairs5x2_5shot"], _ = fewshot.pair_episodes(e, sy, pairs, 5, 5, episodes, seed)
    return m


def select_pairs(generator, split_path):
    """Mirrored pairs of the selection split as label-index pairs (v2 only)."""
    if generator != "v2":
        return None
    doc = json.load(open(split_path))
    idx = {n: i for i, n in enumerate(doc["select"])}
    return np.array([[idx[a], idx[b]] for a, b in doc["pairs"]["select"]], np.int64).reshape(-1, 2)


def batches_pk(y, P, K, rng):
    """Class-balanced batches: P classes x K samples, covering the data about once per epoch."""
    classes = np.unique(y)
    by = {c: rng.permutation(np.flatnonzero(y == c)).tolist() for c in classes}
    n_batches = len(y) // (P * K)
    for _ in range(n_batches):
        cs = rng.choice(classes, P, replace=False)
        yield _take(by, y, cs, K, rng)


def _take(by, y, cs, K, rng):
    """K samples of each class in cs, each class's samples dealt out in a fresh random order
    before any repeats."""
    idx = []
    for c in cs:
        if len(by[c]) < K:
            by[c] = rng.permutation(np.flatnonzero(y == c)).tolist()
        idx += [by[c].pop() for _ in range(K)]
    return np.array(idx)


def class_neighbours(model, x, y, n_classes, per_class=2, k=8):
    """Each class's k nearest classes by prototype cosine (prototype: the mean embedding of its
    first per_class samples), the confusable designs hard-class batches pair up: mirrored twins,
    number variants, one glyph in two frames."""
    first = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(n_classes)])
    e = torch.from_numpy(embed(model, x[first]))
    yl = torch.from_numpy(y[first])
    P = torch.zeros(n_classes, e.shape[1]).index_add_(0, yl, e)
    P = F.normalize(P, dim=1)
    S = P @ P.T
    S.fill_diagonal_(-2)
    return S.topk(k, dim=1).indices.numpy()


def batches_hard(y, P, K, rng, neighbours, share):
    """batches_pk with hard classes: a share of each batch's P classes are anchors drawn at random,
    each followed by one of its nearest classes (neighbours()[anchor], refreshed by the caller as the
    encoder learns), the rest random, so the loss sees confusable classes side by side as negatives
    instead of almost never. neighbours is a one-element list the caller may replace."""
    classes = np.unique(y)
    by = {c: rng.permutation(np.flatnonzero(y == c)).tolist() for c in classes}
    n_batches = len(y) // (P * K)
    n_anchor = int(P * share) // 2
    for _ in range(n_batches):
        nb = neighbours[0]
        chosen, seen = [], set()
        for c in rng.choice(classes, P, replace=False):
            if len(chosen) >= 2 * n_anchor:
                break
            if c in seen:
                continue
            mate = next((int(m) for m in rng.permutation(nb[c]) if int(m) not in seen), None)
            if mate is None:
                continue
            chosen += [int(c), mate]
            seen.update((int(c), mate))
        while len(chosen) < P:
            c = int(rng.integers(len(classes)))
            if c not in seen:
                chosen.append(c)
                seen.add(c)
        yield _take(by, y, chosen, K, rng)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objective", choices=["cosface", "supcon"], required=True)
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--eval-every", type=float, default=1.0, help="epochs between selection-set evaluations")
    ap.add_argument("--threads-file", default="", help="if this file appears, its integer becomes the thread count "
                    "(lets a long run on a shared machine take more cores once they free up)")
    ap.add_argument("--train-parts", default="train", help="comma-separated cache sets to train on (train, train2)")
    ap.add_argument("--init", default="", help="start from this checkpoint's encoder weights (a warm restart "
                    "with a fresh schedule; the head, if any, starts anew)")
    ap.add_argument("--limit-classes", type=int, default=0, help="debug: train on the first N classes only")
    ap.add_argument("--generator", choices=["v1", "v2"], default="v1",
                    help="v2: read the v2 caches (render_cache.py --generator v2) and evaluate select pairs")
    ap.add_argument("--size", type=int, choices=[48, 64], default=SIZE, help="input side (v1 caches are 48)")
    ap.add_argument("--split", default="", help="split file (default split.json for v1, split2.json for v2)")
    ap.add_argument("--widths", default="24,32,64,128", help="channel widths of the four encoder stages")
    ap.add_argument("--hard", type=float, default=0.0, help="share of each batch's classes drawn as "
                    "anchor + nearest-class pairs (class_neighbours), 0 for plain P x K batches")
    ap.add_argument("--hard-refresh", type=int, default=200, help="steps between neighbour refreshes with --hard")
    ap.add_argument("--resume", action="store_true", help="continue the run that --out (and its .state file) "
                    "belongs to from its last checkpoint, with the same schedule and batch order")
    a = ap.parse_args()
    if a.generator == "v1" and a.size != SIZE:
        ap.error("the v1 generator renders %d px only" % SIZE)
    split_path = a.split or os.path.join(HERE, "split.json" if a.generator == "v1" else "split2.json")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    g = torch.Generator().manual_seed(a.seed)

    parts = a.train_parts.split(",")
    cn = lambda p: os.path.join(a.cache, cache_name(a.generator, a.size, p))
    tx = np.concatenate([np.load(cn(p) + "_x.npy") for p in parts])
    ty = np.concatenate([np.load(cn(p) + "_y.npy") for p in parts]).astype(np.int64)
    sx = np.load(cn("select") + "_x.npy")
    sy = np.load(cn("select") + "_y.npy").astype(np.int64)
    if tx.shape[1] != a.size or sx.shape[1] != a.size:
        raise SystemExit("cache side %d/%d differs from --size %d" % (tx.shape[1], sx.shape[1], a.size))
    pairs = select_pairs(a.generator, split_path)
    if pairs is not None:
        present = set(np.unique(sy).tolist())
        pairs = pairs[[p[0] in present and p[1] in present for p in pairs]] if len(pairs) else pairs
        # the normalisation constants are v1's; report this cache's so a v2 export can be given its own
        # float64: a float32 sum over ~10^8 values saturates and reports a far too small mean
        sub = tx[::max(1, len(tx) // 20000)].reshape(-1, 3).astype(np.float64) / 255
        print("cache mean %s std %s (MEAN/STD in use: %s %s)" % (np.round(sub.mean(0), 3).tolist(),
              np.round(sub.std(0), 3).tolist(), MEAN, STD), flush=True)
    if a.limit_classes:
        keep = ty < a.limit_classes
        tx, ty = tx[keep], ty[keep]
    tx = np.ascontiguousarray(tx)
    n_classes = int(ty.max()) + 1

    widths = tuple(int(w) for w in a.widths.split(","))
    if len(widths) != 4:
        ap.error("--widths needs four values")
    model = Encoder(widths)
    if a.init:
        model.load_state_dict(torch.load(a.init, map_location="cpu")["state_dict"])
    flops = count_flops(model, a.size)
    print("encoder: %.1f MFLOPs/image, %d parameters" % (flops / 1e6, sum(p.numel() for p in model.parameters())), flush=True)
    head = CosFace(n_classes) if a.objective == "cosface" else None
    params = list(model.parameters()) + (list(head.parameters()) if head else [])
    opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, nesterov=True, weight_decay=a.wd)
    P, K = a.batch // 4, 4
    steps_per_epoch = len(ty) // a.batch
    total = int(a.epochs * steps_per_epoch)
    warm = min(300, total // 10)

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        return a.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    history = []
    step, t0, wall0 = 0, time.time(), 0.0
    skip = 0
    if a.resume:
        st = torch.load(a.out + ".state", map_location="cpu")
        if st["args"]["widths"] != a.widths or st["total_steps"] != total:
            raise SystemExit("--resume: %s.state belongs to a different run" % a.out)
        model.load_state_dict(st["state_dict"])
        opt.load_state_dict(st["opt"])
        if head is not None:
            head.load_state_dict(st["head"])
        g.set_state(st["g"])
        history, skip, wall0 = st["history"], st["steps"], st["wall_s"]
        print("resuming at step %d of %d (%.0f s trained before)" % (skip, total, wall0), flush=True)
        if a.hard:
            # hard-class batches depend on the encoder of the moment: a resumed run draws them from
            # the restored encoder's neighbours, so it continues the run but does not replay it
            print("--hard: batches after the resume point differ from an uninterrupted run's", flush=True)

    def save(step):
        wall = wall0 + time.time() - t0
        ck = {"state_dict": model.state_dict(), "objective": a.objective, "args": vars(a), "flops": flops,
              "widths": widths, "mean": MEAN, "std": STD, "size": a.size, "generator": a.generator,
              "history": history, "select": history[-1],
              "wall_s": wall, "steps": step, "total_steps": total, "epochs": step / steps_per_epoch}
        torch.save(ck, a.out + ".tmp")
        os.replace(a.out + ".tmp", a.out)
        # what --resume needs besides the weights: optimiser, augmentation generator, position
        st = dict(ck, opt=opt.state_dict(), g=g.get_state(), head=head.state_dict() if head is not None else None)
        torch.save(st, a.out + ".state.tmp")
        os.replace(a.out + ".state.tmp", a.out + ".state")

    eval_every = max(1, int(a.eval_every * steps_per_epoch))
    model.train()
    done = False
    epoch = 0
    neighbours = [None]
    if a.hard:
        neighbours[0] = class_neighbours(model, tx, ty, n_classes)
    while not done:
        batches = batches_hard(ty, P, K, rng, neighbours, a.hard) if a.hard else batches_pk(ty, P, K, rng)
        for idx in batches:
            if skip:
                # replay the batch order up to the checkpoint; no image work is done for these
                skip -= 1
                step += 1
                continue
            if step >= total:
                done = True
                break
            for gr in opt.param_groups:
                gr["lr"] = lr_at(step)
            xb = augment(to_input(torch.from_numpy(tx[idx])), g, a.size)
            yb = torch.from_numpy(ty[idx])
            z = model(xb)
            loss = head(z, yb) if head is not None else supcon_loss(z, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if a.hard and step % a.hard_refresh == 0:
                neighbours[0] = class_neighbours(model, tx, ty, n_classes)
            if step % 50 == 0:
                if a.threads_file and os.path.exists(a.threads_file):
                    nt = int(open(a.threads_file).read().strip() or a.threads)
                    if nt != torch.get_num_threads():
                        torch.set_num_threads(nt)
                        print("threads ->", nt, flush=True)
                el = time.time() - t0
                print("step %d/%d loss %.4f lr %.4f %.0f s" % (step, total, loss.item(), lr_at(step), wall0 + el), flush=True)
            if step % eval_every == 0 or step == total:
                m = select_metrics(model, sx, sy, pairs=pairs)
                m.update(step=step, epoch=step / steps_per_epoch, wall_s=wall0 + time.time() - t0)
                history.append(m)
                print("select:", json.dumps(m), flush=True)
                save(step)
        epoch += 1
    save(step)
    print("done: %s %.0f s, select %s" % (a.objective, wall0 + time.time() - t0, json.dumps(history[-1])), flush=True)


if __name__ == "__main__":
    main()
