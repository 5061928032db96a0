"""Writes split.json: which classes train the encoder, which select the model, which are novel."""

import json
import os

import signs


def main():
    sp = signs.make_split()
    cl = signs.all_classes()
    doc = {
        "comment": "Class split of the procedural sign set (tools/train/signs.py). train: base classes the encoder "
                   "is trained on; select: classes held out of training for model selection (few-shot validation); "
                   "novel: classes never seen in training or selection, used only by the committed benchmark.",
        "num_classes": len(cl),
        "train": sp["train"],
        "select": sp["select"],
        "novel": sp["novel"],
        "novel_reason": {n: sp["novel_reason"][n] for n in sp["novel"]},
        "specs": {c["name"]: {k: c[k] for k in ("shape", "fill", "border", "rim", "content", "ccolor", "endof", "slash")} for c in cl},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "split.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("train %d, select %d, novel %d of %d classes" % (len(sp["train"]), len(sp["select"]), len(sp["novel"]), len(cl)))


if __name__ == "__main__":
    main()
