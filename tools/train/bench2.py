"""Measures a v2 checkpoint on the committed v2 benchmark (testdata/signs) with PyTorch.

    /usr/bin/python3 tools/train/bench2.py --ckpt tools/train/checkpoints/v2_supcon_64px.pt --data testdata/signs

For each of the novel and cross-source folders: 5-way 1- and 5-shot (1000 episodes), all-way
5-shot (100 episodes), open-set AUROC (half the classes enrolled with 5 and with 3 shots, the
other half unknown, 100 halvings) and mirrored pairs (5 pairs per episode, both twins enrolled
with 5 shots: 10-way).  Then the deployed situation: a base gallery of the base-val classes
(3 renders each enrolled, the 4th a query), every novel and cross-source class added with 5
shots, and the base queries whose answer turned from right to wrong (negative flips).
Images are read as the Go engine reads them (64x64 RGB, /255, mean/std from the checkpoint).
The Go tests (gallery/signs_test.go) measure the same set through the engine.
"""

import argparse
import json
import os

import numpy as np
import torch
from PIL import Image

import fewshot
import train


def load_folder(root, size):
    names = sorted(os.listdir(root))
    xs, ys = [], []
    for i, n in enumerate(names):
        for f in sorted(os.listdir(os.path.join(root, n))):
            im = Image.open(os.path.join(root, n, f)).convert("RGB")
            if im.size != (size, size):
                raise SystemExit("%s: %s, want %dx%d" % (os.path.join(root, n, f), im.size, size, size))
            xs.append(np.asarray(im, np.uint8))
            ys.append(i)
    return np.stack(xs), np.array(ys), names


def load_model(path):
    ck = torch.load(path, map_location="cpu")
    model = train.Encoder(tuple(ck.get("widths", (24, 32, 64, 128))))
    model.load_state_dict(ck["state_dict"])
    train.MEAN, train.STD = tuple(ck["mean"]), tuple(ck["std"])
    return model, ck


def pairs_of(path, names):
    idx = {n: i for i, n in enumerate(names)}
    out = []
    for line in open(path):
        a, b = line.split()
        if a in idx and b in idx:
            out.append((idx[a], idx[b]))
    return np.array(out, np.int64).reshape(-1, 2)


def flips(base_e, base_y, add_e, add_y, seed, trials=5):
    """Base gallery (3 shots a class, the rest queries), then every added class with 5 shots."""
    rng = np.random.default_rng(seed)
    nb = base_y.max() + 1
    tot = bad = before_ok = after_ok = 0
    for _ in range(trials):
        sup, qi, ql = [], [], []
        for c in range(nb):
            p = rng.permutation(np.flatnonzero(base_y == c))
            sup.append(p[:3])
            qi.extend(p[3:])
            ql.extend([c] * (len(p) - 3))
        P = fewshot._protos(base_e, sup)
        qi, ql = np.array(qi), np.array(ql)
        before = np.argmax(base_e[qi] @ P.T, 1) == ql
        asup = [rng.permutation(np.flatnonzero(add_y == c))[:5] for c in np.unique(add_y)]
        P2 = np.concatenate([P, fewshot._protos(add_e, asup)])
        after = np.argmax(base_e[qi] @ P2.T, 1) == ql
        tot += len(ql)
        bad += int(np.sum(before & ~after))
        before_ok += int(before.sum())
        after_ok += int(after.sum())
    return {"base_queries": tot, "negative_flips": bad, "flip_rate": bad / tot,
            "base_acc_before": before_ok / tot, "base_acc_after": after_ok / tot}


def measure(model, data, size, seed, episodes):
    r = {}
    ck_size = size
    embs = {}
    for split in ("novel", "cross-source"):
        x, y, names = load_folder(os.path.join(data, split), ck_size)
        e = train.embed(model, x)
        embs[split] = (e, y)
        m = {"classes": int(y.max() + 1), "images": int(len(y))}
        for k in (1, 5):
            m["5way_%dshot" % k] = fewshot.episodes(e, y, 5, k, episodes, seed)[0]
        m["allway_5shot"] = fewshot.episodes(e, y, None, 5, 100, seed)[0]
        m["openset_auroc_5shot"] = fewshot.open_set(e, y, 5, 100, seed)
        m["openset_auroc_3shot"] = fewshot.open_set(e, y, 3, 100, seed)
        pr = pairs_of(os.path.join(data, "pairs.txt"), names)
        m["pairs"] = int(len(pr))
        if len(pr):
            m["pairs_10way_5shot"] = fewshot.pair_episodes(e, y, pr, 5, 5, episodes, seed)[0]
            m["pairs_2way_5shot"] = fewshot.pair_episodes(e, y, pr, 1, 5, episodes, seed)[0]
        r[split] = m
    bx, by, _ = load_folder(os.path.join(data, "base-val"), ck_size)
    be = train.embed(model, bx)
    ae = np.concatenate([embs["novel"][0], embs["cross-source"][0]])
    ay = np.concatenate([embs["novel"][1], embs["cross-source"][1] + embs["novel"][1].max() + 1])
    r["base"] = flips(be, by, ae, ay, seed)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True, action="append", help="checkpoint (repeat to compare)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {}
    for path in a.ckpt:
        model, ck = load_model(path)
        r = measure(model, a.data, ck["size"], a.seed, a.episodes)
        r["checkpoint"] = {"path": os.path.basename(path), "widths": list(ck.get("widths", ())),
                           "mflops": ck.get("flops", 0) / 1e6, "size": ck["size"], "wall_s": ck.get("wall_s")}
        out[os.path.basename(path)] = r
        print(json.dumps(r, indent=1), flush=True)
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
