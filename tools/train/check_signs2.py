"""Self-check of the v2 sign generator and split (exits non-zero on the first failed assertion).

    /usr/bin/python3 tools/train/check_signs2.py [--pairs N] [--captures K] [--sheet] [--speed N]

  a. counts classes per split, family and glyph source (and checks split2.json's own counts);
  b. determinism: the same (stream, class, k) rendered twice, and in a fresh process, gives identical bytes;
  c. mirrored pairs: both twins are in one split, their contents really differ (clean, at 48 px), every
     capture lies within the rotation cap, and a capture of one twin matches its own clean design better
     than its twin's -- both placed with the capture's geometry, and placed without its rotation and
     perspective (so geometry never maps a class onto its mirror); train.py's augmentation never makes a
     capture closer to its mirror image than to itself;
  d. the held-out source: none of its glyphs, nor a near-copy of one, is in a train or select class;
     the deny filter rejects the known traffic-sign glyphs and passes nothing it would deny;
  e. --sheet writes contact_sheet2.png (at most 300 KB); --speed N measures render speed on one core.
"""

import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
from PIL import Image

import glyphs
import signs2

HERE = os.path.dirname(os.path.abspath(__file__))


def check(cond, msg):
    if not cond:
        print("FAIL:", msg, flush=True)
        sys.exit(1)


def counts(doc):
    from make_split2 import summary
    s = summary(doc)
    check(s == doc["counts"], "split2.json counts are stale: rerun make_split2.py")
    names = doc["train"] + doc["select"] + doc["novel"]
    check(len(names) == len(set(names)) == len(doc["classes"]), "splits overlap or miss classes")
    check(set(doc["novel_reason"]) == set(doc["novel"]), "a novel class has no reason")
    check(len(doc["train"]) >= 2000, "fewer than 2000 training classes")
    need = {"cross-source", "mirrored pair", "unseen pictogram", "unseen shape/colour combination",
            "number differs from trained speed limits", "random held-out design"}
    check(need <= set(doc["novel_reason"].values()), "a novel reason is missing: %s" % (need - set(doc["novel_reason"].values())))
    print("classes per split:", json.dumps(s["classes"]), " mirrored pairs:", json.dumps(s["pairs"]))
    print("novel reasons:", json.dumps(s["novel_reason"]))
    for sp in ("train", "select", "novel"):
        fam = collections.Counter()
        for k, v in s["family"][sp].items():
            fam[k.split("/")[0]] += v
        print("%-6s families: %s" % (sp, json.dumps(dict(sorted(fam.items())))))
        print("%-6s glyph sources (classes): %s" % (sp, json.dumps(s["glyph_source"][sp])))
    src = collections.Counter((v["source"], v["role"]) for v in doc["glyphs"].values())
    print("glyphs per source and role:", json.dumps({"%s/%s" % k: v for k, v in sorted(src.items())}))
    print("filters:", json.dumps(doc["filters"]))


def _digest(names, out):
    h = hashlib.sha256()
    for i, n in enumerate(names):
        for stream in (signs2.STREAM_TRAIN, signs2.STREAM_BENCH_NOVEL):
            h.update(signs2.render_sample(n, stream, i % 7, out).tobytes())
    return h.hexdigest()


def determinism(doc, n=40):
    names = [doc["classes"][i]["name"] for i in np.linspace(0, len(doc["classes"]) - 1, n).astype(int)]
    for out in signs2.SIZES:
        a = [signs2.render_sample(m, signs2.STREAM_TRAIN, 3, out).tobytes() for m in names]
        signs2.template.cache_clear()
        b = [signs2.render_sample(m, signs2.STREAM_TRAIN, 3, out).tobytes() for m in names]
        check(a == b, "render differs between two calls (out=%d)" % out)
        d0 = _digest(names, out)
        code = ("import sys; sys.path.insert(0, %r); import check_signs2 as c, json; "
                "print(c._digest(json.loads(sys.argv[1]), %d))" % (HERE, out))
        env = dict(os.environ, PYTHONHASHSEED="12345")
        d1 = subprocess.run([sys.executable, "-c", code, json.dumps(names)], stdout=subprocess.PIPE, env=env,
                            check=True).stdout.decode().strip()
        check(d0 == d1, "render differs in a fresh process (out=%d): %s vs %s" % (out, d0, d1))
        # streams are disjoint: the same class and k in two streams are different samples
        x = signs2.render_sample(names[0], signs2.STREAM_TRAIN, 0, out)
        y = signs2.render_sample(names[0], signs2.STREAM_SELECT, 0, out)
        check(not np.array_equal(x, y), "streams share a sample")
    print("determinism: %d classes x 2 sizes identical twice and across processes (sha256 %s...)" % (n, d0[:16]))


def _gray(a):
    return np.asarray(a, np.float32)[..., :3].mean(-1)


def _placed(name, geo, out, with_pose):
    """Clean design of `name` placed as in a capture with geometry geo (optionally without rotation and
    perspective), as (gray out x out, alpha out x out)."""
    n = geo["work"]
    tpl = signs2.template(name)
    s, cx, cy = geo["s"], geo["cx"], geo["cy"]
    side = max(8, int(s))
    small = tpl.resize((side, side), Image.LANCZOS)
    if with_pose:
        corners = geo["corners"]
    else:
        corners = [(cx - s / 2, cy - s / 2), (cx + s / 2, cy - s / 2), (cx + s / 2, cy + s / 2), (cx - s / 2, cy + s / 2)]
    co = signs2.v1._persp_coeffs(corners, [(0, 0), (side, 0), (side, side), (0, side)])
    w = small.transform((n, n), Image.PERSPECTIVE, tuple(co), Image.BILINEAR).resize((out, out), Image.LANCZOS)
    a = np.asarray(w, np.float32)
    return _gray(a), a[..., 3] / 255


def _ncc(x, t, wgt):
    wgt = wgt / max(1e-6, wgt.sum())
    xm, tm = (x * wgt).sum(), (t * wgt).sum()
    xv, tv = x - xm, t - tm
    return float((wgt * xv * tv).sum() / np.sqrt((wgt * xv * xv).sum() * (wgt * tv * tv).sum() + 1e-9))


def pairs(doc, n_pairs, k_caps, out=48):
    split_of = {n: sp for sp in ("train", "select", "novel") for n in doc[sp]}
    allp = [(sp, a, b) for sp, ps in doc["pairs"].items() for a, b in ps]
    for sp, a, b in allp:
        check(split_of[a] == split_of[b] == sp, "pair %s / %s split apart" % (a, b))
        check(signs2.spec(a).get("mirror_of") == b and signs2.spec(b).get("mirror_of") == a, "pair %s not linked" % a)
    # every pair: the twins' contents differ (as drawn, and in the clean 48 px design)
    worst_sim, worst_diff = 0.0, 10 ** 9
    for sp, a, b in allp:
        ma, mb = signs2.content_mask(a), signs2.content_mask(b)
        sim = float(glyphs.similarity(ma[None], mb[None])[0, 0])
        # pixels of the clean out-px designs that differ by a quarter of the grey range
        diff = int((np.abs(_gray(signs2.clean(a, out)) - _gray(signs2.clean(b, out))) > 64).sum())
        # glyphs.SYMMETRIC is judged on the glyph's own box; allow for the content box's margin
        check(sim < glyphs.SYMMETRIC + 0.04, "pair %s / %s: contents nearly the same (%.2f)" % (a, b, sim))
        check(diff >= 10, "pair %s / %s: clean designs differ in only %d pixels" % (a, b, diff))
        worst_sim, worst_diff = max(worst_sim, sim), min(worst_diff, diff)
    print("pairs: %d; most similar twins: content similarity %.2f (< %.2f); fewest differing pixels at %d px: %d"
          % (len(allp), worst_sim, glyphs.SYMMETRIC + 0.04, out, worst_diff))
    # captures: own design vs twin's, sampled pairs of every split
    rng = np.random.default_rng(5)
    pick = [allp[i] for i in sorted(rng.choice(len(allp), min(n_pairs, len(allp)), replace=False))]
    ok_pose = ok_flat = tot = 0
    fails = []
    max_rot = 0.0
    caps = []
    for sp, a, b in pick:
        for who, twin in ((a, b), (b, a)):
            for k in range(k_caps):
                geo = {}
                x = signs2.render_sample(who, signs2.STREAM_CHECK, k, out, geometry=geo)
                max_rot = max(max_rot, abs(geo["rot_deg"]))
                g = _gray(x)
                for with_pose in (True, False):
                    ta, wa = _placed(who, geo, out, with_pose)
                    tb, wb = _placed(twin, geo, out, with_pose)
                    wgt = np.maximum(wa, wb)
                    good = _ncc(g, ta, wgt) > _ncc(g, tb, wgt)
                    if with_pose:
                        ok_pose += good
                    else:
                        ok_flat += good
                        if not good:
                            fails.append((who, k))
                tot += 1
                if len(caps) < 256:
                    caps.append(x)
    check(max_rot <= signs2.ROT_CAP + 1e-9, "rotation %.2f exceeds the cap" % max_rot)
    r_pose, r_flat = ok_pose / tot, ok_flat / tot
    print("captures of %d twins x %d: closer to own design than to the mirror: %.3f with the capture's pose, "
          "%.3f unrotated (max |rotation| %.1f deg, cap %.0f)" % (2 * len(pick), k_caps, r_pose, r_flat, max_rot,
                                                                  signs2.ROT_CAP))
    if fails:
        print("  unrotated misses (information lost to blur/occlusion/low light):", fails[:8])
    # thresholds sit below the measured rates with margin; a flip or a large rotation in the capture
    # model drops them to about 0.5
    check(r_pose >= 0.9 and r_flat >= 0.85, "captures too often closer to the mirror design")
    return np.stack(caps)


def _best_shift_ncc(y, x, r=4):
    """Highest correlation of y's interior with x shifted by up to r px (y: C x H x W arrays)."""
    h = y.shape[1]
    yi = y[:, r:h - r, r:h - r]
    best = -1.0
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            xi = x[:, r + dy:h - r + dy, r + dx:h - r + dx]
            a, b = yi - yi.mean(), xi - xi.mean()
            best = max(best, float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-9)))
    return best


def augment_never_flips(caps):
    """train.augment only shifts, rescales intensity and cuts out: each output must match its own input
    (at the best shift) better than the input's mirror image, or the augmentation flipped or rotated it."""
    try:
        import torch
        import train
    except ImportError:
        print("augment check skipped: no torch")
        return
    g = torch.Generator().manual_seed(3)
    x = train.to_input(torch.from_numpy(caps))
    y = train.augment(x, g, caps.shape[1]).numpy()
    x = x.numpy()
    own = np.array([_best_shift_ncc(y[i], x[i]) for i in range(len(x))])
    mir = np.array([_best_shift_ncc(y[i], x[i][:, :, ::-1]) for i in range(len(x))])
    rate = float((own > mir).mean())
    print("train.augment: %d captures closer to themselves than to their mirror image (best shift): %.3f, "
          "median correlation %.3f vs %.3f" % (len(x), rate, np.median(own), np.median(mir)))
    check(rate >= 0.99, "augmentation maps captures towards their mirror images")
    # control: the same measure on deliberately flipped outputs must fail, or the check proves nothing
    yf = y[:, :, :, ::-1]
    ctl = float(np.mean([_best_shift_ncc(yf[i], x[i]) > _best_shift_ncc(yf[i], x[i][:, :, ::-1]) for i in range(len(x))]))
    check(ctl <= 0.1, "flip control not detected (%.2f)" % ctl)


def held_out(doc):
    H = doc["held_out_source"]
    check(H == glyphs.HELD_OUT_SOURCE, "held-out source differs from glyphs.py")
    specs = {c["name"]: c for c in doc["classes"]}
    src = {g: v["source"] for g, v in doc["glyphs"].items()}
    used = {"train": set(), "select": set(), "novel": set()}
    for sp in used:
        for n in doc[sp]:
            used[sp] |= set(signs2.class_glyphs(specs[n]))
    for sp in ("train", "select"):
        bad = [g for g in used[sp] if src[g] == H]
        check(not bad, "held-out glyphs in %s: %s" % (sp, bad[:5]))
    role = {g: v["role"] for g, v in doc["glyphs"].items()}
    for sp, allowed in (("train", {"train"}), ("select", {"train", "select"}), ("novel", {"train", "novel", "cross"})):
        bad = [g for g in used[sp] if role[g] not in allowed]
        check(not bad, "%s classes use glyphs kept for another split: %s" % (sp, bad[:5]))
    held = [g for g in used["novel"] if src[g] == H]
    check(held, "no cross-source classes")
    cross = [n for n in doc["novel"] if doc["novel_reason"][n] == "cross-source"]
    check(all({src[g] for g in signs2.class_glyphs(specs[n])} == {H} for n in cross), "cross-source class without held-out glyph")
    b = lambda gs: np.stack([glyphs.soft(glyphs.mask(g)) for g in gs])
    tr = sorted(used["train"] | used["select"])
    hb, tb = b(held), b(tr)
    sim = np.maximum(glyphs.similarity(hb, tb), glyphs.similarity(hb, tb[:, :, ::-1]))
    check(sim.max() <= glyphs.HELD_DUP + 1e-6, "a held-out glyph nearly copies a trained one (%.2f)" % sim.max())
    # the recorded masks are the ones rendered now
    bad = [g for g in list(doc["glyphs"])[::7] if glyphs.mask_crc(glyphs.mask(g)) != doc["glyphs"][g]["mask_crc"]]
    check(not bad, "glyph masks differ from split2.json (font package changed?): %s" % bad[:5])
    print("held out: %s, %d glyphs in %d novel classes, none in train/select; closest to a trained glyph: %.2f (<= %.2f)"
          % (H, len(held), len(cross), sim.max(), glyphs.HELD_DUP))


# Known traffic-sign glyphs: each must be denied (code point, names).
DENY_VECTORS = [
    (0x26D4, ["NO ENTRY"]), (0x1F6AB, ["NO ENTRY SIGN"]), (0x1F6B8, ["CHILDREN CROSSING"]), (0x26A0, ["WARNING SIGN"]),
    (0x1F6D1, ["OCTAGONAL SIGN"]), (0x1F6A5, ["HORIZONTAL TRAFFIC LIGHT"]), (0x1F6B3, ["NO BICYCLES"]),
    (0x26D5, ["ALTERNATE ONE-WAY LEFT WAY TRAFFIC"]), (0x26DA, ["DRIVE SLOW SIGN"]), (0x1F6A7, ["CONSTRUCTION SIGN"]),
    (None, ["traffic"]), (None, ["warning"]), (None, ["do_not_disturb_on"]), (None, ["remove_circle"]),
    (None, ["road"]), (None, ["ban"]), (None, ["exclamation-triangle"]), (None, ["minus-circle"]),
    (None, ["map-signs"]), (None, ["turn_left"]), (None, ["u_turn_right"]), (None, ["roundabout_left"]),
    (None, ["no_transfer"]), (None, ["dialog-warning-symbolic"]), (None, ["action-unavailable-symbolic"]),
    (None, ["process-stop-symbolic"]), (None, ["signpost"]), (None, ["local_parking"]), (None, ["dangerous"]),
]
# The only Debian packages a pictogram may come from: general icon and symbol
# sets, reviewed one by one. A source outside this list fails the check, so a
# package of sign artwork cannot slip in by being added to glyphs.SOURCES.
ALLOWED_PACKAGES = ("fonts-material-design-icons-iconfont", "fonts-font-awesome", "fonts-glyphicons-halflings",
                    "adwaita-icon-theme", "fonts-noto-core", "fonts-symbola", "fonts-dejavu-core", "fonts-entypo")


def deny():
    for cp, names in DENY_VECTORS:
        check(glyphs.deny_reason(cp, names), "deny filter passes %s %s" % (cp, names))
    for pkg in {s[1] for s in glyphs.SOURCES}:
        check(pkg in ALLOWED_PACKAGES, "source package %s is not on the reviewed list" % pkg)
    meta = glyphs.atlas()[0]
    bad = [c["id"] for c in meta if glyphs.deny_reason(c["cp"], c["names"])]
    check(not bad, "accepted glyphs the deny filter rejects: %s" % bad[:5])
    # the filter did see traffic-sign glyphs in the sources (it is not vacuous)
    cands = glyphs.candidates()
    hit = [c["id"] for c in cands if c["cp"] in (0x26D4, 0x1F6AB, 0x26A0) or c["name"] in ("traffic", "road", "warning")]
    check(hit and all(glyphs.deny_reason(c["cp"], c["names"]) for c in cands if c["id"] in hit),
          "deny filter test vectors are not in the sources")
    n_den = sum(1 for c in cands if glyphs.deny_reason(c["cp"], c["names"]))
    print("deny filter: %d of %d candidates rejected, incl. %s; all %d test vectors rejected"
          % (n_den, len(cands), ", ".join(hit[:6]), len(DENY_VECTORS)))


def sheet(doc, path):
    specs = {c["name"]: c for c in doc["classes"]}
    rng = np.random.default_rng(11)
    byfam = collections.defaultdict(list)
    for n in doc["train"]:
        byfam[specs[n]["family"]].append(n)
    names = []
    for f in sorted(byfam):
        v = byfam[f]
        names += [v[i] for i in sorted(rng.choice(len(v), min(2 if f != "glyph" else 6, len(v)), replace=False))]
    for sp in ("train", "novel"):   # mirrored pairs: twin below twin
        ps = doc["pairs"][sp]
        for i in sorted(rng.choice(len(ps), 3, replace=False)):
            names += ps[i]
    for r in sorted(set(doc["novel_reason"].values())):
        v = [n for n in doc["novel"] if doc["novel_reason"][n] == r and not specs[n].get("mirror_of")] or \
            [n for n in doc["novel"] if doc["novel_reason"][n] == r]
        names += [v[i] for i in sorted(rng.choice(len(v), 1, replace=False))]
    im = signs2.contact_sheet(names, per_class=4, stream=signs2.STREAM_SHEET, cols_of_classes=3)
    # palette PNG: it is for looking at, not for measuring
    im.quantize(192).save(path, optimize=True)
    kb = os.path.getsize(path) / 1024
    check(kb <= 300, "contact sheet is %.0f KB" % kb)
    print("contact sheet: %s, %d classes, %.0f KB" % (os.path.basename(path), len(names), kb))


def speed(doc, n):
    names = doc["train"][::max(1, len(doc["train"]) // 50)][:50]
    for out in signs2.SIZES:
        signs2.template.cache_clear()
        t = time.process_time()
        for m in names:
            signs2.template(m)
        tt = (time.process_time() - t) / len(names)
        t = time.process_time()
        for i in range(n):
            signs2.render_sample(names[i % len(names)], signs2.STREAM_TRAIN, i, out)
        dt = (time.process_time() - t) / n
        print("speed (CPU time, one core) out=%d: %.1f ms/sample = %.0f samples/s; template %.1f ms once per class"
              % (out, dt * 1e3, 1 / dt, tt * 1e3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=120, help="mirrored pairs to capture")
    ap.add_argument("--captures", type=int, default=4, help="captures per twin")
    ap.add_argument("--sheet", action="store_true")
    ap.add_argument("--speed", type=int, default=0)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: deny,held,determinism,pairs")
    a = ap.parse_args()
    skip = set(a.skip.split(","))
    doc = signs2.load_split()
    counts(doc)
    if "deny" not in skip:
        deny()
    if "held" not in skip:
        held_out(doc)
    if "determinism" not in skip:
        determinism(doc)
    if "pairs" not in skip:
        caps = pairs(doc, a.pairs, a.captures)
        augment_never_flips(caps)
    if a.sheet:
        sheet(doc, os.path.join(HERE, "contact_sheet2.png"))
    if a.speed:
        speed(doc, a.speed)
    print("all checks passed" + (" (skipped: %s)" % a.skip if a.skip else ""))


if __name__ == "__main__":
    main()
