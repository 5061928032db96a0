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


def cache_name(generator, size, part):
    """Cache file stem (train.py reads the same): v1 keeps its names; v2 is named by generator and side."""
    return part if generator == "v1" else "v2s%d_%s" % (size, part)


def _render(job):
    if len(job) == 3:
        idx, stream, k = job
        return signs.render_sample(idx, stream, k)
    import signs2
    name, stream, k, size = job
    return signs2.render_sample(name, stream, k, size)


def render_set(names, per_class, stream, workers, first=0, generator="v1", size=48):
    if generator == "v1":
        jobs = [(signs.class_index(n), stream, k) for n in names for k in range(first, first + per_class)]
    else:
        jobs = [(n, stream, k, size) for n in names for k in range(first, first + per_class)]
    labels = np.repeat(np.arange(len(names), dtype=np.int16), per_class)
    out = None
    with Pool(workers) as p:
        # filled in place, in job order: a v2 cache is gigabytes, a list of arrays plus a stack would double it
        for i, im in enumerate(p.imap(_render, jobs, chunksize=64)):
            if out is None:
                out = np.empty((len(jobs),) + im.shape, np.uint8)
            out[i] = im
    return out, labels


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
    ap.add_argument("--generator", choices=["v1", "v2"], default="v1",
                    help="v2: signs2.py classes from split2.json, files named v2s<size>_<set>_x.npy")
    ap.add_argument("--size", type=int, choices=[48, 64], default=48, help="output side (v2 only)")
    ap.add_argument("--limit-classes", type=int, default=0, help="render only the first N classes of each set")
    a = ap.parse_args()
    if a.generator == "v1" and a.size != 48:
        ap.error("the v1 generator renders 48 px only")
    if a.generator == "v2" and a.split == ap.get_default("split"):
        a.split = os.path.join(os.path.dirname(__file__), "split2.json")
    split = json.load(open(a.split))
    if a.limit_classes:
        split = dict(split, train=split["train"][:a.limit_classes], select=split["select"][:a.limit_classes])
    fname = lambda part: cache_name(a.generator, a.size, part)
    os.makedirs(a.cache, exist_ok=True)
    if a.more:
        t = time.time()
        x, y = render_set(split["train"], a.more, signs.STREAM_TRAIN, a.workers, first=a.more_first or a.train_per_class,
                          generator=a.generator, size=a.size)
        np.save(os.path.join(a.cache, fname(a.more_name) + "_x.npy"), x)
        np.save(os.path.join(a.cache, fname(a.more_name) + "_y.npy"), y)
        print("%s: %d classes x %d = %d samples in %.1f s" % (a.more_name, len(split["train"]), a.more, len(x), time.time() - t), flush=True)
        return
    for part, n, stream in (("select", a.select_per_class, signs.STREAM_SELECT), ("train", a.train_per_class, signs.STREAM_TRAIN)):
        t = time.time()
        x, y = render_set(split[part], n, stream, a.workers, generator=a.generator, size=a.size)
        np.save(os.path.join(a.cache, fname(part) + "_x.npy"), x)
        np.save(os.path.join(a.cache, fname(part) + "_y.npy"), y)
        print("%s: %d classes x %d = %d samples in %.1f s" % (part, len(split[part]), n, len(x), time.time() - t), flush=True)


if __name__ == "__main__":
    main()
