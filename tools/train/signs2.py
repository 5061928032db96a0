"""Procedural sign generator v2: thousands of designs from packaged icon and symbol sets.

A class is a frame (the families real signs come in: red-rim prohibition,
blue mandatory disc, warning triangle, rimless white pictogram, information
square, supplementary plate, end-of bars) and content: one or two pictograms
from glyphs.py, a mirror image of one, a procedural circular or straight
arrow, or short text (numbers with units, words).  Asymmetric content comes as
a mirrored pair of distinct classes; nothing in the capture model flips
content, and in-plane rotation is capped at ROT_CAP degrees (the nearest two
arrow classes are 45 degrees apart, a mirror image is never a rotation of
under 90 degrees of an asymmetric glyph).

The class list and split are computed by build() and written to split2.json by
make_split2.py; rendering reads the specs back from split2.json, so the
classes stay what the split file says.  A sample depends only on
(stream, class name, k): training, selection and benchmark streams never
share a seed, and the v2 key differs from v1's.

The capture model is v1's (signs.capture) with the rotation cap.
"""

import json
import math
import os
import zlib
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

import glyphs
import signs as v1

HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT2 = os.path.join(HERE, "split2.json")
CANON = 160
SUPER = 4
SIZES = (48, 64)      # supported output sides; the capture canvas is twice the side
ROT_CAP = 10.0        # degrees; v1 draws N(0, 6) unclipped
KEY_V2 = 2            # part of every v2 sample's seed, so v2 never repeats a v1 sample

STREAM_TRAIN, STREAM_SELECT, STREAM_BENCH_NOVEL, STREAM_BENCH_BASE, STREAM_SHEET = 1, 2, 3, 4, 5
STREAM_CHECK = 6

COLORS = v1.COLORS

# frame name -> shape, fill, border, rim, content colour
FRAMES = {
    "prohib": ("circle", "white", "red", None, "black"),
    "prohib_slash": ("circle", "white", "red", None, "black"),      # + red slash over the content
    "mandatory": ("circle", "blue", None, "white", "white"),
    "warning": ("tri_up", "white", "red", "white", "black"),
    "warning_y": ("tri_up", "yellow", "red", "white", "black"),
    "diamond": ("diamond", "yellow", "black", "yellow", "black"),
    "plain": ("square", "white", None, None, "black"),              # pictogram on white, no rim
    "info_blue": ("square", "blue", None, "white", "white"),
    "info_green": ("square", "green", None, "white", "white"),
    "info_brown": ("square", "brown", None, "white", "white"),
    "endof": ("circle", "white", "gray", None, "gray"),              # + diagonal end-of bars
    "plain_endof": ("square", "white", "gray", None, "gray"),       # + diagonal end-of bars
    "plate": ("rect", "white", "black", None, "black"),
    "plate_yellow": ("rect", "yellow", "black", None, "black"),
    "plate_blue": ("rect", "blue", None, "white", "white"),
    "plate_green": ("rect", "green", None, "white", "white"),
    "plate_brown": ("rect", "brown", None, "white", "white"),
    # shape/colour combinations that only the novel benchmark uses
    "u_green_disc": ("circle", "green", None, "white", "white"),
    "u_brown_diamond": ("diamond", "brown", "white", "brown", "white"),
    "u_blue_octagon": ("octagon", "blue", None, "white", "white"),
    "u_orange_square": ("square", "orange", "black", "orange", "black"),
    "u_blue_triangle": ("tri_up", "white", "blue", "white", "black"),
    "u_yellow_disc": ("circle", "yellow", "red", None, "black"),
}
UNSEEN_FRAMES = tuple(f for f in FRAMES if f.startswith("u_"))
SLASH_FRAMES = {"prohib_slash"}
ENDOF_FRAMES = {"endof", "plain_endof"}

# Single-pictogram frames and their weights when a glyph is given a frame.
GLYPH_FRAMES = [("prohib", 0.17), ("prohib_slash", 0.08), ("mandatory", 0.15), ("warning", 0.16),
                ("warning_y", 0.04), ("diamond", 0.04), ("plain", 0.14), ("info_blue", 0.09),
                ("info_green", 0.04), ("info_brown", 0.03), ("endof", 0.03), ("plain_endof", 0.03)]

# Glyph roles: a glyph is trained on, or kept for selection, or for the benchmark only.
ROLE_NOVEL, ROLE_SELECT = 0.04, 0.04
SECOND_FRAME = 0.25   # share of glyphs that get a second frame (a second class)

SPEEDS = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 90, 100, 110, 120, 130]
NOVEL_SPEEDS = {35, 65, 90, 110, 15}     # as v1: numbers that never train
SELECT_SPEEDS = {45, 75}

# Limit values with units; the held-out ones never train.
LIMITS = {
    "height": ["2 m", "2.2 m", "2.5 m", "2.8 m", "3 m", "3.2 m", "3.5 m", "3.8 m", "4 m", "4.2 m", "4.5 m"],
    "width": ["1.8 m", "2 m", "2.2 m", "2.3 m", "2.5 m", "2.8 m", "3 m"],
    "weight": ["2 t", "3.5 t", "5 t", "6 t", "7.5 t", "10 t", "12 t", "16 t", "20 t", "26 t", "30 t", "40 t"],
    "length": ["6 m", "8 m", "10 m", "12 m", "15 m", "18 m"],
}
NOVEL_LIMITS = {("height", "3.8 m"), ("height", "2.2 m"), ("width", "2.3 m"), ("weight", "6 t"), ("weight", "26 t"),
                ("length", "8 m")}
SELECT_LIMITS = {("height", "4.2 m"), ("weight", "16 t"), ("width", "1.8 m")}

PLATE_TEXTS = (["50 m", "100 m", "150 m", "200 m", "250 m", "300 m", "400 m", "500 m", "600 m", "800 m", "1 km",
                "1.5 km", "2 km", "3 km", "5 km", "10 km", "3.5 m", "7.5 t", "12 m", "2.8 m", "5.5 t", "18 m",
                "1 h", "2 h", "3 h", "30 min", "15 min", "8-18 h", "9-17 h", "6-22 h", "10 %", "12 %", "8 %",
                "EXIT", "ZONE", "BUS", "TAXI", "END", "ENDE", "FIN", "KEEP", "LEFT", "RIGHT", "HOTEL", "INFO",
                "DIESEL", "LPG", "EV", "WC", "TOLL", "PAY", "POLICE", "FERRY", "PORT", "CITY", "CENTRE", "ALL",
                "LOCAL", "TRUCKS", "ICE", "FOG", "MO-FR", "SA", "SO", "TÄGLICH", "ZONA", "SORTIE", "SALIDA"])
NOVEL_PLATE_TEXTS = {"700 m", "4 km", "2.5 h", "6.5 t", "CAMPING", "AUSFAHRT", "SCHOOL"}
SELECT_PLATE_TEXTS = {"350 m", "20 km", "4 h", "TRAM"}
TEXT_PLATES = ("plate", "plate_yellow", "plate_blue", "plate_green")

# Procedural circular arrows: heads, stroke width, gap, start angle.  cw is drawn; ccw is its mirror.
CIRC_DESIGNS = [(n, w, gap, start) for n in (1, 2, 3) for w in (0.2, 0.3) for gap in ("wide", "narrow")
                for start in (0, 90)]
NOVEL_CIRC = {(2, 0.3, "narrow", 90), (1, 0.2, "wide", 90)}
SELECT_CIRC = {(3, 0.2, "narrow", 0)}
CIRC_FRAMES = ("mandatory", "info_blue", "plain", "prohib_slash")

ARROW_ANGLES = tuple(range(0, 360, 45))
ARROW_FRAMES = ("mandatory", "info_blue", "plate_green", "plain")

N_COMBOS_TRAIN, N_COMBOS_SELECT, N_COMBOS_NOVEL = 360, 30, 30
COMBO_FRAMES = ("prohib", "plate_blue", "plain", "info_blue", "plate")
N_GLYPH_TEXT = 180
N_UNSEEN_COMBO = 40
N_RANDOM_NOVEL, N_RANDOM_SELECT = 30, 60


def _h(s):
    return glyphs._hash01("signs2:" + s)


def _pick(weighted, u):
    tot = sum(w for _, w in weighted)
    acc = 0.0
    for k, w in weighted:
        acc += w / tot
        if u < acc:
            return k
    return weighted[-1][0]


def glyph_role(c):
    if c["source"] == glyphs.HELD_OUT_SOURCE:
        return "cross"
    u = _h("role:" + c["id"])
    return "novel" if u < ROLE_NOVEL else "select" if u < ROLE_NOVEL + ROLE_SELECT else "train"


def _gtag(gid):
    return gid.replace(":", ".").replace("/", ".")


# ---------------------------------------------------------------------------
# Class enumeration and split
# ---------------------------------------------------------------------------

def _cls(name, frame, items, family, glyph_ids=(), mirror_of=None):
    c = {"name": name, "frame": frame, "family": family, "items": items}
    if mirror_of:
        c["mirror_of"] = mirror_of
    return c


def class_glyphs(c):
    """Glyph ids a class spec draws."""
    return sorted({it["gid"] for it in c["items"] if it["kind"] == "glyph"})


def _glyph_classes(gid, sym, frame, family="glyph"):
    """The class of glyph gid in frame, and its mirror twin if the glyph is asymmetric."""
    base = "%s-%s" % (frame, _gtag(gid))
    a = _cls(base, frame, [{"kind": "glyph", "gid": gid, "mirror": False}], family)
    if sym:
        return [a]
    b = _cls(base + "-mirror", frame, [{"kind": "glyph", "gid": gid, "mirror": True}], family, mirror_of=base)
    a["mirror_of"] = b["name"]
    return [a, b]


def build():
    """Every class and the split. Returns a dict (see make_split2.py for the file layout)."""
    meta = glyphs.atlas()[0]
    roles = {c["id"]: glyph_role(c) for c in meta}
    sym = {c["id"]: bool(c["symmetric"]) for c in meta}
    groups = []     # (split or None = decide later, reason, [classes]); a group is a class or a mirrored pair

    def add(split, reason, cl):
        groups.append([split, reason, cl])

    role_split = {"train": None, "select": "select", "novel": "novel", "cross": "novel"}
    by_role = {r: [c["id"] for c in meta if roles[c["id"]] == r] for r in ("train", "select", "novel", "cross")}
    # 1. single pictograms in their frame(s)
    for c in meta:
        gid = c["id"]
        r = roles[gid]
        frames = [_pick(GLYPH_FRAMES, _h("frame:" + gid))]
        if _h("second:" + gid) < SECOND_FRAME:
            rest = [(f, w) for f, w in GLYPH_FRAMES if f != frames[0]]
            frames.append(_pick(rest, _h("frame2:" + gid)))
        for f in frames:
            cl = _glyph_classes(gid, sym[gid], f)
            if r == "cross":
                reason = "cross-source"
            elif r == "novel":
                reason = "mirrored pair" if len(cl) == 2 else "unseen pictogram"
            else:
                reason = None
            add(role_split[r], reason, cl)
    # 2. seen pictograms in shape/colour combinations that never train
    tg = sorted(by_role["train"], key=lambda g: _h("unseen:" + g))[:N_UNSEEN_COMBO]
    for i, gid in enumerate(tg):
        f = UNSEEN_FRAMES[i % len(UNSEEN_FRAMES)]
        for c in _glyph_classes(gid, True, f):
            add("novel", "unseen shape/colour combination", [c])
    # 3. two pictograms on one sign
    def combos(pool, n, tag):
        pool = sorted(pool, key=lambda g: _h(tag + g))
        out = []
        for i in range(min(n, len(pool) // 2)):
            a, b = pool[2 * i], pool[2 * i + 1]
            f = COMBO_FRAMES[int(_h("cf:" + a + b) * len(COMBO_FRAMES))]
            out.append(_cls("%s-%s+%s" % (f, _gtag(a), _gtag(b)), f,
                            [{"kind": "glyph", "gid": a, "mirror": False}, {"kind": "glyph", "gid": b, "mirror": False}],
                            "combo"))
        return out
    for c in combos(by_role["train"], N_COMBOS_TRAIN, "combo:"):
        add(None, None, [c])
    for c in combos(by_role["select"], N_COMBOS_SELECT, "combo:"):
        add("select", None, [c])
    for c in combos(by_role["novel"], N_COMBOS_NOVEL, "combo:"):
        add("novel", "unseen pictogram", [c])
    # 4. a pictogram and a word or distance on an information plate
    pool = sorted(by_role["train"], key=lambda g: _h("gt:" + g))[:N_GLYPH_TEXT]
    for i, gid in enumerate(pool):
        t = PLATE_TEXTS[int(_h("gtt:" + gid) * len(PLATE_TEXTS))]
        f = ("plate_blue", "plate_green", "plate_brown", "plate")[i % 4]
        add(None, None, [_cls("%s-%s-text-%s" % (f, _gtag(gid), _ttag(t)), f,
                              [{"kind": "glyph", "gid": gid, "mirror": False}, {"kind": "text", "text": t}],
                              "glyph+text")])
    # 5. numbers: speed limits, minimum speeds, end of limit, zone plates
    for v in SPEEDS:
        sp = "novel" if v in NOVEL_SPEEDS else "select" if v in SELECT_SPEEDS else None
        rs = "number differs from trained speed limits" if sp == "novel" else None
        for f in ("prohib", "mandatory", "endof", "plate"):
            if f == "mandatory" and v > 80 or f == "endof" and v < 20:
                continue
            add(sp, rs, [_cls("%s-num-%d" % (f, v), f, [{"kind": "num", "text": str(v)}], "number")])
    # 6. limits with units (height/width marks, weights, lengths)
    for kind, vals in LIMITS.items():
        for t in vals:
            sp = "novel" if (kind, t) in NOVEL_LIMITS else "select" if (kind, t) in SELECT_LIMITS else None
            rs = "number differs from trained limits" if sp == "novel" else None
            add(sp, rs, [_cls("prohib-limit-%s-%s" % (kind, _ttag(t)), "prohib", [{"kind": "limit", "type": kind, "text": t}],
                              "limit")])
    # 7. supplementary plates with words and numbers
    for t in PLATE_TEXTS + sorted(NOVEL_PLATE_TEXTS) + sorted(SELECT_PLATE_TEXTS):
        sp = "novel" if t in NOVEL_PLATE_TEXTS else "select" if t in SELECT_PLATE_TEXTS else None
        rs = "unseen plate text" if sp == "novel" else None
        i0 = int(_h("pl0:" + t) * len(TEXT_PLATES))
        i1 = (i0 + 1 + int(_h("pl1:" + t) * (len(TEXT_PLATES) - 1))) % len(TEXT_PLATES)
        for j in ([i0, i1] if sp is None else [i0]):
            f = TEXT_PLATES[j]
            add(sp, rs, [_cls("%s-text-%s" % (f, _ttag(t)), f, [{"kind": "text", "text": t}], "plate")])
    # 8. circular arrows (cw and its mirror ccw) and straight arrows
    for d in CIRC_DESIGNS:
        sp = "novel" if d in NOVEL_CIRC else "select" if d in SELECT_CIRC else None
        for f in CIRC_FRAMES:
            if f != "mandatory" and _h("circf:%s:%s" % (d, f)) > 0.4:
                continue
            base = "%s-circ-%d-%s-%s-%d" % (f, d[0], str(d[1]).replace(".", "p"), d[2], d[3])
            it = {"kind": "circ", "n": d[0], "w": d[1], "gap": d[2], "start": d[3]}
            a = _cls(base + "-cw", f, [dict(it, mirror=False)], "circular arrow", mirror_of=base + "-ccw")
            b = _cls(base + "-ccw", f, [dict(it, mirror=True)], "circular arrow", mirror_of=base + "-cw")
            add(sp, "mirrored pair" if sp == "novel" else None, [a, b])
    for ang in ARROW_ANGLES:
        for f in ARROW_FRAMES:
            add(None, None, [_cls("%s-arrow-%d" % (f, ang), f, [{"kind": "arrow", "angle": ang}], "arrow")])
    # deduplicate names (a glyph drawn twice into one frame by a second-frame pick cannot happen, but be sure)
    seen = set()
    for g in groups:
        for c in g[2]:
            assert c["name"] not in seen, c["name"]
            seen.add(c["name"])
    # 9. random held-out designs: whole groups of the remaining training candidates
    rest = [i for i, g in enumerate(groups) if g[0] is None]
    order = sorted(rest, key=lambda i: _h("rand:" + groups[i][2][0]["name"]))
    for i in order[:N_RANDOM_NOVEL]:
        groups[i][0], groups[i][1] = "novel", "random held-out design"
    for i in order[N_RANDOM_NOVEL:N_RANDOM_NOVEL + N_RANDOM_SELECT]:
        groups[i][0] = "select"
    split = {"train": [], "select": [], "novel": []}
    reason, pairs = {}, {"train": [], "select": [], "novel": []}
    classes = []
    for sp, rs, cl in groups:
        sp = sp or "train"
        for c in cl:
            classes.append(c)
            split[sp].append(c["name"])
            if sp == "novel":
                reason[c["name"]] = rs
        if len(cl) == 2:
            pairs[sp].append([cl[0]["name"], cl[1]["name"]])
    return {"classes": classes, "split": split, "novel_reason": reason, "pairs": pairs, "roles": roles}


def _ttag(t):
    return t.replace(" ", "_").replace(".", "p").replace("%", "pct")


# ---------------------------------------------------------------------------
# Specs from the split file
# ---------------------------------------------------------------------------

@lru_cache(maxsize=4)
def load_split(path=SPLIT2):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=4)
def _specs(path=SPLIT2):
    return {c["name"]: c for c in load_split(path)["classes"]}


def spec(name, path=SPLIT2):
    return _specs(path)[name]


# ---------------------------------------------------------------------------
# Template rendering
# ---------------------------------------------------------------------------

def _glyph_layer(S, gid, mirror, cx, cy, half):
    """L layer with glyph gid fitted into the square of half-side `half` (sign units) centred at (cx, cy)."""
    m = glyphs.mask(gid, mirror)
    side = max(2, int(round(2 * half * S / 2)))
    g = Image.fromarray(np.ascontiguousarray(m)).resize((side, side), Image.BICUBIC)
    layer = Image.new("L", (S, S), 0)
    x, y = (1 + cx) * S / 2 - side / 2, (1 + cy) * S / 2 - side / 2
    layer.paste(g, (int(round(x)), int(round(y))))
    return layer


def _circ_layer(S, it, box):
    """Circular arrow(s), drawn clockwise (PIL angles run clockwise); the mirror image is counter-clockwise."""
    cx, cy, hs = box
    layer = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(layer)
    X, Y = (1 + cx) * S / 2, (1 + cy) * S / 2
    r = 0.62 * hs * S / 2
    w = it["w"] * hs * S / 2
    n = it["n"]
    seg = 360.0 / n
    gap = (0.38 if it["gap"] == "wide" else 0.22) * seg if n > 1 else (80 if it["gap"] == "wide" else 55)
    head_len = 48.0 / (1 + 0.25 * (n - 1))   # degrees the head covers
    for i in range(n):
        a0 = it["start"] - 90 + i * seg
        a1 = a0 + seg - gap
        d.arc([X - r - w / 2, Y - r - w / 2, X + r + w / 2, Y + r + w / 2], a0, a1 - head_len * 0.6, fill=255,
              width=max(1, int(round(w))))
        # arrow head at a1, pointing along the clockwise tangent
        ta = math.radians(a1 - head_len)
        tip = math.radians(a1)
        ro, ri = r + w * 1.25, r - w * 1.25
        pts = [(X + ro * math.cos(ta), Y + ro * math.sin(ta)), (X + r * math.cos(tip), Y + r * math.sin(tip)),
               (X + ri * math.cos(ta), Y + ri * math.sin(ta))]
        d.polygon(pts, fill=255)
    if it.get("mirror"):
        layer = layer.transpose(Image.FLIP_LEFT_RIGHT)   # content boxes are centred on x = 0
    return layer


def _text_layer(S, text, cx, cy, w, h):
    layer = Image.new("L", (S, S), 0)
    v1._Painter(ImageDraw.Draw(layer), S, (cx, cy, 1.0), 255, 0).text(text, box_w=w, box_h=h)
    return layer


def _limit_layer(S, it, box):
    cx, cy, hs = box
    kind = it["type"]
    layer = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(layer)
    P = lambda x, y: ((1 + cx + x * hs) * S / 2, (1 + cy + y * hs) * S / 2)
    tw, th = (1.55, 0.7) if kind in ("height", "width") else (1.7, 0.8)
    if kind == "width":
        tw = 1.2
    t = _text_layer(S, it["text"].replace(" ", ""), cx, cy + (-0.12 * hs if kind == "length" else 0), tw * hs, th * hs)
    layer.paste(255, (0, 0), t)
    if kind == "height":
        for s_ in (-1, 1):
            d.polygon([P(-0.3, s_ * 0.95), P(0.3, s_ * 0.95), P(0, s_ * 0.62)], fill=255)
    elif kind == "width":
        for s_ in (-1, 1):
            d.polygon([P(s_ * 0.98, -0.3), P(s_ * 0.98, 0.3), P(s_ * 0.68, 0)], fill=255)
    elif kind == "length":
        y = 0.55
        d.line([P(-0.6, y), P(0.6, y)], fill=255, width=max(1, int(0.09 * hs * S / 2)))
        for s_ in (-1, 1):
            d.polygon([P(s_ * 0.85, y), P(s_ * 0.55, y - 0.17), P(s_ * 0.55, y + 0.17)], fill=255)
    return layer


def _content_layers(S, s, box):
    """(layer, colour or None) pairs for the class's content; None = the frame's content colour."""
    cx, cy, hs = box
    items = s["items"]
    shape = FRAMES[s["frame"]][0]
    out = []
    kinds = [it["kind"] for it in items]
    if kinds == ["glyph"]:
        it = items[0]
        out.append(_glyph_layer(S, it["gid"], it["mirror"], cx, cy, 0.9 * hs))
    elif kinds == ["glyph", "glyph"]:
        if shape == "circle":   # stacked, as on combined prohibitions
            pos = [(cx, cy - 0.44 * hs), (cx, cy + 0.44 * hs)]
            half = 0.42 * hs
        elif shape == "rect":
            pos = [(cx - 0.5, cy), (cx + 0.5, cy)]
            half = 0.4
        else:
            pos = [(cx - 0.47 * hs, cy), (cx + 0.47 * hs, cy)]
            half = 0.44 * hs
        for it, (x, y) in zip(items, pos):
            out.append(_glyph_layer(S, it["gid"], it["mirror"], x, y, half))
    elif kinds == ["glyph", "text"]:
        g, t = items
        if shape == "rect":
            out.append(_glyph_layer(S, g["gid"], g["mirror"], -0.58, 0, 0.38))
            out.append(_text_layer(S, t["text"], 0.3, 0, 1.15, 0.55))
        else:
            out.append(_glyph_layer(S, g["gid"], g["mirror"], cx, cy - 0.3 * hs, 0.62 * hs))
            out.append(_text_layer(S, t["text"], cx, cy + 0.68 * hs, 1.6 * hs, 0.5 * hs))
    elif kinds == ["num"]:
        t = items[0]["text"]
        if shape == "rect":
            out.append(_text_layer(S, t, cx, cy, 1.3, 0.85))
        else:
            out.append(_text_layer(S, t, cx, cy, (1.55 if len(t) < 3 else 1.85) * hs, 1.1 * hs))
    elif kinds == ["text"]:
        t = items[0]["text"]
        if shape == "rect":
            out.append(_text_layer(S, t, cx, cy, 1.75, 0.75 if len(t) <= 5 else 0.62))
        else:
            out.append(_text_layer(S, t, cx, cy, 1.9 * hs, 0.9 * hs))
    elif kinds == ["limit"]:
        out.append(_limit_layer(S, items[0], box))
    elif kinds == ["circ"]:
        out.append(_circ_layer(S, items[0], box))
    elif kinds == ["arrow"]:
        layer = Image.new("L", (S, S), 0)
        p = v1._Painter(ImageDraw.Draw(layer), S, box, 255, 0)
        for prim in v1._arrow(items[0]["angle"]):
            p.prim(prim)
        out.append(layer)
    else:
        raise ValueError("unknown content %r in %s" % (kinds, s["name"]))
    return out


_BORDER_SCALE = {"circle": 0.8, "tri_up": 0.74, "tri_down": 0.74, "octagon": 0.86, "diamond": 0.86, "square": 0.9,
                 "rect": 0.93}
_V2_BOX = {"rect": (0, 0, 0.5), "square": (0, 0, 0.66), "circle": (0, 0, 0.58)}


def _template_of(s):
    shape, fill, border, rim, ccol = FRAMES[s["frame"]]
    S = CANON * SUPER
    outer = COLORS[rim or border or fill]
    img = Image.new("RGB", (S, S), outer)
    mask = Image.new("L", (S, S), 0)
    v1._draw_shape(ImageDraw.Draw(mask), shape, S, 1.0, 255)
    d = ImageDraw.Draw(img)
    sc = 1.0
    if rim:
        sc = 0.95 if shape != "rect" else 0.97
    if border:
        v1._draw_shape(d, shape, S, sc, COLORS[border])
        sc *= _BORDER_SCALE[shape]
        if border == "gray" or (shape == "rect" and border == "black"):
            sc = 0.93 if shape != "rect" else 0.975
    v1._draw_shape(d, shape, S, sc, COLORS[fill])
    box = _V2_BOX.get(shape, v1._CONTENT_BOX[shape])
    for layer in _content_layers(S, s, box):
        img.paste(COLORS[ccol], (0, 0, S, S), layer)
    if s["frame"] in SLASH_FRAMES:
        r, w = 0.8 * S / 2, int(0.14 * S / 2)
        a = math.radians(45)
        d.line([(S / 2 - r * math.cos(a), S / 2 - r * math.sin(a)), (S / 2 + r * math.cos(a), S / 2 + r * math.sin(a))],
               fill=COLORS["red"], width=w)
    if s["frame"] in ENDOF_FRAMES:
        r = (0.86 if shape == "circle" else 0.95) * S / 2
        for off in (-0.09, -0.03, 0.03, 0.09):
            o = off * S / 2 * 1.4
            d.line([(S / 2 + r * 0.707 + o, S / 2 - r * 0.707 + o), (S / 2 - r * 0.707 + o, S / 2 + r * 0.707 + o)],
                   fill=COLORS["black"], width=max(1, int(0.035 * S / 2)))
    base = Image.new("RGB", (S, S), outer)
    img = Image.composite(img, base, mask)
    img.putalpha(mask)
    return img.resize((CANON, CANON), Image.LANCZOS)


@lru_cache(maxsize=512)   # ~100 KB each; render jobs come class by class
def template(name, path=SPLIT2):
    """Anti-aliased RGBA template of class `name` (CANON x CANON, alpha = sign area)."""
    return _template_of(spec(name, path))


def content_mask(name, size=32, path=SPLIT2):
    """Soft size x size mask of the content's ink, as glyphs.soft (for symmetry and pair checks)."""
    s = spec(name, path)
    S = CANON * SUPER
    box = _V2_BOX.get(FRAMES[s["frame"]][0], v1._CONTENT_BOX[FRAMES[s["frame"]][0]])
    acc = Image.new("L", (S, S), 0)
    for layer in _content_layers(S, s, box):
        acc.paste(255, (0, 0), layer)
    # fitted to the ink's square, as glyphs.measures judges a glyph's symmetry
    fit = glyphs.fit_mask(np.asarray(acc))
    return glyphs.soft(fit[0], size) if fit else np.zeros((size, size), np.float32)


# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------

def seed_of(name, stream, k):
    return [KEY_V2, stream, zlib.crc32(name.encode()), k]


def render_sample(name, stream, k, out=48, path=SPLIT2, geometry=None):
    """One captured sample of class `name`: uint8 (out, out, 3). Deterministic in (stream, name, k)."""
    if out not in SIZES:
        raise ValueError("output side %d not in %s" % (out, SIZES))
    rng = np.random.default_rng(seed_of(name, stream, k))
    return v1.capture(template(name, path), rng, out=out, work=2 * out if out > 48 else v1.WORK, rot_cap=ROT_CAP,
                      geometry=geometry)


def clean(name, out=48, path=SPLIT2, bg=(200, 200, 200)):
    """The clean template at out x out over a flat background (uint8 RGB)."""
    t = template(name, path).resize((out, out), Image.LANCZOS)
    im = Image.new("RGB", (out, out), bg)
    im.paste(t, (0, 0), t)
    return np.asarray(im)


def contact_sheet(names, per_class=6, stream=STREAM_SHEET, out=48, path=SPLIT2, cols_of_classes=1):
    """Grid: per class the clean design then per_class captures; cols_of_classes class blocks side by side."""
    cols = per_class + 1
    rows = (len(names) + cols_of_classes - 1) // cols_of_classes
    sheet = Image.new("RGB", (cols * out * cols_of_classes + 4 * (cols_of_classes - 1), rows * out), (255, 255, 255))
    for i, nm in enumerate(names):
        r, cb = i // cols_of_classes, i % cols_of_classes
        x0 = cb * (cols * out + 4)
        sheet.paste(Image.fromarray(clean(nm, out, path)), (x0, r * out))
        for k in range(per_class):
            sheet.paste(Image.fromarray(render_sample(nm, stream, k, out, path)), (x0 + (k + 1) * out, r * out))
    return sheet
