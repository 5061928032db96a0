"""Measures the encoder on the committed benchmark PNGs (testdata/signs) with PyTorch.

    python3 tools/train/bench.py --ckpt tools/train/cache/final.pt --data testdata/signs --json bench.json

Reports novel 5-way 1-/5-shot (1000 episodes), all-novel-way 1-/5-shot,
base-val accuracy against base prototypes, and open-set AUROC (enrolled novel
versus left-out novel, max-cosine score).  Images are read exactly as the Go
engine reads them: 48x48 RGB, /255, mean/std from the checkpoint.
"""

import argparse
import json
import os

import numpy as np
import torch
from PIL import Image

import fewshot
import train


def load_folder(root):
    names = sorted(os.listdir(root))
    xs, ys = [], []
    for i, n in enumerate(names):
        for f in sorted(os.listdir(os.path.join(root, n))):
            im = Image.open(os.path.join(root, n, f)).convert("RGB")
            if im.size != (train.SIZE, train.SIZE):
                im = im.resize((train.SIZE, train.SIZE), Image.BILINEAR)
            xs.append(np.asarray(im, np.uint8))
            ys.append(i)
    return np.stack(xs), np.array(ys), names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache"))
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ck = torch.load(a.ckpt, map_location="cpu")
    model = train.Encoder()
    model.load_state_dict(ck["state_dict"])
    nx, ny, _ = load_folder(os.path.join(a.data, "novel"))
    bx, by, bnames = load_folder(os.path.join(a.data, "base-val"))
    ne, be = train.embed(model, nx), train.embed(model, bx)
    r = {}
    for k in (1, 5):
        r["novel_5way_%dshot" % k] = fewshot.episodes(ne, ny, 5, k, a.episodes, a.seed)
        r["novel_allway_%dshot" % k] = fewshot.episodes(ne, ny, None, k, 100, a.seed)
        r["novel_openset_auroc_%dshot" % k] = fewshot.open_set(ne, ny, k, 100, a.seed)
    # base prototypes from the training cache (the deployed gallery's base classes),
    # base-val images (unseen renders) as queries.
    tx = np.load(os.path.join(a.cache, "train_x.npy"), mmap_mode="r")
    ty = np.load(os.path.join(a.cache, "train_y.npy")).astype(np.int64)
    split = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "split.json")))
    remap = np.array([split["train"].index(n) for n in bnames])  # folder order -> training label
    by = remap[by]
    sel = np.concatenate([np.flatnonzero(ty == c)[:20] for c in np.unique(ty)])
    te = train.embed(model, np.ascontiguousarray(tx[sel]))
    r["base_val_acc_20proto"] = fewshot.closed_set(be, by, te, ty[sel])
    # base-val against base-val itself: 5 enrolled shots per class, rest queries
    r["base_val_allway_5shot"] = fewshot.episodes(be, by, None, 5, 100, a.seed)
    r["novel_images"], r["base_val_images"] = int(len(ny)), int(len(by))
    r["novel_classes"], r["base_classes"] = int(ny.max() + 1), int(by.max() + 1)
    for k, v in r.items():
        print("%-28s %s" % (k, v))
    if a.json:
        json.dump(r, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
