"""Writes split2.json: the v2 classes (signs2.py), their split, and where every pictogram comes from.

    /usr/bin/python3 tools/train/make_split2.py

Layout: "classes" (every design spec, in order), "train" / "select" / "novel"
(class names), "novel_reason" (why each benchmark class is novel), "pairs"
(mirrored pairs per split: both twins are in the same split, and the
benchmark enrols them in the same episode), "glyphs" (every pictogram used:
package, font or SVG file, code point, name, role), "packages" (the Debian
versions rendered), "held_out_source", "filters" (deny / legibility /
duplicate counts per source) and "counts".
"""

import collections
import json
import os

import glyphs
import signs2


def summary(doc):
    fam = {sp: collections.Counter() for sp in ("train", "select", "novel")}
    src = {sp: collections.Counter() for sp in ("train", "select", "novel")}
    specs = {c["name"]: c for c in doc["classes"]}
    gsrc = {g: v["source"] for g, v in doc["glyphs"].items()}
    for sp in fam:
        for n in doc[sp]:
            c = specs[n]
            fam[sp][c["family"] + "/" + c["frame"]] += 1
            for s in sorted({gsrc[g] for g in signs2.class_glyphs(c)}) or ["procedural"]:
                src[sp][s] += 1
    return {"classes": {sp: len(doc[sp]) for sp in fam},
            "pairs": {sp: len(v) for sp, v in doc["pairs"].items()},
            "novel_reason": dict(collections.Counter(doc["novel_reason"].values())),
            "family": {sp: dict(sorted(v.items())) for sp, v in fam.items()},
            "glyph_source": {sp: dict(sorted(v.items())) for sp, v in src.items()}}


def main():
    meta, masks, report = glyphs.atlas()
    b = signs2.build()
    used = sorted({g for c in b["classes"] for g in signs2.class_glyphs(c)})
    gm = {c["id"]: (c, masks[i]) for i, c in enumerate(meta)}
    table = {}
    for g in used:
        c, m = gm[g]
        table[g] = {"source": c["source"], "package": c["package"], "file": c["file"],
                    "codepoint": None if c["cp"] is None else "U+%04X" % c["cp"], "name": c["name"],
                    "role": b["roles"][g], "symmetric": c["symmetric"],
                    "mask_crc": glyphs.mask_crc(m)}
    doc = {
        "comment": "Class split of the v2 procedural sign set (tools/train/signs2.py). train: classes the encoder "
                   "trains on; select: held out of training for model selection; novel: the benchmark only, with the "
                   "reason. Pictograms of the held_out_source package appear in novel classes only.",
        "version": 2,
        "held_out_source": glyphs.HELD_OUT_SOURCE,
        "rot_cap_deg": signs2.ROT_CAP,
        "packages": glyphs.package_versions(),
        "filters": {k: report[k] for k in ("candidates", "denied", "illegible", "duplicate", "kept")},
        "num_classes": len(b["classes"]),
        "train": b["split"]["train"],
        "select": b["split"]["select"],
        "novel": b["split"]["novel"],
        "novel_reason": b["novel_reason"],
        "pairs": b["pairs"],
        "glyphs": table,
        "classes": b["classes"],
    }
    doc["counts"] = summary(doc)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "split2.json")
    with open(path, "w", encoding="utf-8") as f:
        # one class / glyph per line: readable diffs, modest size
        f.write("{\n")
        keys = list(doc)
        for i, k in enumerate(keys):
            v = doc[k]
            end = ",\n" if i < len(keys) - 1 else "\n"
            if k in ("classes",):
                f.write(' "%s": [\n' % k + ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in v) + "\n ]" + end)
            elif k in ("glyphs", "novel_reason"):
                f.write(' "%s": {\n' % k + ",\n".join("  %s: %s" % (json.dumps(g), json.dumps(x, ensure_ascii=False))
                                                     for g, x in v.items()) + "\n }" + end)
            else:
                f.write(' "%s": %s%s' % (k, json.dumps(v, ensure_ascii=False), end))
        f.write("}\n")
    json.load(open(path, encoding="utf-8"))
    print(json.dumps(doc["counts"], indent=1))


if __name__ == "__main__":
    main()
