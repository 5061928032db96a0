"""Pictogram sources of the v2 sign generator: glyphs of Debian-packaged icon and symbol fonts and SVG icons.

Every candidate glyph is rasterised once into a GL x GL anti-aliased mask
(ink bounding box fitted to the square, aspect kept), passed through
  1. the deny filter (deny_reason): traffic-sign artwork is reserved for
     independent evaluation and never becomes sign content,
  2. the legibility filter (legibility_reason): blank, hair-line, blob-like or
     very elongated glyphs would not survive a 48 px capture,
  3. de-duplication by mask overlap, against earlier glyphs and their mirror
     images, so two classes never share (nearly) one drawing.
The result is cached in tools/train/cache/ keyed by a fingerprint of the
source files, so each worker process loads it instead of re-rendering.

Sources are whole Debian packages; HELD_OUT_SOURCE is used only by the novel
benchmark ("cross-source": designs drawn by other hands).
"""

import hashlib
import io
import json
import os
import re
import subprocess
import unicodedata
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
SHARE = os.environ.get("SIGNS2_SHARE", "/usr/share")   # Debian's data root
GL = 96            # side of a stored glyph mask
RAS = 256          # rasterisation size before fitting and downsampling
FILTER_VERSION = 1  # the cache key also covers this file's text

# Unicode blocks taken from the general symbol fonts (letters, digits, CJK,
# playing cards, mahjong, braille and the like are not pictograms).
UNICODE_BLOCKS = [
    (0x2190, 0x21FF, "Arrows"),
    (0x2300, 0x23FF, "Miscellaneous Technical"),
    (0x25A0, 0x25FF, "Geometric Shapes"),
    (0x2600, 0x26FF, "Miscellaneous Symbols"),
    (0x2700, 0x27BF, "Dingbats"),
    (0x27F0, 0x27FF, "Supplemental Arrows-A"),
    (0x2900, 0x297F, "Supplemental Arrows-B"),
    (0x2B00, 0x2BFF, "Miscellaneous Symbols and Arrows"),
    (0x1F300, 0x1F5FF, "Miscellaneous Symbols and Pictographs"),
    (0x1F600, 0x1F64F, "Emoticons"),
    (0x1F650, 0x1F67F, "Ornamental Dingbats"),
    (0x1F680, 0x1F6FF, "Transport and Map Symbols"),
    (0x1F700, 0x1F77F, "Alchemical Symbols"),
    (0x1F780, 0x1F7FF, "Geometric Shapes Extended"),
    (0x1F800, 0x1F8FF, "Supplemental Arrows-C"),
    (0x1F900, 0x1F9FF, "Supplemental Symbols and Pictographs"),
    (0x1FA00, 0x1FA6F, "Chess Symbols"),
    (0x1FA70, 0x1FAFF, "Symbols and Pictographs Extended-A"),
]

# Sources in priority order (de-duplication keeps the earlier one).
#   key: (package, kind, files relative to SHARE, names file relative to SHARE)
SOURCES = [
    ("material", "fonts-material-design-icons-iconfont", "font",
     ["fonts/truetype/material-design-icons-iconfont/MaterialIcons-Regular.ttf"],
     "fonts-material-design-icons-iconfont/css/material-design-icons.css"),
    ("fontawesome", "fonts-font-awesome", "font",
     ["fonts/truetype/font-awesome/fontawesome-webfont.ttf"], "fonts-font-awesome/css/font-awesome.css"),
    ("glyphicons", "fonts-glyphicons-halflings", "font",
     ["fonts/truetype/glyphicons/glyphicons-halflings-regular.ttf"], "javascript/bootstrap/css/bootstrap.css"),
    ("adwaita", "adwaita-icon-theme", "svg", ["icons/Adwaita/scalable"], None),
    ("noto-symbols", "fonts-noto-core", "font",
     ["fonts/truetype/noto/NotoSansSymbols2-Regular.ttf", "fonts/truetype/noto/NotoSansSymbols-Regular.ttf"], None),
    ("symbola", "fonts-symbola", "font", ["fonts/truetype/ancient-scripts/Symbola_hint.ttf"], None),
    ("dejavu", "fonts-dejavu-core", "font", ["fonts/truetype/dejavu/DejaVuSans.ttf"], None),
    ("entypo", "fonts-entypo", "font", ["fonts/truetype/fonts-entypo/entypo.ttf"], "fonts/svg/fonts-entypo/entypo.svg"),
]
# The whole package held out of training and model selection: the benchmark's
# cross-source classes use it and nothing else does.
HELD_OUT_SOURCE = "entypo"
# Unicode symbol fonts: each code point is taken from one of them only (chosen
# by hash), so one concept is not two classes drawn by two hands.
UNICODE_FONTS = ("noto-symbols", "symbola", "dejavu")

# ---------------------------------------------------------------------------
# Deny filter: traffic-sign artwork never becomes content.
# ---------------------------------------------------------------------------

# Code points of traffic-sign artwork (and its immediate look-alikes), inclusive ranges.
DENY_CODEPOINTS = [
    (0x2621, 0x2621, "CAUTION SIGN"),
    (0x26A0, 0x26A0, "WARNING SIGN"),
    (0x26CC, 0x26E3, "Miscellaneous Symbols traffic-sign series (crossing lanes ... no entry, one-way, lane merge, "
                     "drive slow, restricted entry, black truck) and its neighbours"),
    (0x1F6A5, 0x1F6A7, "traffic lights, construction sign"),
    (0x1F6AB, 0x1F6AB, "NO ENTRY SIGN"),
    (0x1F6AD, 0x1F6B1, "no smoking / do not litter / potable and non-potable water signs"),
    (0x1F6B3, 0x1F6B3, "NO BICYCLES"),
    (0x1F6B7, 0x1F6B8, "NO PEDESTRIANS, CHILDREN CROSSING"),
    (0x1F6C7, 0x1F6C8, "PROHIBITED SIGN, CIRCLED INFORMATION SOURCE"),
    (0x1F6D1, 0x1F6D1, "OCTAGONAL SIGN (stop)"),
    (0x1F6E3, 0x1F6E4, "MOTORWAY, RAILWAY TRACK"),
    (0x1F4F5, 0x1F4F5, "NO MOBILE PHONES"),
    (0x1F51E, 0x1F51E, "NO ONE UNDER EIGHTEEN SYMBOL"),
    (0x1F17F, 0x1F17F, "NEGATIVE SQUARED LATIN CAPITAL LETTER P (parking)"),
    (0x24C5, 0x24C5, "CIRCLED LATIN CAPITAL LETTER P (parking)"),
    (0x2296, 0x2296, "CIRCLED MINUS (no-entry look-alike)"),
]
# Name tokens (icon names and Unicode character names, split at - _ and space).
DENY_TOKENS = {
    "traffic", "road", "roads", "sign", "signs", "signpost",
    "warning", "caution", "danger", "dangerous", "hazard", "alert", "error", "report",
    "prohibited", "prohibition", "forbidden", "ban", "block", "unavailable", "interdit",
    "entry", "crossing", "lane", "lanes", "merge", "turn", "roundabout", "ramp", "fork", "straight", "detour",
    "speed", "crash", "parking", "motorway", "highway", "freeway", "toll", "stop", "yield", "slow",
    "octagon", "octagonal", "triangle", "exclamation",
}
# Multi-token phrases (matched on the normalised name, "_" separated).
DENY_PHRASES = ("no_entry", "do_not", "not_interested", "remove_circle", "minus_circle", "circle_minus",
                "circled_minus", "smoke_free", "one_way", "two_way", "u_turn", "assistant_direction",
                "railway_track", "local_parking", "car_repair", "times_circle", "map_signs")
# Whole names (after normalisation) that depict a road sign.
DENY_NAMES = {"directions", "navigation_sign", "minus_sign", "remove_sign"}


def _norm(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def deny_reason(cp, names):
    """Why a glyph is traffic-sign artwork (None if it is not). cp: code point or None; names: its names."""
    if cp is not None:
        for lo, hi, why in DENY_CODEPOINTS:
            if lo <= cp <= hi:
                return "codepoint U+%04X: %s" % (cp, why)
    for n in names:
        nn = _norm(n)
        toks = set(nn.split("_"))
        if nn in DENY_NAMES:
            return "name %r" % n
        for ph in DENY_PHRASES:
            if ph in nn:
                return "name %r contains %r" % (n, ph)
        hit = sorted(toks & DENY_TOKENS)
        if hit:
            return "name %r has token %r" % (n, hit[0])
        # icon fonts' "no_*" family: an object under a prohibition slash
        if nn.startswith("no_") or nn == "no":
            return "name %r is a prohibition (no_*)" % n
    return None


# ---------------------------------------------------------------------------
# Candidate enumeration
# ---------------------------------------------------------------------------

def _share(rel):
    return os.path.join(SHARE, rel)


def _css_names(path, prefix):
    """{code point: [names]} from an icon font's CSS (.prefix-NAME:before { content: "\\XXXX"; })."""
    txt = open(path, encoding="utf-8").read()
    out = {}
    for sels, code in re.findall(r"((?:\.[\w.-]+:before\s*,?\s*)+)\{\s*content:\s*\"\\([0-9a-fA-F]+)\"", txt):
        for nm in re.findall(r"\.([\w.-]+):before", sels):
            nm = nm.split(".")[-1]
            if nm.startswith(prefix):
                nm = nm[len(prefix):]
            out.setdefault(int(code, 16), []).append(nm.lstrip("_"))
    return out


def _svgfont_names(path):
    txt = open(path, encoding="utf-8").read()
    out = {}
    for nm, uni in re.findall(r'glyph-name="([^"]*)"\s+unicode="([^"]*)"', txt):
        uni = re.sub(r"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)), uni)
        if len(uni) == 1 and not re.fullmatch(r"u(ni)?[0-9A-Fa-f]{4,6}", nm):   # uniXXXX: no name
            out.setdefault(ord(uni), []).append(nm)
    return out


def _in_blocks(cp):
    return any(lo <= cp <= hi for lo, hi, _ in UNICODE_BLOCKS)


def _hash01(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16) / float(1 << 48)


def candidates():
    """Every candidate glyph of every source, in a fixed order: list of dicts."""
    from fontTools.ttLib import TTFont
    out = []
    ucover = {}   # code point -> Unicode fonts that have it
    cmaps = {}
    for key, pkg, kind, files, names_rel in SOURCES:
        if kind != "font":
            continue
        for f in files:
            cmaps[(key, f)] = set(TTFont(_share(f), lazy=True).getBestCmap())
        if key in UNICODE_FONTS:
            for f in files:
                for cp in cmaps[(key, f)]:
                    if _in_blocks(cp):
                        ucover.setdefault(cp, [])
                        if key not in ucover[cp]:
                            ucover[cp].append(key)
    for key, pkg, kind, files, names_rel in SOURCES:
        if kind == "svg":
            root = _share(files[0])
            for ctx in sorted(os.listdir(root)):
                d = os.path.join(root, ctx)
                if not os.path.isdir(d) or ctx in ("legacy",):
                    continue
                for fn in sorted(os.listdir(d)):
                    if fn.endswith(".svg"):
                        nm = fn[:-4]
                        out.append({"id": "%s:%s/%s" % (key, ctx, nm), "source": key, "package": pkg,
                                    "file": os.path.join(files[0], ctx, fn), "cp": None, "name": nm, "names": [nm]})
            continue
        names = {}
        if key == "material":
            names = _css_names(_share(names_rel), "material-icons.")
        elif key == "fontawesome":
            names = _css_names(_share(names_rel), "fa-")
        elif key == "glyphicons":
            names = _css_names(_share(names_rel), "glyphicon-")
        elif key == "entypo":
            names = _svgfont_names(_share(names_rel))
        seen = set()
        for f in files:
            for cp in sorted(cmaps[(key, f)]):
                if cp in seen or cp < 0x21:
                    continue
                if key in UNICODE_FONTS:
                    if not _in_blocks(cp):
                        continue
                    cov = ucover[cp]
                    if cov[int(_hash01("ufont:%x" % cp) * len(cov))] != key:
                        continue
                elif key in ("material", "fontawesome", "glyphicons"):
                    if cp not in names:   # unnamed code points: ASCII aliases, ligature helpers
                        continue
                elif key == "entypo":
                    if cp < 0x80:
                        continue
                seen.add(cp)
                nm = names.get(cp, [])
                uname = unicodedata.name(chr(cp), "")
                allnames = nm + ([uname] if uname else [])
                out.append({"id": "%s:%04x" % (key, cp), "source": key, "package": pkg, "file": f, "cp": cp,
                            "name": (nm[0] if nm else uname.lower() or "U+%04X" % cp), "names": allnames})
    return out


# ---------------------------------------------------------------------------
# Rasterisation and measures
# ---------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _ttf(path, size):
    return ImageFont.truetype(path, size)


def _raster_font(path, cp):
    f = _ttf(_share(path), RAS)
    img = Image.new("L", (RAS * 3, RAS * 3), 0)
    ImageDraw.Draw(img).text((RAS * 1.5, RAS * 1.5), chr(cp), font=f, fill=255, anchor="mm")
    return np.asarray(img)


def _raster_svg(path):
    p = subprocess.run(["rsvg-convert", "-w", str(RAS), "-h", str(RAS), _share(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    if p.returncode != 0 or not p.stdout:
        return None
    im = Image.open(io.BytesIO(p.stdout)).convert("RGBA")
    a = np.asarray(im)[..., 3].astype(np.float32)
    # symbolic icons draw "inactive" parts at low opacity: keep only solid ink
    return (np.clip((a - 110) / 40, 0, 1) * 255).astype(np.uint8)


def fit_mask(a):
    """Crop to the ink, fit the longest side to GL, centre. Returns (mask uint8 GL x GL, aspect w/h) or None."""
    ys, xs = np.nonzero(a > 32)
    if len(xs) == 0:
        return None
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = Image.fromarray(a[y0:y1, x0:x1])
    w, h = x1 - x0, y1 - y0
    sc = GL / max(w, h)
    nw, nh = max(1, int(round(w * sc))), max(1, int(round(h * sc)))
    crop = crop.resize((nw, nh), Image.LANCZOS)
    m = Image.new("L", (GL, GL), 0)
    m.paste(crop, ((GL - nw) // 2, (GL - nh) // 2))
    return np.asarray(m), w / h


def rasterise(c):
    a = _raster_svg(c["file"]) if c["cp"] is None else _raster_font(c["file"], c["cp"])
    return None if a is None else fit_mask(a)


def small(mask, n=24):
    """Binary n x n version (for stroke measures)."""
    return np.asarray(Image.fromarray(mask).resize((n, n), Image.BOX)) > 100


def soft(mask, n=24, blur=0.7):
    """Slightly blurred n x n float version in [0, 1] for similarity measures: the blur forgives the
    one-pixel offsets of a design grid, which would otherwise make a thin symmetric arrow 'asymmetric'."""
    im = Image.fromarray(np.ascontiguousarray(mask)).resize((n, n), Image.BOX).filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(im, np.float32) / 255


def _erode(b):
    e = b.copy()
    e[1:, :] &= b[:-1, :]; e[:-1, :] &= b[1:, :]
    e[:, 1:] &= b[:, :-1]; e[:, :-1] &= b[:, 1:]
    return e


def _tanimoto(A, B):
    ab = A @ B.T
    return ab / ((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - ab + 1e-6)


def similarity(A, B):
    """Pairwise similarity of soft masks A (n x s x s) and B (m x s x s): the smaller of the overlap
    (Tanimoto) of ink and the overlap of background.  Ink overlap alone calls any two filled discs the
    same whatever their cut-outs; background overlap alone calls any two line drawings the same."""
    A = A.reshape(len(A), -1).astype(np.float32)
    B = B.reshape(len(B), -1).astype(np.float32)
    return np.minimum(_tanimoto(A, B), _tanimoto(1 - A, 1 - B))


def _shift(a, dx):
    out = np.zeros_like(a)
    if dx > 0:
        out[:, dx:] = a[:, :-dx]
    elif dx < 0:
        out[:, :dx] = a[:, -dx:]
    else:
        out[:] = a
    return out


def mirror_similarity(mask, n=32):
    """How alike a mask and its mirror image are (best over one-pixel shifts at n px)."""
    a = soft(mask, n)
    f = a[:, ::-1]
    return float(max(similarity(a[None], _shift(f, dx)[None])[0, 0] for dx in (-1, 0, 1)))


def measures(mask, aspect):
    b24 = small(mask, 24)
    ink = b24.sum()
    # strokes that survive one erosion at 24 px (about the pictogram's size in a 48 px capture)
    surv = _erode(b24).sum() / max(1, ink)
    return {"coverage": float(ink) / 576, "survive": float(surv), "aspect": float(aspect),
            "sym": mirror_similarity(mask)}


# Legibility thresholds (tuned by looking at the rejected and accepted glyphs nearest them).
MIN_COVERAGE = 0.10
MAX_COVERAGE = 0.75
MIN_SURVIVE = 0.25
MAX_ASPECT = 2.4
DUP = 0.82            # two glyphs (or a glyph and a mirror image) this similar are one drawing
HELD_DUP = 0.78       # a little stricter for the held-out source: no near-copy of a training drawing
SYMMETRIC = 0.88      # a glyph this similar to its mirror image gets no mirrored twin


# Glyphs that are lettering (digits, letters, abbreviations): text content is drawn by the
# designer itself, and a glyph "30" would duplicate a speed-limit class.
TEXT_TOKENS = {"digit", "number", "numbers", "numeral", "numeric", "letter", "latin", "capital", "format", "text",
               "title", "abc", "font", "bold", "italic", "underline", "subscript", "superscript", "fps", "mp",
               "hdr", "hd", "sd", "dvr", "cc", "sip", "rsvp", "sos", "new", "pin", "tm", "copyright", "registered", "xiangqi",
               "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "zero"}


def textlike_reason(names):
    for n in names:
        nn = _norm(n)
        if re.search(r"[0-9]", nn):
            return "lettering: name %r has a digit" % n
        hit = sorted(set(nn.split("_")) & TEXT_TOKENS)
        if hit:
            return "lettering: name %r has token %r" % (n, hit[0])
    return None


def legibility_reason(m):
    if m["coverage"] < MIN_COVERAGE:
        return "thin: ink %.2f of the box" % m["coverage"]
    if m["coverage"] > MAX_COVERAGE:
        return "blob: ink %.2f of the box" % m["coverage"]
    if m["survive"] < MIN_SURVIVE:
        return "hair-line strokes: %.2f survive erosion" % m["survive"]
    if not (1 / MAX_ASPECT <= m["aspect"] <= MAX_ASPECT):
        return "elongated: aspect %.2f" % m["aspect"]
    return None


# ---------------------------------------------------------------------------
# The atlas
# ---------------------------------------------------------------------------

def _fingerprint():
    h = hashlib.sha256(("v%d GL%d RAS%d" % (FILTER_VERSION, GL, RAS)).encode())
    h.update(open(os.path.abspath(__file__), "rb").read())   # any filter change invalidates the cache
    for key, pkg, kind, files, names_rel in SOURCES:
        h.update(key.encode())
        paths = [_share(f) for f in files] + ([_share(names_rel)] if names_rel else [])
        for p in paths:
            if os.path.isdir(p):
                for r, ds, fs in sorted(os.walk(p)):
                    ds.sort()
                    for fn in sorted(fs):
                        q = os.path.join(r, fn)
                        h.update(fn.encode() + str(os.path.getsize(q)).encode())
            else:
                h.update(open(p, "rb").read())
    return h.hexdigest()[:16]


def build(verbose=True):
    """Renders, filters and de-duplicates every candidate. Returns (meta list, masks uint8 N x GL x GL, report)."""
    cands = candidates()
    report = {"candidates": {}, "denied": {}, "illegible": {}, "duplicate": {}, "kept": {}, "deny_examples": {},
              "illegible_examples": {}}
    bump = lambda d, k: d.__setitem__(k, d.get(k, 0) + 1)
    kept, masks = [], []
    for c in cands:
        s = c["source"]
        bump(report["candidates"], s)
        why = deny_reason(c["cp"], c["names"])
        if why:
            bump(report["denied"], s)
            report["deny_examples"].setdefault(s, []).append("%s %s" % (c["id"], why))
            continue
        why = textlike_reason(c["names"])
        if why:
            bump(report["illegible"], s)
            report["illegible_examples"].setdefault(s, []).append("%s %s" % (c["id"], why))
            continue
        r = rasterise(c)
        if r is None:
            bump(report["illegible"], s)
            continue
        mask, aspect = r
        m = measures(mask, aspect)
        why = legibility_reason(m)
        if why:
            bump(report["illegible"], s)
            report["illegible_examples"].setdefault(s, []).append("%s %s" % (c["id"], why))
            continue
        c = dict(c, **m)
        kept.append(c)
        masks.append(mask)
    masks = np.stack(masks)
    # de-duplication: greedy in source priority order, against kept glyphs and their mirrors
    b = np.stack([soft(m, 24) for m in masks])
    bm = b[:, :, ::-1]
    sim = np.maximum(similarity(b, b), similarity(b, bm))
    np.fill_diagonal(sim, 0)
    held = np.array([c["source"] == HELD_OUT_SOURCE for c in kept])
    keep = np.ones(len(kept), bool)
    for i in range(len(kept)):
        prev = keep[:i].copy()
        if held[i]:
            # any earlier glyph (all training-source glyphs come before the held-out one)
            t = HELD_DUP
        else:
            t = DUP
        j = np.flatnonzero(prev & (sim[i, :i] > t))
        if len(j):
            keep[i] = False
            bump(report["duplicate"], kept[i]["source"])
    meta = [c for c, k in zip(kept, keep) if k]
    masks = masks[keep]
    for c in meta:
        bump(report["kept"], c["source"])
        c["symmetric"] = c["sym"] >= SYMMETRIC
    if verbose:
        for k in ("candidates", "denied", "illegible", "duplicate", "kept"):
            print("%-10s %s" % (k, json.dumps(report[k])))
    return meta, masks, report


def _cache_path():
    return os.path.join(HERE, "cache", "glyphs2_%s.npz" % _fingerprint())


@lru_cache(maxsize=1)
def atlas():
    """(meta list, masks) of every accepted glyph, built once and cached on disk."""
    p = _cache_path()
    if os.path.exists(p):
        z = np.load(p, allow_pickle=False)
        return json.loads(str(z["meta"])), z["masks"], json.loads(str(z["report"]))
    meta, masks, report = build()
    os.makedirs(os.path.dirname(p), exist_ok=True)
    tmp = p + ".tmp.npz"
    np.savez_compressed(tmp, meta=json.dumps(meta), masks=masks, report=json.dumps(report))
    os.replace(tmp, p)
    return meta, masks, report


@lru_cache(maxsize=None)
def index():
    return {c["id"]: i for i, c in enumerate(atlas()[0])}


def mask(gid, mirror=False):
    """GL x GL uint8 mask of glyph gid (optionally its horizontal mirror image)."""
    m = atlas()[1][index()[gid]]
    return m[:, ::-1] if mirror else m


def mask_crc(m):
    """Short checksum of a glyph mask: the split file records it, so a changed font is noticed."""
    import zlib
    return "%08x" % zlib.crc32(np.ascontiguousarray(m).tobytes())


def package_versions():
    pk = sorted({s[1] for s in SOURCES})
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n"] + pk,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout.decode()
        return dict(l.split(" ", 1) for l in out.strip().splitlines() if " " in l)
    except OSError:
        return {}


if __name__ == "__main__":
    meta, masks, report = atlas()
    print(len(meta), "glyphs")
