"""Writes the int8 calibration images: testdata/signs-calib/NNN.png.

    /usr/bin/python3 tools/train/make_calib.py --generator v2 --out testdata/signs-calib --n 128

(--generator v1, the default, wrote the v1 encoder's 48 px set from split.json.)

One render per class of N training classes spread evenly over split.json's
"train" list, from the training stream (signs.STREAM_TRAIN) at sample
indices far above any the training cache used, so calibration sees what
the encoder was trained on and nothing of the benchmark (whose streams are
signs.STREAM_BENCH_*).  `convert -quantize int8 -calib testdata/signs-calib`
reads them.
"""

import argparse
import json
import os

from PIL import Image

import signs

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_K = 100000  # the cache's training renders use k < 2000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", default="", help="split file (default split.json for v1, split2.json for v2)")
    ap.add_argument("--generator", choices=["v1", "v2"], default="v1")
    ap.add_argument("--size", type=int, default=64, help="output side (v2)")
    ap.add_argument("--n", type=int, default=128)
    a = ap.parse_args()
    split = a.split or os.path.join(HERE, "split.json" if a.generator == "v1" else "split2.json")
    train = json.load(open(split))["train"]
    if a.generator == "v2":
        import signs2
    os.makedirs(a.out, exist_ok=True)
    total = 0
    for i in range(a.n):
        name = train[i * len(train) // a.n]
        path = os.path.join(a.out, "%03d.png" % i)
        if a.generator == "v2":
            img = signs2.render_sample(name, signs2.STREAM_TRAIN, FIRST_K + i, out=a.size, path=split)
        else:
            img = signs.render_sample(signs.class_index(name), signs.STREAM_TRAIN, FIRST_K + i)
        Image.fromarray(img).save(path, "PNG", optimize=True)
        total += os.path.getsize(path)
    print("wrote %d PNGs, %.2f MB" % (a.n, total / 1e6))


if __name__ == "__main__":
    main()
