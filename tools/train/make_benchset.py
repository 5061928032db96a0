"""Writes the committed few-shot benchmark: testdata/signs/{novel,base-val}/<class>/NN.png.

    python3 tools/train/make_benchset.py --out testdata/signs --novel-per-class 20 --base-per-class 6

Samples come from streams of their own (signs.STREAM_BENCH_*), disjoint from the
training cache and the model-selection set.  base-val holds the classes the
encoder was trained on (split.json "train"), novel the classes it never saw.
"""

import argparse
import json
import os
from multiprocessing import Pool

from PIL import Image

import signs

HERE = os.path.dirname(os.path.abspath(__file__))


def _write(job):
    idx, stream, k, path = job
    Image.fromarray(signs.render_sample(idx, stream, k)).save(path, "PNG", optimize=True)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", default=os.path.join(HERE, "split.json"))
    ap.add_argument("--novel-per-class", type=int, default=20)
    ap.add_argument("--base-per-class", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    split = json.load(open(a.split))
    jobs = []
    for part, names, n, stream in (("novel", split["novel"], a.novel_per_class, signs.STREAM_BENCH_NOVEL),
                                   ("base-val", split["train"], a.base_per_class, signs.STREAM_BENCH_BASE)):
        for name in names:
            d = os.path.join(a.out, part, name)
            os.makedirs(d, exist_ok=True)
            for k in range(n):
                jobs.append((signs.class_index(name), stream, k, os.path.join(d, "%02d.png" % k)))
    with Pool(a.workers) as p:
        sizes = p.map(_write, jobs, chunksize=32)
    print("wrote %d PNGs, %.2f MB" % (len(sizes), sum(sizes) / 1e6))


if __name__ == "__main__":
    main()
