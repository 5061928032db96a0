"""Pre-renders the training and model-selection sets into an uncommitted cache.

Rendering one sample costs a few milliseconds of Python, as much as a training
step spends on it, so the samples are rendered once, in parallel, and training
reads uint8 arrays.  Output: CACHE/train_x.npy (N,48,48,3) uint8, train_y.npy,
select_x.npy, select_y.npy (labels index the split lists).
"""

import argparse
import json
import os
import time
from multiprocessing import Pool

import numpy as np

import signs


def _render(job):
    idx, stream, k = job
    return signs.render_sample(idx, stream, k)


def render_set(names, per_class, stream, workers, first=0):
    jobs = [(signs.class_index(n), stream, k) for n in names for k in range(first, first + per_class)]
    labels = np.repeat(np.arange(len(names), dtype=np.int16), per_class)
    with Pool(workers) as p:
        imgs = p.map(_render, jobs, chunksize=64)
    return np.stack(imgs), labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default=os.path.join(os.path.dirname(__file__), "split.json"))
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(__file__), "cache"))
    ap.add_argument("--train-per-class", type=int, default=500)
    ap.add_argument("--select-per-class", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--more", type=int, default=0,
                    help="render N more training samples per class (indices after the first --train-per-class) "
                         "into <--more-name>_x.npy/_y.npy instead of the default sets")
    ap.add_argument("--more-first", type=int, default=0, help="first sample index of --more (default: --train-per-class)")
    ap.add_argument("--more-name", default="train2")
    a = ap.parse_args()
    split = json.load(open(a.split))
    os.makedirs(a.cache, exist_ok=True)
    if a.more:
        t = time.time()
        x, y = render_set(split["train"], a.more, signs.STREAM_TRAIN, a.workers, first=a.more_first or a.train_per_class)
        np.save(os.path.join(a.cache, a.more_name + "_x.npy"), x)
        np.save(os.path.join(a.cache, a.more_name + "_y.npy"), y)
        print("%s: %d classes x %d = %d samples in %.1f s" % (a.more_name, len(split["train"]), a.more, len(x), time.time() - t), flush=True)
        return
    for part, n, stream in (("select", a.select_per_class, signs.STREAM_SELECT), ("train", a.train_per_class, signs.STREAM_TRAIN)):
        t = time.time()
        x, y = render_set(split[part], n, stream, a.workers)
        np.save(os.path.join(a.cache, part + "_x.npy"), x)
        np.save(os.path.join(a.cache, part + "_y.npy"), y)
        print("%s: %d classes x %d = %d samples in %.1f s" % (part, len(split[part]), n, len(x), time.time() - t), flush=True)


if __name__ == "__main__":
    main()
