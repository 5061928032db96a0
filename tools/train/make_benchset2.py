"""Writes the committed v2 few-shot benchmark (testdata/signs) and the encoder-calibration background.

    /usr/bin/python3 tools/train/make_benchset2.py --out testdata/signs
    /usr/bin/python3 tools/train/make_benchset2.py --background tools/train/cache/background2

Benchmark layout (64x64 RGB PNGs, the v2 encoder's input side):

    novel/<class>/NN.png         classes of split2.json "novel" drawn with training icon sets:
                                 mirrored pairs (both twins), the v1 hard cases (numbers and
                                 plate texts that differ from trained ones, unseen shape/colour
                                 combinations), unseen pictograms, random held-out designs
    cross-source/<class>/NN.png  "novel" classes whose pictograms come from the held-out icon set
                                 (split2.json "held_out_source"), used nowhere in train or select
    base-val/<class>/NN.png      fresh renders of trained classes (base gallery, flip rate)
    pairs.txt                    mirrored pairs, "<class> <twin>" per line, both in one folder

Classes are picked deterministically (crc32 order of the name, a pair's twins together) so the
set fits the repository's 20 MB budget; the counts are arguments.  Samples come from the
benchmark streams (signs2.STREAM_BENCH_*), disjoint from training and selection renders.

--background writes renders of split2.json "select" classes (never trained on, never in the
benchmark) as class folders: the never-enrolled designs the converter measures the encoder's
impostor scores on (`convert -impostors`).  It is regenerated, not committed.
"""

import argparse
import json
import os
import zlib
from multiprocessing import Pool

from PIL import Image

import signs2

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 64

# novel classes per reason (pairs are counted in classes, both twins)
HARD = (
    ("mirrored pair", 100),
    ("number differs from trained speed limits", 999),
    ("number differs from trained limits", 999),
    ("unseen plate text", 999),
    ("unseen shape/colour combination", 30),
    ("unseen pictogram", 40),
    ("random held-out design", 20),
)


def _order(names):
    return sorted(names, key=lambda n: (zlib.crc32(n.encode()), n))


def pick(split, n_cross):
    reason = split["novel_reason"]
    twin = {}
    for a, b in split["pairs"]["novel"]:
        twin[a], twin[b] = b, a
    chosen = {"novel": [], "cross-source": []}
    taken = set()

    def take(folder, cands, n):
        got = 0
        for c in _order(cands):
            if got >= n or c in taken:
                continue
            group = [c] + ([twin[c]] if c in twin and twin[c] not in taken else [])
            if any(reason.get(g) != reason[c] for g in group[1:]):
                group = group[:1]  # a twin of another reason stays with its own reason
            if folder == "novel" and reason[c] == "mirrored pair" and len(group) < 2:
                continue
            if got + len(group) > n and got > 0:
                continue
            chosen[folder].extend(group)
            taken.update(group)
            got += len(group)

    for r, n in HARD:
        take("novel", [c for c in split["novel"] if reason[c] == r], n)
    take("cross-source", [c for c in split["novel"] if reason[c] == "cross-source"], n_cross)
    pairs = []
    for folder in chosen:
        s = set(chosen[folder])
        for a, b in split["pairs"]["novel"]:
            if a in s and b in s:
                pairs.append((a, b))
    return chosen, sorted(pairs)


def _write(job):
    name, stream, k, path = job
    Image.fromarray(signs2.render_sample(name, stream, k, out=SIZE)).save(path, "PNG", optimize=True)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="", help="write the benchmark here (testdata/signs)")
    ap.add_argument("--background", default="", help="write the calibration background here instead")
    ap.add_argument("--split", default=signs2.SPLIT2)
    ap.add_argument("--per-class", type=int, default=6, help="images per novel and cross-source class")
    ap.add_argument("--cross-source", type=int, default=90, help="cross-source classes")
    ap.add_argument("--base", type=int, default=110, help="base-val classes")
    ap.add_argument("--base-per-class", type=int, default=4)
    ap.add_argument("--background-per-class", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    if bool(a.out) == bool(a.background):
        ap.error("give exactly one of --out and --background")
    split = json.load(open(a.split))
    jobs = []
    if a.background:
        for name in split["select"]:
            d = os.path.join(a.background, name)
            os.makedirs(d, exist_ok=True)
            for k in range(a.background_per_class):
                # the select stream at indices far above the selection cache's (k < 1000)
                jobs.append((name, signs2.STREAM_SELECT, 100000 + k, os.path.join(d, "%02d.png" % k)))
    else:
        chosen, pairs = pick(split, a.cross_source)
        base = _order(split["train"])[:a.base]
        for folder, names, n, stream in (("novel", chosen["novel"], a.per_class, signs2.STREAM_BENCH_NOVEL),
                                         ("cross-source", chosen["cross-source"], a.per_class, signs2.STREAM_BENCH_NOVEL),
                                         ("base-val", base, a.base_per_class, signs2.STREAM_BENCH_BASE)):
            for name in names:
                d = os.path.join(a.out, folder, name)
                os.makedirs(d, exist_ok=True)
                for k in range(n):
                    jobs.append((name, stream, k, os.path.join(d, "%02d.png" % k)))
        with open(os.path.join(a.out, "pairs.txt"), "w") as f:
            for p in pairs:
                f.write("%s %s\n" % p)
        reasons = {}
        for c in chosen["novel"]:
            reasons[split["novel_reason"][c]] = reasons.get(split["novel_reason"][c], 0) + 1
        print("novel %d classes %s, cross-source %d, base-val %d, pairs %d" % (
            len(chosen["novel"]), json.dumps(reasons), len(chosen["cross-source"]), len(base), len(pairs)))
    with Pool(a.workers) as p:
        sizes = p.map(_write, jobs, chunksize=16)
    print("wrote %d PNGs, %.2f MB" % (len(sizes), sum(sizes) / 1e6))


if __name__ == "__main__":
    main()
