"""Writes contact_sheet.png: one row per class, the clean design then captured samples.

    python3 tools/train/contact_sheet.py
"""

import json
import os

import signs

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    split = json.load(open(os.path.join(HERE, "split.json")))
    # a spread of base classes and the kinds of hard novel case
    names = split["train"][::17] + [n for n in split["novel"] if any(
        s in n for s in ("num-90", "num-110", "picto-horse", "picto-airplane", "circle-white-green", "octagon-white-blue"))][:6]
    # palette PNG keeps the committed sheet small; it is for looking at, not for measuring
    sheet = signs.contact_sheet(names, per_class=7).quantize(256)
    sheet.save(os.path.join(HERE, "contact_sheet.png"), optimize=True)
    print("\n".join(names))


if __name__ == "__main__":
    main()
