"""Procedural traffic-sign generator for training and benchmarking signet's encoder.

Every class is a fixed design (shape, rim, border, fill, content, modifiers)
enumerated deterministically by all_classes(); a sample is that design drawn
at high resolution, anti-aliased down, and passed through a capture model
(pose, perspective, lighting, blur, noise, occlusion, clutter, JPEG, low
resolution).  A sample depends only on (stream, class index, sample index), so
any number of worker processes produce identical data in any order.

Fonts: DejaVu Sans (Debian package fonts-dejavu-core), looked up by name.
"""

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = 48          # side of the output crop
WORK = 96         # side of the capture canvas (2x OUT, downsampled at the end)
CANON = 160       # side of the cached anti-aliased class template
SUPER = 4         # supersampling factor when drawing the template

COLORS = {
    "red": (196, 30, 42),
    "blue": (18, 82, 168),
    "yellow": (250, 204, 22),
    "white": (244, 244, 240),
    "black": (22, 22, 24),
    "green": (0, 118, 72),
    "orange": (242, 128, 24),
    "brown": (116, 68, 36),
    "gray": (120, 120, 124),
}

# Sample streams: a sample's random state is keyed by (stream, class, index),
# so the training cache, model-selection data and the committed benchmark never
# share a seed.
STREAM_TRAIN = 1
STREAM_SELECT = 2
STREAM_BENCH_NOVEL = 3
STREAM_BENCH_BASE = 4
STREAM_SHEET = 5


# ---------------------------------------------------------------------------
# Pictograms: lists of primitives in a [-1, 1] box, y pointing down.
#   ("poly", pts) ("circ", cx, cy, r) ("ell", cx, cy, rx, ry)
#   ("line", pts, w) ("ring", cx, cy, r, w) ("rect", x0, y0, x1, y1)
#   ("arc", cx, cy, r, a0, a1, w)   degrees, clockwise from +x
# A trailing "cut" entry draws in the sign's fill colour (holes, windows);
# a trailing colour name overrides the content colour.
# ---------------------------------------------------------------------------

def _arrow(angle=0.0, length=1.6, w=0.3, head=0.95, cx=0.0, cy=0.0):
    """Straight arrow pointing at `angle` degrees (0 = up, clockwise)."""
    h = length / 2
    pts = [(-w / 2, h), (-w / 2, -h + head * 0.62), (-head / 2, -h + head * 0.62), (0, -h),
           (head / 2, -h + head * 0.62), (w / 2, -h + head * 0.62), (w / 2, h)]
    return [("poly", _rot(pts, angle, cx, cy))]


def _rot(pts, angle, cx=0.0, cy=0.0):
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    return [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts]


def _mirror(prims):
    out = []
    for p in prims:
        k = p[0]
        if k == "poly":
            out.append(("poly", [(-x, y) for x, y in p[1]]) + p[2:])
        elif k == "line":
            out.append(("line", [(-x, y) for x, y in p[1]], p[2]) + p[3:])
        elif k in ("circ", "ell", "ring"):
            out.append((k, -p[1]) + p[2:])
        elif k == "rect":
            out.append(("rect", -p[3], p[2], -p[1], p[4]) + p[5:])
        elif k == "arc":
            a0, a1 = 180 - p[5], 180 - p[4]
            out.append(("arc", -p[1], p[2], p[3], a0, a1, p[6]) + p[7:])
    return out


def _turn(w=0.3):
    # up, then bends left: shaft from bottom to middle, elbow, head pointing left
    return [("line", [(0.35, 0.85), (0.35, -0.2), (-0.2, -0.2)], w),
            ("poly", [(-0.2, -0.65), (-0.8, -0.2), (-0.2, 0.25)])]


def _curve(w=0.26):
    # road bends right
    return [("arc", 0.9, 0.7, 1.1, 180, 250, w),
            ("line", [(-0.2, 0.7), (-0.2, 0.9)], w),
            ("poly", [(0.1, -0.65), (0.55, -0.3), (0.05, -0.15)])]


def _car(dx=0.0, dy=0.0, s=1.0):
    body = [(-0.9, 0.25), (-0.92, -0.05), (-0.55, -0.12), (-0.35, -0.45), (0.35, -0.45),
            (0.58, -0.12), (0.92, -0.05), (0.9, 0.25)]
    t = lambda pts: [(dx + x * s, dy + y * s) for x, y in pts]
    return [("poly", t(body)),
            ("poly", t([(-0.28, -0.36), (-0.04, -0.36), (-0.04, -0.14), (-0.42, -0.14)]), "cut"),
            ("poly", t([(0.04, -0.36), (0.3, -0.36), (0.46, -0.14), (0.04, -0.14)]), "cut"),
            ("circ", dx - 0.5 * s, dy + 0.3 * s, 0.2 * s),
            ("circ", dx + 0.5 * s, dy + 0.3 * s, 0.2 * s),
            ("circ", dx - 0.5 * s, dy + 0.3 * s, 0.08 * s, "cut"),
            ("circ", dx + 0.5 * s, dy + 0.3 * s, 0.08 * s, "cut")]


def _person(dx=0.0, dy=0.0, s=1.0, stride=0.35):
    t = lambda pts: [(dx + x * s, dy + y * s) for x, y in pts]
    return [("circ", dx, dy - 0.72 * s, 0.16 * s),
            ("line", t([(0, -0.5), (0.04, 0.12)]), 0.22 * s),
            ("line", t([(0.04, 0.1), (-stride, 0.85)]), 0.14 * s),
            ("line", t([(0.04, 0.1), (stride, 0.82)]), 0.14 * s),
            ("line", t([(0, -0.42), (-0.35, 0.05)]), 0.12 * s),
            ("line", t([(0, -0.42), (0.36, -0.02)]), 0.12 * s)]


def _quadruped(body_w=1.1, neck=(0.45, -0.55), horns=None, antlers=False, tail=True, legs=0.5):
    p = [("ell", -0.05, 0.0, body_w / 2, 0.26),
         ("line", [(0.35, -0.05), neck], 0.22),
         ("ell", neck[0] + 0.12, neck[1] + 0.02, 0.2, 0.11),
         ("line", [(-0.45, 0.1), (-0.55, 0.1 + legs)], 0.1),
         ("line", [(-0.3, 0.1), (-0.25, 0.1 + legs)], 0.1),
         ("line", [(0.2, 0.1), (0.15, 0.1 + legs)], 0.1),
         ("line", [(0.35, 0.1), (0.42, 0.1 + legs)], 0.1)]
    if tail:
        p.append(("line", [(-0.58, -0.08), (-0.8, 0.25)], 0.07))
    if horns:
        p.append(("line", [(neck[0], neck[1] - 0.05), (neck[0] - 0.1, neck[1] - 0.25)], 0.06))
        p.append(("line", [(neck[0] + 0.1, neck[1] - 0.05), (neck[0] + 0.12, neck[1] - 0.25)], 0.06))
    if antlers:
        x, y = neck
        p += [("line", [(x, y - 0.05), (x - 0.1, y - 0.45), (x - 0.3, y - 0.55)], 0.05),
              ("line", [(x - 0.07, y - 0.3), (x + 0.15, y - 0.42)], 0.05),
              ("line", [(x + 0.1, y - 0.05), (x + 0.2, y - 0.4), (x + 0.35, y - 0.5)], 0.05)]
    return p


PICTOS = {
    "car": _car(),
    "car_front": [("poly", [(-0.75, 0.45), (-0.75, -0.05), (-0.5, -0.6), (0.5, -0.6), (0.75, -0.05), (0.75, 0.45)]),
                  ("poly", [(-0.45, -0.5), (0.45, -0.5), (0.62, -0.1), (-0.62, -0.1)], "cut"),
                  ("circ", -0.5, 0.15, 0.12, "cut"), ("circ", 0.5, 0.15, 0.12, "cut"),
                  ("rect", -0.7, 0.4, -0.4, 0.75), ("rect", 0.4, 0.4, 0.7, 0.75)],
    "truck": [("rect", -0.95, -0.6, 0.3, 0.3), ("poly", [(0.36, -0.3), (0.7, -0.3), (0.95, 0.0), (0.95, 0.3), (0.36, 0.3)]),
              ("poly", [(0.45, -0.22), (0.66, -0.22), (0.84, -0.02), (0.45, -0.02)], "cut"),
              ("circ", -0.65, 0.38, 0.17), ("circ", -0.25, 0.38, 0.17), ("circ", 0.65, 0.38, 0.17)],
    "bus": [("rect", -0.95, -0.55, 0.95, 0.3)] +
           [("rect", -0.85 + i * 0.36, -0.45, -0.6 + i * 0.36, -0.15, "cut") for i in range(5)] +
           [("circ", -0.55, 0.35, 0.17), ("circ", 0.55, 0.35, 0.17)],
    "motorcycle": [("ring", -0.55, 0.3, 0.3, 0.1), ("ring", 0.6, 0.3, 0.3, 0.1),
                   ("poly", [(-0.45, 0.25), (-0.2, -0.15), (0.3, -0.15), (0.45, 0.05), (0.1, 0.2)]),
                   ("line", [(0.3, -0.15), (0.6, 0.3)], 0.08), ("line", [(0.3, -0.15), (0.38, -0.45), (0.55, -0.45)], 0.08),
                   ("circ", -0.05, -0.75, 0.13), ("line", [(-0.1, -0.6), (-0.2, -0.2)], 0.17),
                   ("line", [(-0.12, -0.5), (0.3, -0.4)], 0.09)],
    "bicycle": [("ring", -0.5, 0.3, 0.34, 0.09), ("ring", 0.5, 0.3, 0.34, 0.09),
                ("line", [(-0.5, 0.3), (-0.1, -0.2), (0.35, -0.2), (0.5, 0.3)], 0.08),
                ("line", [(-0.5, 0.3), (0.05, 0.3), (-0.1, -0.2)], 0.08),
                ("line", [(0.05, 0.3), (0.35, -0.2)], 0.08),
                ("line", [(-0.2, -0.35), (0.05, -0.35)], 0.09), ("line", [(0.35, -0.2), (0.3, -0.45), (0.45, -0.45)], 0.08)],
    "pedestrian": _person(),
    "children": _person(-0.35, -0.05, 0.85) + _person(0.38, 0.22, 0.65, 0.3),
    "deer": _quadruped(antlers=True, legs=0.55),
    "cow": _quadruped(body_w=1.3, neck=(0.55, -0.25), horns=True, legs=0.45),
    "horse": _quadruped(body_w=1.15, neck=(0.5, -0.6), legs=0.6) + [("line", [(-0.6, -0.1), (-0.85, 0.35)], 0.14)],
    "dog": _quadruped(body_w=0.9, neck=(0.4, -0.35), legs=0.4) + [("line", [(0.55, -0.38), (0.55, -0.6)], 0.08)],
    "bird": [("poly", [(-0.9, -0.3), (-0.4, -0.1), (0.0, 0.1), (0.4, -0.1), (0.9, -0.3), (0.4, 0.15), (0.0, 0.35), (-0.4, 0.15)]),
             ("ell", 0.0, 0.2, 0.15, 0.3)],
    "tractor": [("ring", -0.4, 0.25, 0.45, 0.13), ("ring", 0.6, 0.45, 0.23, 0.1),
                ("rect", -0.2, -0.15, 0.85, 0.2), ("line", [(-0.55, -0.7), (-0.55, -0.15), (-0.05, -0.15), (-0.05, -0.7), (-0.6, -0.7)], 0.08),
                ("rect", 0.55, -0.45, 0.65, -0.15)],
    "locomotive": [("rect", -0.9, -0.3, 0.55, 0.35), ("rect", 0.2, -0.75, 0.75, 0.35), ("rect", -0.7, -0.65, -0.45, -0.3),
                   ("rect", 0.32, -0.62, 0.62, -0.35, "cut"),
                   ("circ", -0.55, 0.5, 0.18), ("circ", -0.05, 0.5, 0.18), ("circ", 0.5, 0.5, 0.18)],
    "tram": [("rect", -0.85, -0.45, 0.85, 0.4), ("line", [(0.0, -0.45), (-0.3, -0.75), (0.3, -0.75)], 0.06),
             ("rect", -0.7, -0.32, -0.25, -0.02, "cut"), ("rect", -0.15, -0.32, 0.3, -0.02, "cut"), ("rect", 0.4, -0.32, 0.7, 0.25, "cut"),
             ("rect", -0.95, 0.55, 0.95, 0.65)],
    "airplane": [("ell", 0, 0, 0.14, 0.9), ("poly", [(-0.95, 0.1), (0, -0.25), (0.95, 0.1), (0.95, 0.25), (0, 0.05), (-0.95, 0.25)]),
                 ("poly", [(-0.4, 0.85), (0, 0.6), (0.4, 0.85), (0.4, 0.95), (-0.4, 0.95)])],
    "ship": [("poly", [(-0.95, 0.3), (0.95, 0.3), (0.65, 0.75), (-0.7, 0.75)]), ("line", [(0, 0.3), (0, -0.9)], 0.08),
             ("poly", [(0.08, -0.8), (0.75, 0.15), (0.08, 0.15)]), ("poly", [(-0.08, -0.6), (-0.08, 0.15), (-0.6, 0.15)])],
    "rocks": [("poly", [(-0.95, 0.85), (-0.95, -0.9), (-0.55, -0.9), (0.2, 0.85)]),
              ("circ", 0.35, -0.2, 0.14), ("circ", 0.6, 0.15, 0.11), ("circ", 0.45, 0.55, 0.16), ("circ", 0.78, -0.45, 0.09)],
    "snowflake": [("line", _rot([(0, -0.9), (0, 0.9)], a), 0.1) for a in (0, 60, 120)] +
                 [("line", _rot([(-0.22, -0.85), (0, -0.6), (0.22, -0.85)], a), 0.07) for a in range(0, 360, 60)],
    "traffic_light": [("rect", -0.35, -0.95, 0.35, 0.95), ("circ", 0, -0.6, 0.22, "red"), ("circ", 0, 0, 0.22, "yellow"),
                      ("circ", 0, 0.6, 0.22, "green")],
    "exclamation": [("poly", [(-0.16, -0.85), (0.16, -0.85), (0.08, 0.35), (-0.08, 0.35)]), ("circ", 0, 0.68, 0.15)],
    "curve_right": _curve(),
    "curve_left": _mirror(_curve()),
    "double_curve": [("arc", 0.55, -0.2, 0.65, 110, 180, 0.24), ("arc", -0.75, -0.2, 0.65, 0, 50, 0.24),
                     ("line", [(-0.1, -0.2), (-0.1, 0.9)], 0.24), ("poly", [(-0.3, -0.62), (-0.1, -0.95), (0.1, -0.6)])],
    "crossroads": [("rect", -0.14, -0.9, 0.14, 0.9), ("rect", -0.9, -0.14, 0.9, 0.14)],
    "t_junction": [("rect", -0.14, -0.2, 0.14, 0.9), ("rect", -0.9, -0.45, 0.9, -0.17)],
    "y_junction": [("line", [(0, 0.9), (0, 0.0), (-0.55, -0.8)], 0.24), ("line", [(0, 0.0), (0.55, -0.8)], 0.24)],
    "side_road": [("rect", -0.14, -0.9, 0.14, 0.9), ("rect", 0.0, -0.14, 0.9, 0.14)],
    "roundabout": sum([[("arc", 0, 0, 0.55, a + 20, a + 95, 0.2),
                        ("poly", _rot([(0.3, -0.75), (0.75, -0.55), (0.3, -0.28)], a))] for a in (0, 120, 240)], []),
    "narrows": [("line", [(-0.45, 0.9), (-0.45, 0.1), (-0.2, -0.3), (-0.2, -0.9)], 0.17),
                ("line", [(0.45, 0.9), (0.45, 0.1), (0.2, -0.3), (0.2, -0.9)], 0.17)],
    "narrows_right": [("line", [(-0.4, 0.9), (-0.4, -0.9)], 0.17), ("line", [(0.45, 0.9), (0.45, 0.1), (0.05, -0.3), (0.05, -0.9)], 0.17)],
    "bumps": [("poly", [(-0.95, 0.4)] + [(x / 10, 0.4 - 0.55 * max(0.0, math.cos((x / 10 + 0.45) * math.pi * 2.2)) ** 1.3
                                          if abs(x / 10 + 0.45) < 0.23 or abs(x / 10 - 0.45) < 0.23 else 0.4)
                                         for x in range(-9, 10)] + [(0.95, 0.4), (0.95, 0.6), (-0.95, 0.6)])],
    "slippery": _car(0.0, -0.35, 0.75) + [("line", [(-0.6, 0.9), (-0.3, 0.55), (-0.55, 0.35), (-0.3, 0.1)], 0.09),
                                           ("line", [(0.6, 0.9), (0.3, 0.55), (0.55, 0.35), (0.3, 0.1)], 0.09)],
    "roadworks": _person(-0.15, -0.05, 0.85) + [("line", [(0.2, -0.35), (0.75, 0.55)], 0.08),
                                                ("poly", [(0.55, 0.55), (0.95, 0.55), (0.8, 0.8)]),
                                                ("poly", [(-0.95, 0.9), (-0.7, 0.55), (-0.4, 0.9)])],
    "fuel": [("rect", -0.6, -0.8, 0.2, 0.85), ("rect", -0.45, -0.65, 0.05, -0.25, "cut"),
             ("line", [(0.2, -0.35), (0.5, -0.35), (0.55, 0.5), (0.75, 0.5), (0.75, -0.55), (0.55, -0.8)], 0.08)],
    "phone": [("poly", [(-0.8, -0.3), (-0.6, -0.7), (0.6, -0.7), (0.8, -0.3), (0.45, -0.2), (0.4, -0.4), (-0.4, -0.4), (-0.45, -0.2)]),
              ("poly", [(-0.6, 0.8), (-0.35, -0.05), (0.35, -0.05), (0.6, 0.8)]), ("circ", 0, 0.35, 0.18, "cut")],
    "bed": [("rect", -0.9, -0.1, 0.9, 0.25), ("rect", -0.9, -0.6, -0.75, 0.65), ("rect", 0.75, 0.0, 0.9, 0.65),
            ("circ", -0.5, -0.3, 0.17), ("poly", [(-0.3, -0.1), (-0.25, -0.4), (0.7, -0.3), (0.75, -0.1)])],
    "fork_knife": [("line", [(-0.35, -0.9), (-0.35, 0.9)], 0.12), ("line", [(-0.55, -0.9), (-0.55, -0.3), (-0.15, -0.3), (-0.15, -0.9)], 0.07),
                   ("poly", [(0.3, 0.9), (0.3, -0.9), (0.55, -0.4), (0.45, 0.0), (0.42, 0.9)])],
    "wheelchair": [("ring", -0.05, 0.35, 0.45, 0.1), ("circ", -0.2, -0.75, 0.15), ("line", [(-0.25, -0.5), (-0.2, 0.1), (0.35, 0.1), (0.6, 0.65)], 0.13),
                   ("line", [(-0.22, -0.2), (0.2, -0.2)], 0.1)],
    "hospital": [("rect", -0.2, -0.75, 0.2, 0.75), ("rect", -0.75, -0.2, 0.75, 0.2)],
    "tent": [("poly", [(-0.9, 0.7), (0.0, -0.8), (0.9, 0.7)]), ("poly", [(-0.2, 0.7), (0.0, 0.15), (0.2, 0.7)], "cut"),
             ("line", [(0, -0.8), (0.15, -0.95)], 0.06)],
    "tree": [("poly", [(0, -0.95), (-0.45, -0.35), (-0.25, -0.35), (-0.6, 0.2), (-0.35, 0.2), (-0.75, 0.65), (0.75, 0.65),
                       (0.35, 0.2), (0.6, 0.2), (0.25, -0.35), (0.45, -0.35)]), ("rect", -0.1, 0.6, 0.1, 0.95)],
    "fish": [("ell", -0.1, 0, 0.6, 0.35), ("poly", [(0.4, 0), (0.9, -0.4), (0.9, 0.4)]), ("circ", -0.4, -0.08, 0.07, "cut")],
    "skier": [("circ", 0.25, -0.75, 0.14), ("line", [(0.2, -0.55), (0.0, -0.1), (0.25, 0.3), (0.1, 0.6)], 0.15),
              ("line", [(0.0, -0.1), (-0.3, 0.4)], 0.13), ("line", [(-0.8, 0.45), (0.7, 0.8)], 0.06),
              ("line", [(0.15, -0.4), (0.6, -0.1), (0.85, 0.5)], 0.05), ("line", [(0.15, -0.4), (-0.4, -0.3), (-0.75, 0.3)], 0.05)],
    "windsock": [("line", [(-0.7, -0.85), (-0.7, 0.9)], 0.09), ("poly", [(-0.65, -0.8), (0.85, -0.55), (0.85, -0.25), (-0.65, -0.3)]),
                 ("poly", [(-0.2, -0.72), (0.15, -0.66), (0.15, -0.32), (-0.2, -0.31)], "cut")],
    "house": [("poly", [(-0.85, -0.05), (0, -0.85), (0.85, -0.05)]), ("rect", -0.65, -0.1, 0.65, 0.8),
              ("rect", -0.2, 0.3, 0.2, 0.8, "cut")],
    "lightning": [("poly", [(0.15, -0.95), (-0.5, 0.15), (-0.05, 0.15), (-0.25, 0.95), (0.5, -0.2), (0.05, -0.2), (0.35, -0.95)])],
    "anchor": [("ring", 0, -0.7, 0.16, 0.08), ("line", [(0, -0.55), (0, 0.8)], 0.12), ("line", [(-0.4, -0.3), (0.4, -0.3)], 0.1),
               ("arc", 0, 0.15, 0.65, 20, 160, 0.12), ("poly", [(0.75, 0.25), (0.55, 0.5), (0.8, 0.55)]),
               ("poly", [(-0.75, 0.25), (-0.55, 0.5), (-0.8, 0.55)])],
    "u_turn": [("line", [(0.4, 0.9), (0.4, -0.2)], 0.26), ("arc", 0, -0.2, 0.4, 180, 360, 0.26),
               ("poly", [(-0.8, -0.05), (0.0, -0.05), (-0.4, 0.55)])],
    "turn_left": _turn(),
    "turn_right": _mirror(_turn()),
    "straight_or_right": _arrow(0, cx=-0.15) + [("line", [(-0.15, 0.2), (0.25, -0.1)], 0.24),
                                                 ("poly", [(0.15, -0.45), (0.85, -0.35), (0.45, 0.25)])],
    "tunnel": [("poly", [(-0.95, 0.85), (-0.95, -0.1), (-0.5, -0.7), (0.5, -0.7), (0.95, -0.1), (0.95, 0.85)]),
               ("poly", [(-0.6, 0.85), (-0.6, 0.0), (-0.3, -0.4), (0.3, -0.4), (0.6, 0.0), (0.6, 0.85)], "cut")],
    "bridge": [("arc", 0, 0.9, 0.8, 180, 360, 0.16), ("rect", -0.95, -0.05, 0.95, 0.12),
               ("line", [(-0.5, 0.1), (-0.5, 0.9)], 0.08), ("line", [(0.5, 0.1), (0.5, 0.9)], 0.08)],
}
# The second car of the overtaking pictogram is red, as on the real sign.
PICTOS["two_cars"] = _car(-0.42, -0.1, 0.55) + [k if k[-1] == "cut" else k + ("red",) for k in _car(0.42, 0.15, 0.55)]


# ---------------------------------------------------------------------------
# Class enumeration
# ---------------------------------------------------------------------------

def _spec(shape, fill, border=None, rim=None, content=None, ccolor="black", endof=False, slash=False, name=None):
    return {"shape": shape, "fill": fill, "border": border, "rim": rim, "content": content,
            "ccolor": ccolor, "endof": endof, "slash": slash, "name": name}


def _cname(c):
    if c is None:
        return "plain"
    kind, val = c
    if kind == "arrow":
        return "arrow%d" % val
    return "%s-%s" % (kind, str(val).replace(".", "p").replace(" ", "_"))


@lru_cache(maxsize=None)
def all_classes():
    """Every class design, in a fixed order. Returns a tuple of spec dicts with a unique 'name'."""
    S = []
    speeds = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 90, 100, 110, 120, 130]
    vehicles = ["car", "truck", "bus", "motorcycle", "bicycle", "pedestrian", "tractor", "two_cars", "horse",
                "cow", "car_front", "tram", "dog", "locomotive"]
    warning = ["exclamation", "curve_right", "curve_left", "double_curve", "crossroads", "t_junction", "y_junction",
               "side_road", "roundabout", "narrows", "narrows_right", "bumps", "slippery", "roadworks", "pedestrian",
               "children", "bicycle", "deer", "cow", "horse", "dog", "bird", "tractor", "locomotive", "tram",
               "rocks", "snowflake", "traffic_light", "airplane", "ship", "windsock", "tunnel", "bridge", "car",
               "truck", "skier", "fish", "motorcycle"]
    info = ["hospital", "fuel", "phone", "bed", "fork_knife", "wheelchair", "tent", "tree", "house", "bus",
            "pedestrian", "bicycle", "car", "airplane", "ship", "anchor", "locomotive", "fish", "skier", "lightning",
            "children", "truck", "tram", "windsock"]
    # prohibitory: red ring, white disc, black content
    for v in speeds:
        S.append(_spec("circle", "white", "red", content=("num", str(v))))
    for p in vehicles:
        S.append(_spec("circle", "white", "red", content=("picto", p)))
    for t in ["3.5t", "7.5t", "12t", "2.5m", "3m", "4m", "30t", "2m"]:
        S.append(_spec("circle", "white", "red", content=("text", t)))
    S.append(_spec("circle", "white", "red", name="circle-red-white-plain"))
    for p in ["turn_left", "turn_right", "u_turn", "straight"]:
        c = ("arrow", 0) if p == "straight" else ("picto", p)
        S.append(_spec("circle", "white", "red", content=c, slash=True))
    # end of restriction: white disc, grey ring, grey content, diagonal stripes
    for v in [20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]:
        S.append(_spec("circle", "white", "gray", content=("num", str(v)), ccolor="gray", endof=True))
    S.append(_spec("circle", "white", "gray", content=("picto", "two_cars"), ccolor="gray", endof=True))
    S.append(_spec("circle", "white", "gray", endof=True, name="circle-gray-white-endof-all"))
    # mandatory: blue disc, white rim, white content
    for a in range(0, 360, 45):
        S.append(_spec("circle", "blue", rim="white", content=("arrow", a), ccolor="white"))
    for p in ["turn_left", "turn_right", "roundabout", "bicycle", "pedestrian", "straight_or_right", "horse",
              "bus", "car", "truck", "children", "snowflake", "tractor"]:
        S.append(_spec("circle", "blue", rim="white", content=("picto", p), ccolor="white"))
    for v in [30, 40, 50, 60, 70]:
        S.append(_spec("circle", "blue", rim="white", content=("num", str(v)), ccolor="white"))
    # no parking / no stopping
    S.append(_spec("circle", "blue", "red", name="circle-red-blue-noparking", slash=True))
    S.append(_spec("circle", "blue", "red", content=("bars", "x"), ccolor="red", name="circle-red-blue-nostopping"))
    S.append(_spec("circle", "red", rim="white", content=("bars", "h"), ccolor="white", name="circle-red-noentry"))
    # warning triangles: red border, white fill (and a yellow-fill variant)
    for p in warning:
        S.append(_spec("tri_up", "white", "red", rim="white", content=("picto", p)))
    for p in warning[:18]:
        S.append(_spec("tri_up", "yellow", "red", rim="white", content=("picto", p)))
    for t in ["3.5t", "50", "30", "STOP"]:
        S.append(_spec("tri_up", "white", "red", rim="white", content=("text", t)))
    # yield
    S.append(_spec("tri_down", "white", "red", rim="white", name="tri_down-red-white-plain"))
    S.append(_spec("tri_down", "yellow", "red", rim="white", name="tri_down-red-yellow-plain"))
    S.append(_spec("tri_down", "white", "red", rim="white", content=("text", "STOP")))
    S.append(_spec("tri_down", "white", "red", rim="white", content=("text", "50m")))
    # stop
    for t in ["STOP", "ALTO", "ARRET", "PARE", "HALT"]:
        S.append(_spec("octagon", "red", rim="white", content=("text", t), ccolor="white"))
    # diamonds: US yellow warning, orange roadworks, priority road
    for p in warning[:26] + ["turn_left", "turn_right", "u_turn"]:
        S.append(_spec("diamond", "yellow", "black", rim="yellow", content=("picto", p)))
    for a in (0, 45, 90, 270, 315):
        S.append(_spec("diamond", "yellow", "black", rim="yellow", content=("arrow", a)))
    for p in ["roadworks", "exclamation", "narrows", "bumps", "truck", "pedestrian", "curve_left", "t_junction"]:
        S.append(_spec("diamond", "orange", "black", rim="orange", content=("picto", p)))
    S.append(_spec("diamond", "yellow", "white", name="diamond-white-yellow-priority"))
    S.append(_spec("diamond", "yellow", "white", endof=True, name="diamond-white-yellow-priority-endof"))
    # square information signs: blue / green / brown with white content
    for p in info:
        S.append(_spec("square", "blue", rim="white", content=("picto", p), ccolor="white"))
    for t in ["P", "H", "i", "A", "B", "E", "M", "T", "Z", "S", "K", "X"]:
        S.append(_spec("square", "blue", rim="white", content=("text", t), ccolor="white"))
    for a in (0, 90, 180, 270):
        S.append(_spec("square", "blue", rim="white", content=("arrow", a), ccolor="white"))
    for p in ["tent", "tree", "house", "fish", "ship", "anchor", "skier", "bed"]:
        S.append(_spec("square", "brown", rim="white", content=("picto", p), ccolor="white"))
    for p in ["tree", "bicycle", "pedestrian", "fuel", "phone", "car"]:
        S.append(_spec("square", "green", rim="white", content=("picto", p), ccolor="white"))
    S.append(_spec("square", "white", "black", content=("text", "P"), ccolor="black"))
    # rectangles: direction / route signs
    for a in (0, 45, 90, 135, 225, 270, 315):
        S.append(_spec("rect", "green", rim="white", content=("arrow", a), ccolor="white"))
    for a in (90, 270):
        S.append(_spec("rect", "white", "black", content=("arrow", a), ccolor="black"))
        S.append(_spec("rect", "blue", rim="white", content=("arrow", a), ccolor="white"))
    for t in ["A7", "E45", "B12", "M25", "A1"]:
        S.append(_spec("rect", "green" if t[0] != "E" else "green", rim="white", content=("text", t), ccolor="white"))
    for t in ["ONE WAY", "EXIT", "KEEP", "SLOW", "BUS"]:
        S.append(_spec("rect", "white", "black", content=("text", t), ccolor="black"))
    for t in ["50", "80", "100"]:
        S.append(_spec("rect", "white", "black", content=("text", t), ccolor="black"))
    for p in ["tent", "house", "ship", "skier"]:
        S.append(_spec("rect", "brown", rim="white", content=("picto", p), ccolor="white"))
    for t in ["DETOUR", "END", "ROAD"]:
        S.append(_spec("rect", "orange", "black", content=("text", t), ccolor="black"))
    # colour / shape combinations that the split keeps entirely out of training
    for p in ["bicycle", "pedestrian", "car", "tree"]:
        S.append(_spec("circle", "green", rim="white", content=("picto", p), ccolor="white"))
    for a in (0, 90):
        S.append(_spec("circle", "green", rim="white", content=("arrow", a), ccolor="white"))
    for p in ["tent", "house", "deer", "fish"]:
        S.append(_spec("diamond", "brown", "white", rim="brown", content=("picto", p), ccolor="white"))
    for t in ["STOP", "X"]:
        S.append(_spec("octagon", "blue", rim="white", content=("text", t), ccolor="white"))
    for p in ["exclamation", "car", "roadworks"]:
        S.append(_spec("square", "orange", "black", rim="orange", content=("picto", p), ccolor="black"))
    for p in ["bicycle", "pedestrian", "exclamation", "deer"]:
        S.append(_spec("tri_up", "white", "blue", rim="white", content=("picto", p)))
    for v in [30, 50]:
        S.append(_spec("circle", "yellow", "red", content=("num", str(v))))
    out, seen = [], set()
    for s in S:
        if s["name"] is None:
            n = "%s-%s-%s-%s" % (s["shape"], s["border"] or s["rim"] or "none", s["fill"], _cname(s["content"]))
            if s["slash"]:
                n += "-no"
            if s["endof"]:
                n += "-endof"
            s["name"] = n
        assert s["name"] not in seen, s["name"]
        seen.add(s["name"])
        out.append(s)
    return tuple(out)


# Pictograms kept entirely out of training (every class using them is novel or
# model-selection), so the benchmark measures truly unseen drawings.
NOVEL_PICTOS = {"horse", "airplane", "skier", "tram", "windsock", "anchor"}
SELECT_PICTOS = {"dog", "fish", "bridge"}
NOVEL_SPEEDS = {"35", "65", "90", "110", "15"}
SELECT_SPEEDS = {"45", "75"}


def _is_unseen_combo(s):
    return ((s["shape"] == "circle" and s["fill"] == "green") or (s["shape"] == "diamond" and s["fill"] == "brown")
            or (s["shape"] == "octagon" and s["fill"] == "blue") or (s["shape"] == "square" and s["fill"] == "orange")
            or (s["shape"] == "tri_up" and s["border"] == "blue") or (s["shape"] == "circle" and s["fill"] == "yellow"))


def make_split(seed=20261129, n_novel_random=22, n_select_random=30):
    """Returns {'train': [...], 'select': [...], 'novel': [...], 'novel_reason': {...}} of class names."""
    classes = all_classes()
    novel, select, reason = [], [], {}
    rest = []
    for s in classes:
        c = s["content"]
        picto = c[1] if c and c[0] == "picto" else None
        if picto in NOVEL_PICTOS:
            novel.append(s["name"]); reason[s["name"]] = "unseen pictogram"
        elif _is_unseen_combo(s):
            novel.append(s["name"]); reason[s["name"]] = "unseen shape/colour combination"
        elif c and c[0] == "num" and c[1] in NOVEL_SPEEDS and s["shape"] == "circle":
            novel.append(s["name"]); reason[s["name"]] = "number differs from trained speed limits"
        elif picto in SELECT_PICTOS or (c and c[0] == "num" and c[1] in SELECT_SPEEDS):
            select.append(s["name"])
        else:
            rest.append(s["name"])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rest))
    for i in order[:n_novel_random]:
        novel.append(rest[i]); reason[rest[i]] = "random held-out design"
    select += [rest[i] for i in order[n_novel_random:n_novel_random + n_select_random]]
    train = [rest[i] for i in sorted(order[n_novel_random + n_select_random:])]
    idx = {s["name"]: i for i, s in enumerate(classes)}
    key = lambda n: idx[n]
    return {"train": sorted(train, key=key), "select": sorted(select, key=key),
            "novel": sorted(novel, key=key), "novel_reason": reason}


def class_index(name):
    for i, s in enumerate(all_classes()):
        if s["name"] == name:
            return i
    raise KeyError(name)


# ---------------------------------------------------------------------------
# Template rendering
# ---------------------------------------------------------------------------

def _shape_poly(shape, scale=1.0):
    """Outline polygon in [-1,1] coordinates (None for circle). Triangles are centred on their centroid."""
    if shape == "tri_up":
        pts = [(0, -1.0), (1.0, 0.732), (-1.0, 0.732)]
        cy = (-1.0 + 0.732 * 2) / 3
        return [(x * scale, cy + (y - cy) * scale) for x, y in pts]
    if shape == "tri_down":
        pts = [(0, 1.0), (1.0, -0.732), (-1.0, -0.732)]
        cy = (1.0 - 0.732 * 2) / 3
        return [(x * scale, cy + (y - cy) * scale) for x, y in pts]
    if shape == "octagon":
        return [(scale * math.cos(math.radians(22.5 + 45 * k)), scale * math.sin(math.radians(22.5 + 45 * k))) for k in range(8)]
    if shape == "diamond":
        return [(0, -scale), (scale, 0), (0, scale), (-scale, 0)]
    if shape == "square":
        return [(-scale * 0.92, -scale * 0.92), (scale * 0.92, -scale * 0.92), (scale * 0.92, scale * 0.92), (-scale * 0.92, scale * 0.92)]
    if shape == "rect":
        d = 1.0 - scale
        return [(-0.98 + d, -0.62 + d), (0.98 - d, -0.62 + d), (0.98 - d, 0.62 - d), (-0.98 + d, 0.62 - d)]
    return None


# content box (centre x, centre y, half size) per shape
_CONTENT_BOX = {"circle": (0, 0, 0.56), "tri_up": (0, 0.2, 0.4), "tri_down": (0, -0.3, 0.32), "octagon": (0, 0, 0.62),
                "diamond": (0, 0, 0.46), "square": (0, 0, 0.62), "rect": (0, 0, 0.46)}


@lru_cache(maxsize=1)
def _font_path():
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "LiberationSans-Bold.ttf"):
        try:
            ImageFont.truetype(name, 10)
            return name
        except OSError:
            continue
    raise RuntimeError("no bold TrueType font found (install fonts-dejavu-core)")


@lru_cache(maxsize=256)
def _font(size, condensed):
    name = "DejaVuSansCondensed-Bold.ttf" if condensed else _font_path()
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.truetype(_font_path(), size)


class _Painter:
    def __init__(self, draw, size, box, color, cut):
        self.d, self.size, self.color, self.cut = draw, size, color, cut
        cx, cy, hs = box
        self.cx, self.cy, self.hs = cx, cy, hs

    def P(self, x, y):
        s = self.size / 2
        return ((1 + self.cx + x * self.hs) * s, (1 + self.cy + y * self.hs) * s)

    def L(self, v):
        return v * self.hs * self.size / 2

    def prim(self, p):
        col = self.color
        rest = p
        if isinstance(p[-1], str) and p[-1] != p[0]:
            col = self.cut if p[-1] == "cut" else COLORS[p[-1]]
            rest = p[:-1]
        k = rest[0]
        d = self.d
        if k == "poly":
            d.polygon([self.P(*q) for q in rest[1]], fill=col)
        elif k == "line":
            pts = [self.P(*q) for q in rest[1]]
            w = max(1, int(round(self.L(rest[2]))))
            d.line(pts, fill=col, width=w, joint="curve")
            for q in (pts[0], pts[-1]):
                d.ellipse([q[0] - w / 2, q[1] - w / 2, q[0] + w / 2, q[1] + w / 2], fill=col)
        elif k == "circ":
            x, y = self.P(rest[1], rest[2]); r = self.L(rest[3])
            d.ellipse([x - r, y - r, x + r, y + r], fill=col)
        elif k == "ell":
            x, y = self.P(rest[1], rest[2]); rx, ry = self.L(rest[3]), self.L(rest[4])
            d.ellipse([x - rx, y - ry, x + rx, y + ry], fill=col)
        elif k == "ring":
            x, y = self.P(rest[1], rest[2]); r = self.L(rest[3]); w = self.L(rest[4])
            d.ellipse([x - r - w / 2, y - r - w / 2, x + r + w / 2, y + r + w / 2], outline=col, width=max(1, int(round(w))))
        elif k == "rect":
            x0, y0 = self.P(rest[1], rest[2]); x1, y1 = self.P(rest[3], rest[4])
            d.rectangle([x0, y0, x1, y1], fill=col)
        elif k == "arc":
            x, y = self.P(rest[1], rest[2]); r = self.L(rest[3]); w = self.L(rest[6])
            d.arc([x - r, y - r, x + r, y + r], rest[4], rest[5], fill=col, width=max(1, int(round(w))))

    def text(self, t, box_w=1.9, box_h=1.25):
        cond = len(t) >= 3
        size = int(self.L(box_h))
        f = _font(size, cond)
        l, tp, r, b = self.d.textbbox((0, 0), t, font=f)
        tw, th = r - l, b - tp
        sc = min(self.L(box_w) / tw, self.L(box_h) / th)
        f = _font(max(4, int(size * sc)), cond)
        l, tp, r, b = self.d.textbbox((0, 0), t, font=f)
        x, y = self.P(0, 0)
        self.d.text((x - (l + r) / 2, y - (tp + b) / 2), t, font=f, fill=self.color)


def _draw_shape(d, shape, S, scale, color):
    poly = _shape_poly(shape, scale)
    if poly is None:
        r = scale * S / 2
        d.ellipse([S / 2 - r, S / 2 - r, S / 2 + r, S / 2 + r], fill=color)
        return
    pts = [((1 + x) * S / 2, (1 + y) * S / 2) for x, y in poly]
    if shape in ("square", "rect", "tri_up", "tri_down", "diamond"):
        # rounded corners: inset polygon stroked with a round-joined line
        rr = 0.06 * S / 2
        cx = sum(p[0] for p in pts) / len(pts); cy = sum(p[1] for p in pts) / len(pts)
        ins = []
        for x, y in pts:
            dx, dy = x - cx, y - cy
            n = math.hypot(dx, dy)
            k = 1.6 if shape.startswith("tri") else 1.2
            ins.append((x - dx / n * rr * k, y - dy / n * rr * k))
        d.polygon(ins, fill=color)
        d.line(ins + [ins[0], ins[1]], fill=color, width=int(2 * rr), joint="curve")
    else:
        d.polygon(pts, fill=color)


@lru_cache(maxsize=512)
def template(idx):
    """Anti-aliased RGBA template of class idx (CANON x CANON, alpha = sign area)."""
    s = all_classes()[idx]
    S = CANON * SUPER
    outer = COLORS[s["rim"] or s["border"] or s["fill"]]
    img = Image.new("RGB", (S, S), outer)
    mask = Image.new("L", (S, S), 0)
    _draw_shape(ImageDraw.Draw(mask), s["shape"], S, 1.0, 255)
    d = ImageDraw.Draw(img)
    sc = 1.0
    if s["rim"]:
        sc = 0.95 if s["shape"] != "rect" else 0.97
    if s["border"]:
        _draw_shape(d, s["shape"], S, sc, COLORS[s["border"]])
        bw = {"circle": 0.8, "tri_up": 0.74, "tri_down": 0.74, "octagon": 0.86, "diamond": 0.86, "square": 0.9, "rect": 0.93}
        sc *= bw[s["shape"]]
        if s["border"] == "gray":
            sc = 0.93
        if "priority" in s["name"]:
            sc = 0.62
    _draw_shape(d, s["shape"], S, sc, COLORS[s["fill"]])
    fill = COLORS[s["fill"]]
    ccol = COLORS[s["ccolor"]]
    box = _CONTENT_BOX[s["shape"]]
    pnt = _Painter(d, S, box, ccol, fill)
    c = s["content"]
    if c is not None:
        kind, val = c
        if kind == "num":
            pnt.text(val, box_w=1.55 if len(val) < 3 else 1.85, box_h=1.1)
        elif kind == "text":
            bw_ = 1.9 if s["shape"] != "rect" else 2.6
            pnt.text(val, box_w=bw_, box_h=1.2 if len(val) <= 2 else 0.9)
        elif kind == "arrow":
            for p in _arrow(val):
                pnt.prim(p)
        elif kind == "picto":
            for p in PICTOS[val]:
                pnt.prim(p)
        elif kind == "bars":
            if val == "h":
                pnt.prim(("rect", -1.25, -0.26, 1.25, 0.26))
            elif val == "x":
                pnt.prim(("line", [(-1.2, -1.2), (1.2, 1.2)], 0.3))
                pnt.prim(("line", [(1.2, -1.2), (-1.2, 1.2)], 0.3))
    if s["slash"]:
        col = COLORS["red"]
        r = 0.8 * S / 2
        w = int(0.14 * S / 2)
        a = math.radians(45)
        d.line([(S / 2 - r * math.cos(a), S / 2 - r * math.sin(a)), (S / 2 + r * math.cos(a), S / 2 + r * math.sin(a))], fill=col, width=w)
    if s["endof"]:
        col = COLORS["black"]
        r = 0.86 * S / 2
        for off in (-0.09, -0.03, 0.03, 0.09):
            o = off * S / 2 * 1.4
            p0 = (S / 2 + r * 0.707 + o, S / 2 - r * 0.707 + o)
            p1 = (S / 2 - r * 0.707 + o, S / 2 + r * 0.707 + o)
            d.line([p0, p1], fill=col, width=max(1, int(0.035 * S / 2)))
    # keep overlays inside the sign outline
    base = Image.new("RGB", (S, S), outer)
    img = Image.composite(img, base, mask)
    rgba = img.copy()
    rgba.putalpha(mask)
    return rgba.resize((CANON, CANON), Image.LANCZOS)


# ---------------------------------------------------------------------------
# Capture model
# ---------------------------------------------------------------------------

def _smooth_noise(rng, n, octaves=(4, 8, 16, 32), persistence=0.6):
    acc = np.zeros((n, n), np.float32)
    amp, tot = 1.0, 0.0
    for o in octaves:
        small = rng.random((o, o)).astype(np.float32)
        im = Image.fromarray((small * 255).astype(np.uint8)).resize((n, n), Image.BICUBIC)
        acc += amp * np.asarray(im, np.float32) / 255
        tot += amp
        amp *= persistence
    return acc / tot


def _background(rng, n):
    kind = rng.choice(6, p=[0.2, 0.25, 0.15, 0.15, 0.15, 0.1])
    if kind == 0:  # sky / ground gradient
        c0 = rng.uniform([120, 150, 180], [220, 230, 255])
        c1 = rng.uniform([60, 60, 40], [200, 200, 200])
        a = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:n, 0:n] / n - 0.5
        t = np.clip(0.5 + xx * math.cos(a) + yy * math.sin(a), 0, 1)[..., None]
        bg = c0 * (1 - t) + c1 * t
        bg += (_smooth_noise(rng, n)[..., None] - 0.5) * rng.uniform(10, 60)
    elif kind == 1:  # foliage
        base = rng.uniform([20, 50, 10], [90, 140, 70])
        hi = base + rng.uniform([30, 40, 10], [110, 120, 80])
        t = _smooth_noise(rng, n, (8, 16, 32, 48), 0.8)[..., None]
        t = np.clip((t - 0.5) * rng.uniform(2, 4) + 0.5, 0, 1)
        bg = base * (1 - t) + hi * t
    elif kind == 2:  # buildings / urban blocks
        bg = np.ones((n, n, 3), np.float32) * rng.uniform(60, 200, 3)
        for _ in range(rng.integers(3, 10)):
            x0, y0 = rng.integers(-n // 2, n, 2)
            w, h = rng.integers(n // 8, n, 2)
            bg[max(0, y0):max(0, y0 + h), max(0, x0):max(0, x0 + w)] = rng.uniform(30, 230, 3) * rng.uniform(0.8, 1.0)
        bg += (_smooth_noise(rng, n)[..., None] - 0.5) * 30
    elif kind == 3:  # stripes / texture
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
        a = rng.uniform(0, math.pi)
        f = rng.uniform(0.1, 0.8)
        t = (np.sin((xx * math.cos(a) + yy * math.sin(a)) * f) * 0.5 + 0.5)[..., None]
        bg = rng.uniform(30, 220, 3) * (1 - t) + rng.uniform(30, 220, 3) * t
        bg += (rng.random((n, n, 1)) - 0.5) * 40
    elif kind == 4:  # plain wall / overcast with grain
        bg = np.ones((n, n, 3), np.float32) * rng.uniform(40, 230, 3)
        bg += (_smooth_noise(rng, n, (2, 4, 8))[..., None] - 0.5) * 60 + (rng.random((n, n, 1)) - 0.5) * 25
    else:  # dark night / tunnel
        bg = np.ones((n, n, 3), np.float32) * rng.uniform(5, 60, 3)
        bg += (_smooth_noise(rng, n)[..., None] - 0.5) * 40
    return np.clip(bg, 0, 255).astype(np.float32)


_DISTRACT_SHAPES = ("circle", "tri_up", "square", "rect", "diamond", "octagon")


def _distractor(rng, bg):
    """Part of another sign's outline entering the frame (plain, random colours)."""
    n = bg.shape[0]
    S = 128
    shape = _DISTRACT_SHAPES[rng.integers(len(_DISTRACT_SHAPES))]
    m = Image.new("L", (S, S), 0)
    _draw_shape(ImageDraw.Draw(m), shape, S, 1.0, 255)
    cols = [COLORS[k] for k in ("red", "blue", "yellow", "white", "green", "orange", "brown", "black")]
    im = Image.new("RGB", (S, S), cols[rng.integers(len(cols))])
    _draw_shape(ImageDraw.Draw(im), shape, S, 0.8, cols[rng.integers(len(cols))])
    size = int(n * rng.uniform(0.6, 1.1))
    m = m.resize((size, size), Image.BILINEAR)
    im = im.resize((size, size), Image.BILINEAR)
    side = rng.integers(4)
    off = int(size * rng.uniform(0.55, 0.85))
    pos = [(-off, rng.integers(-size // 2, n - size // 2)), (n - size + off, rng.integers(-size // 2, n - size // 2)),
           (rng.integers(-size // 2, n - size // 2), -off), (rng.integers(-size // 2, n - size // 2), n - size + off)][side]
    canvas = Image.fromarray(bg.astype(np.uint8))
    canvas.paste(im, (int(pos[0]), int(pos[1])), m)
    return np.asarray(canvas, np.float32)


def _persp_coeffs(dst, src):
    """PIL PERSPECTIVE coefficients mapping output points dst to input points src."""
    A, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        A.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        A.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    return np.linalg.solve(np.array(A, np.float64), np.array(b, np.float64))


def render_sample(idx, stream, k, out=OUT):
    """One captured sample of class idx: uint8 array (out, out, 3). Deterministic in (idx, stream, k)."""
    rng = np.random.default_rng([stream, idx, k, 77])
    return capture(template(idx), rng, out)


def capture(tpl, rng, out=OUT, work=WORK, rot_cap=None, geometry=None):
    """The capture model: template tpl (RGBA) seen by a camera, drawn from rng.

    rot_cap (degrees) clips the in-plane rotation (v1 leaves it unclipped); if
    geometry is a dict, the sign's placement is stored in it (for checks)."""
    n = work
    # paint condition: fading, dirt, colour drift (before geometry: it is on the sign)
    arr = np.asarray(tpl, np.float32).copy()
    rgb, alpha = arr[..., :3], arr[..., 3:]
    if rng.random() < 0.35:
        f = rng.uniform(0.05, 0.4)
        rgb = rgb * (1 - f) + f * rng.uniform(170, 240)
    if rng.random() < 0.3:
        g = rgb.mean(-1, keepdims=True)
        rgb = rgb + (g - rgb) * rng.uniform(0.1, 0.45)
    rgb = rgb * rng.normal(1, 0.04, 3)
    if rng.random() < 0.2:  # dirt / weathering blotches
        t = _smooth_noise(rng, CANON, (6, 12, 24))[..., None]
        rgb = rgb * (1 - np.clip((t - 0.55) * 3, 0, 0.5))
    tpl = Image.fromarray(np.clip(np.concatenate([rgb, alpha], -1), 0, 255).astype(np.uint8), "RGBA")

    # geometry
    frac = rng.uniform(0.58, 0.95)
    s = frac * n
    cx = n / 2 + rng.normal(0, 0.05) * n
    cy = n / 2 + rng.normal(0, 0.05) * n
    rot_deg = rng.normal(0, 6)
    if rot_cap is not None:
        rot_deg = float(np.clip(rot_deg, -rot_cap, rot_cap))
    rot = math.radians(rot_deg)
    ta, tb = rng.uniform(-0.3, 0.3), rng.uniform(-0.22, 0.22)
    side = max(8, int(s))
    small = tpl.resize((side, side), Image.LANCZOS)
    corners = []
    for (x, y) in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
        z = 1 + ta * x + tb * y
        px, py = x / z * s / 2, y / z * s / 2
        corners.append((cx + px * math.cos(rot) - py * math.sin(rot), cy + px * math.sin(rot) + py * math.cos(rot)))
    coeffs = _persp_coeffs(corners, [(0, 0), (side, 0), (side, side), (0, side)])
    if geometry is not None:
        geometry.update(cx=cx, cy=cy, s=s, rot_deg=rot_deg, ta=ta, tb=tb, work=n, corners=corners)
    warped = small.transform((n, n), Image.PERSPECTIVE, tuple(coeffs), Image.BILINEAR)

    bg = _background(rng, n)
    if rng.random() < 0.3:
        bg = _distractor(rng, bg)
    canvas = Image.fromarray(bg.astype(np.uint8))
    if rng.random() < 0.45:  # pole behind the sign
        pw = rng.uniform(0.04, 0.09) * n
        gray = int(rng.uniform(90, 190))
        ImageDraw.Draw(canvas).rectangle([cx - pw / 2, cy, cx + pw / 2, n], fill=(gray, gray, gray + 5))
    canvas.paste(warped, (0, 0), warped)
    d = ImageDraw.Draw(canvas)
    if rng.random() < 0.25:  # partial occlusion: branch, leaves or another object
        kind = rng.integers(3)
        if kind == 0:
            base = rng.uniform([20, 50, 10], [90, 140, 60])
            ang = rng.uniform(0, 2 * math.pi)
            ox, oy = cx + math.cos(ang) * s * 0.55, cy + math.sin(ang) * s * 0.55
            for _ in range(rng.integers(4, 12)):
                r = rng.uniform(0.04, 0.1) * n
                x, y = ox + rng.normal(0, 0.1 * n), oy + rng.normal(0, 0.1 * n)
                c = tuple(int(v) for v in base * rng.uniform(0.7, 1.3))
                d.ellipse([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=c)
        elif kind == 1:
            ang = rng.uniform(0, math.pi)
            off = rng.uniform(0.3, 0.5) * s
            px, py = cx + math.cos(ang + 1.57) * off, cy + math.sin(ang + 1.57) * off
            dx, dy = math.cos(ang) * n, math.sin(ang) * n
            c = tuple(int(v) for v in rng.uniform(20, 110, 3))
            d.line([(px - dx, py - dy), (px + dx, py + dy)], fill=c, width=int(rng.uniform(0.03, 0.08) * n))
        else:
            w, h = rng.uniform(0.2, 0.45) * s, rng.uniform(0.2, 0.5) * s
            corner = rng.integers(4)
            x = cx + (s / 2 if corner % 2 else -s / 2) - (w if corner % 2 else 0) * rng.uniform(0.3, 1)
            y = cy + (s / 2 if corner // 2 else -s / 2) - (h if corner // 2 else 0) * rng.uniform(0.3, 1)
            d.rectangle([x, y, x + w, y + h], fill=tuple(int(v) for v in rng.uniform(20, 220, 3)))
    if rng.random() < 0.08:  # glare spot
        g = Image.new("L", (n, n), 0)
        r = rng.uniform(0.08, 0.25) * n
        gx, gy = cx + rng.normal(0, 0.2) * s, cy + rng.normal(0, 0.2) * s
        ImageDraw.Draw(g).ellipse([gx - r, gy - r, gx + r, gy + r], fill=int(rng.uniform(90, 200)))
        g = g.filter(ImageFilter.GaussianBlur(r / 2))
        canvas = Image.composite(Image.new("RGB", (n, n), (255, 255, 250)), canvas, g)

    # optics: defocus and motion blur
    if rng.random() < 0.4:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6)))
    img = np.asarray(canvas, np.float32)
    if rng.random() < 0.25:
        L = rng.integers(2, 7)
        a = rng.uniform(0, math.pi)
        acc = np.zeros_like(img)
        for i in range(L):
            t = i - (L - 1) / 2
            acc += np.roll(img, (int(round(t * math.sin(a))), int(round(t * math.cos(a)))), axis=(0, 1))
        img = acc / L
    # lighting: exposure, gamma, colour cast, shadow
    if rng.random() < 0.2:
        yy, xx = np.mgrid[0:n, 0:n] / n - 0.5
        a = rng.uniform(0, 2 * math.pi)
        sh = (xx * math.cos(a) + yy * math.sin(a)) > rng.uniform(-0.3, 0.3)
        img = img * np.where(sh, rng.uniform(0.45, 0.85), 1.0)[..., None]
    gain = float(np.clip(math.exp(rng.normal(0, 0.35)), 0.3, 2.2))
    cast = rng.normal(1, 0.07, 3)
    gamma = rng.uniform(0.75, 1.35)
    img = 255 * np.clip(img * gain * cast / 255, 0, 1) ** gamma

    # sensor: resolution, noise, compression
    pim = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    if rng.random() < 0.2:
        lo = int(rng.uniform(0.4, 0.8) * out)
        pim = pim.resize((lo, lo), Image.BOX).resize((out, out), Image.BILINEAR)
    else:
        pim = pim.resize((out, out), Image.LANCZOS)
    img = np.asarray(pim, np.float32)
    sigma = rng.uniform(0, 7)
    img = img + rng.normal(0, sigma, img.shape) + rng.normal(0, sigma * 0.5, img.shape[:2] + (1,))
    pim = Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        pim.save(buf, "JPEG", quality=int(rng.uniform(25, 90)))
        buf.seek(0)
        pim = Image.open(buf).convert("RGB")
    return np.asarray(pim, np.uint8)


def contact_sheet(names, per_class=6, stream=STREAM_SHEET, clean=True):
    """Grid image: one row per class, first column the clean template (if clean), then captured samples."""
    cols = per_class + (1 if clean else 0)
    sheet = Image.new("RGB", (cols * OUT, len(names) * OUT), (255, 255, 255))
    for r, nm in enumerate(names):
        i = class_index(nm)
        c0 = 0
        if clean:
            t = template(i).resize((OUT, OUT), Image.LANCZOS)
            bgi = Image.new("RGB", (OUT, OUT), (200, 200, 200))
            bgi.paste(t, (0, 0), t)
            sheet.paste(bgi, (0, r * OUT))
            c0 = 1
        for k in range(per_class):
            sheet.paste(Image.fromarray(render_sample(i, stream, k)), ((c0 + k) * OUT, r * OUT))
    return sheet
