"""Fine-tunes the sign encoder on your own crops, then exports ONNX and converts to .sgn.

    /usr/bin/python3 tools/train/finetune.py --data MY_SIGNS --out my.pt [--steps 300] [--int8]

MY_SIGNS holds one folder per class (the folder name is the class), each with
at least 2 images in any format PIL reads (PNG, JPEG, WebP, BMP, ...; any
size).  Each batch mixes your images with generated signs (--mix-share, by
default half of it) so the encoder keeps its breadth on the sign families it
was trained on; the generated classes keep labels of their own, so a folder
name can never clash with one.  Loss: supervised contrastive, as train.py.

Before and after training it prints nearest-prototype accuracy on your
classes (held-out images: one per class that has at least 4; and
leave-one-out over all your images, optimistic once they have trained) and
leave-one-out accuracy on a fixed set of generated model-selection classes
(never trained on), to show the breadth kept.

Then, unless --no-export, it writes <out>.onnx (export.py's export and op
check) and <out>.sgn with `go run ./tools/convert` and the checkpoint's
mean/std; --int8 adds <out>-int8.sgn calibrated on your images.

Resize: images are resized to the checkpoint's input side exactly as the Go
engine does (engine/preprocess.go: bilinear with half-pixel centres, no
antialiasing, translucent pixels composited over black, values kept as float
before normalisation).  One known difference: JPEG colour conversion is
PIL's (libjpeg) rather than Go's color.YCbCr, at most a level or two per
channel.  Deterministic for a fixed --seed and --threads.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import train  # noqa: E402

DEFAULT_INIT = os.path.join(HERE, "checkpoints", "v2_supcon_64px.pt")
BREADTH_CLASSES = 24     # generated model-selection classes in the breadth check
BREADTH_PER_CLASS = 5
STREAM_FINETUNE = 11     # generator stream of the mixed-in samples (v1/v2 use 1..6)
# path arguments are recorded in the checkpoint by their last component only
PATH_ARGS = ("data", "init", "out", "mix_dir", "onnx", "sgn", "calib", "impostors")


class DataError(Exception):
    pass


# ---------------------------------------------------------------------------
# Images, read and resized as the Go engine does
# ---------------------------------------------------------------------------

def engine_rgb(im):
    """uint8 (h, w, 3) RGB of a PIL image, as the engine reads pixels: c.RGBA() >> 8,
    so translucent pixels are premultiplied (composited over black)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info) or \
            (im.mode in ("RGB", "L") and "transparency" in im.info):
        a = np.asarray(im.convert("RGBA"), dtype=np.uint32)
        c, al = a[..., :3], a[..., 3:4]
        # color.NRGBA.RGBA: v = c*0x101*a/0xff, then >> 8
        return (((c * 0x101) * al // 0xFF) >> 8).astype(np.uint8)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _coords(n, m):
    o = np.arange(m, dtype=np.float32)
    s = (o + np.float32(0.5)) * np.float32(n) / np.float32(m) - np.float32(0.5)
    s = np.maximum(s, np.float32(0))
    i0 = np.minimum(s.astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (s - i0.astype(np.float32)).astype(np.float32)


def engine_resize(rgb, size):
    """float32 (size, size, 3) in 0..255: engine/preprocess.go's bilinear resize (srcCoord, lerp2)."""
    h, w = rgb.shape[:2]
    y0, y1, fy = _coords(h, size)
    x0, x1, fx = _coords(w, size)
    p = rgb.astype(np.float32)
    fx = fx[None, :, None]
    top = p[y0][:, x0] + (p[y0][:, x1] - p[y0][:, x0]) * fx
    bot = p[y1][:, x0] + (p[y1][:, x1] - p[y1][:, x0]) * fx
    return (top + (bot - top) * fy[:, None, None]).astype(np.float32)


def image_extensions():
    Image.init()
    return {e.lower() for e in Image.registered_extensions()}


def read_folder(root, size, what="--data", min_classes=2, min_images=2):
    """Class folders of root -> (names, [float32 images per class], [paths per class]).
    Raises DataError naming every problem found."""
    if not os.path.isdir(root):
        raise DataError("%s %s: not a folder" % (what, root))
    exts = image_extensions()
    names, imgs, paths, problems, bad, loose = [], [], [], [], [], []
    for d in sorted(os.listdir(root)):
        full = os.path.join(root, d)
        if d.startswith("."):
            continue
        if not os.path.isdir(full):
            if os.path.splitext(d)[1].lower() in exts:
                loose.append(d)
            continue
        ims, ps = [], []
        for f in sorted(os.listdir(full)):
            p = os.path.join(full, f)
            if f.startswith(".") or not os.path.isfile(p) or os.path.splitext(f)[1].lower() not in exts:
                continue
            try:
                with Image.open(p) as im:
                    im.load()
                    rgb = engine_rgb(im)
                if rgb.shape[0] < 1 or rgb.shape[1] < 1:
                    raise ValueError("empty image")
            except Exception as e:  # PIL raises many kinds for a broken file
                bad.append("%s/%s (%s)" % (d, f, str(e).splitlines()[0] if str(e) else type(e).__name__))
                continue
            ims.append(engine_resize(rgb, size))
            ps.append(p)
        if len(ims) < min_images:
            problems.append("class %r has %d readable image%s (need at least %d)" % (d, len(ims), "" if len(ims) == 1 else "s", min_images))
            continue
        names.append(d)
        imgs.append(np.stack(ims))
        paths.append(ps)
    if bad:
        problems.insert(0, "unreadable image%s: %s" % ("" if len(bad) == 1 else "s", "; ".join(bad)))
    if loose:
        problems.append("images directly in %s are not in a class folder: %s" % (root, ", ".join(loose[:5]) + (" ..." if len(loose) > 5 else "")))
    if len(names) < min_classes:
        problems.append("%s %s: %d usable class folder%s, need at least %d (one folder per class, each with at least %d images)"
                        % (what, root, len(names), "" if len(names) == 1 else "s", min_classes, min_images))
    if problems:
        raise DataError("\n  ".join(["%s %s is not usable:" % (what, root)] + problems))
    return names, imgs, paths


# ---------------------------------------------------------------------------
# Generated signs
# ---------------------------------------------------------------------------

def v2_atlas_problem():
    """None when signs2 can render here, else why not."""
    try:
        import glyphs
        p = glyphs._cache_path()
    except Exception as e:
        return "cannot locate the v2 glyph atlas (%s)" % e
    if not os.path.exists(p):
        return "the v2 glyph atlas %s is missing" % os.path.relpath(p, ROOT)
    return None


class Generated:
    """Renders samples of generated classes on demand, at the model's side, as float32 0..255."""

    def __init__(self, kind, size):
        self.kind, self.size = kind, size
        if kind == "v2":
            import signs2
            self.s2 = signs2
            doc = signs2.load_split()
            self.train_names, self.select_names = doc["train"], doc["select"]
            if size not in signs2.SIZES:
                raise DataError("signs2 renders %s px only, the checkpoint takes %d" % (signs2.SIZES, size))
        else:
            import signs
            self.s1 = signs
            doc = json.load(open(os.path.join(HERE, "split.json")))
            self.train_names, self.select_names = doc["train"], doc["select"]
            self.idx = {n: signs.class_index(n) for n in self.train_names + self.select_names}

    def render(self, name, stream, k):
        if self.kind == "v2":
            return self.s2.render_sample(name, stream, k, self.size).astype(np.float32)
        im = self.s1.render_sample(self.idx[name], stream, k)
        return im.astype(np.float32) if im.shape[0] == self.size else engine_resize(im, self.size)

    def breadth_set(self):
        """Fixed set: the first BREADTH_CLASSES selection classes (never trained), select stream."""
        stream = 2  # STREAM_SELECT in both generators
        names = self.select_names[:BREADTH_CLASSES]
        x = np.stack([self.render(n, stream, k) for n in names for k in range(BREADTH_PER_CLASS)])
        return x, np.repeat(np.arange(len(names)), BREADTH_PER_CLASS)


class FolderMix:
    """--mix-dir: a folder of class folders used as the generated share."""

    def __init__(self, root, size):
        names, imgs, _ = read_folder(root, size, "--mix-dir", min_classes=2, min_images=2)
        self.train_names = names
        self.imgs = imgs

    def render(self, name, stream, k):
        c = self.train_names.index(name)
        return self.imgs[c][k % len(self.imgs[c])]


# ---------------------------------------------------------------------------
# Training and measuring
# ---------------------------------------------------------------------------

def to_input(x_float, mean, std):
    """float (n, h, w, 3) 0..255 -> normalised NCHW tensor, as the engine preprocesses."""
    x = torch.from_numpy(np.ascontiguousarray(x_float, dtype=np.float32)).permute(0, 3, 1, 2).div(255)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def embed(model, x, mean, std, bs=256):
    was = model.training
    model.eval()
    with torch.no_grad():
        e = torch.cat([model(to_input(x[i:i + bs], mean, std)) for i in range(0, len(x), bs)]).numpy()
    model.train(was)
    return e


def loo_accuracy(e, y):
    """Leave-one-out nearest-prototype accuracy: each image against the other images' class means."""
    classes = np.unique(y)
    sums = np.stack([e[y == c].sum(0) for c in classes])
    counts = np.array([(y == c).sum() for c in classes])
    hit = n = 0
    for i in range(len(e)):
        ci = int(np.searchsorted(classes, y[i]))
        if counts[ci] < 2:
            continue
        protos = sums.copy()
        protos[ci] -= e[i]
        protos /= np.linalg.norm(protos, axis=1, keepdims=True) + 1e-12
        hit += int(np.argmax(protos @ e[i]) == ci)
        n += 1
    return hit / max(n, 1), n


def heldout_accuracy(e_tr, y_tr, e_va, y_va):
    classes = np.unique(y_tr)
    protos = np.stack([e_tr[y_tr == c].mean(0) for c in classes])
    protos /= np.linalg.norm(protos, axis=1, keepdims=True) + 1e-12
    pred = classes[np.argmax(e_va @ protos.T, axis=1)]
    return float((pred == y_va).mean()), len(y_va)


def measure(model, mean, std, user, breadth):
    (tx, ty, vx, vy) = user
    m = {}
    e_tr = embed(model, tx, mean, std)
    if len(vy):
        e_va = embed(model, vx, mean, std)
        m["heldout"], m["heldout_n"] = heldout_accuracy(e_tr, ty, e_va, vy)
        m["user_loo"], m["user_loo_n"] = loo_accuracy(np.concatenate([e_tr, e_va]), np.concatenate([ty, vy]))
    else:
        m["user_loo"], m["user_loo_n"] = loo_accuracy(e_tr, ty)
    if breadth is not None:
        m["generated_loo"], m["generated_loo_n"] = loo_accuracy(embed(model, breadth[0], mean, std), breadth[1])
    return m


def show(tag, m):
    parts = []
    if "heldout" in m:
        parts.append("held-out %.3f (%d images)" % (m["heldout"], m["heldout_n"]))
    parts.append("your classes leave-one-out %.3f (%d)" % (m["user_loo"], m["user_loo_n"]))
    if "generated_loo" in m:
        parts.append("generated select classes leave-one-out %.3f (%d)" % (m["generated_loo"], m["generated_loo_n"]))
    print("%-6s %s" % (tag + ":", ", ".join(parts)), flush=True)


def split_user(imgs, rng):
    """Hold out one image of every class with at least 4."""
    tx, ty, vx, vy = [], [], [], []
    for c, x in enumerate(imgs):
        order = rng.permutation(len(x))
        hold = order[:1] if len(x) >= 4 else order[:0]
        keep = order[len(hold):]
        tx.append(x[np.sort(keep)])
        ty += [c] * len(keep)
        if len(hold):
            vx.append(x[hold])
            vy += [c] * len(hold)
    cat = lambda a, s: np.concatenate(a) if a else np.zeros((0, s, s, 3), np.float32)
    s = imgs[0].shape[1]
    return cat(tx, s), np.array(ty, np.int64), cat(vx, s), np.array(vy, np.int64)


def batch_layout(B, K, share, n_user_classes, mix_on):
    """(user classes, images per user class, generated classes, images per generated class) per batch."""
    n_mix = int(round(B * share)) if mix_on else 0
    n_user = B - n_mix
    Pu = min(n_user_classes, max(2, n_user // K))
    Ku = max(2, int(round(n_user / Pu)))
    Pm = n_mix // K if mix_on else 0
    return Pu, Ku, Pm, K


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def run_cmd(cmd, what):
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit("finetune: %s failed (exit %d)" % (what, r.returncode))


def calib_folder(paths, dst):
    """Flattens the user's images into dst (PNG/JPEG as they are, others re-saved as PNG)."""
    n = 0
    for c, ps in enumerate(paths):
        for p in ps:
            base = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in os.path.basename(p))
            stem, ext = os.path.splitext(base)
            name = "%04d_%03d_%s" % (n, c, stem)
            if ext.lower() in (".png", ".jpg", ".jpeg"):
                shutil.copyfile(p, os.path.join(dst, name + ext.lower()))
            else:
                with Image.open(p) as im:
                    im.convert("RGBA").save(os.path.join(dst, name + ".png"))
            n += 1
    return n


def convert_cmd(go, onnx_path, sgn, name, ck, extra=()):
    fmt = lambda v: ",".join("%g" % x for x in v)
    return [go, "run", "./tools/convert", "-o", sgn, "-name", name, "-mean", fmt(ck["mean"]), "-std", fmt(ck["std"]),
            "-channels", "RGB"] + list(extra) + [onnx_path]


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--data", required=True, help="folder of class folders of your crops")
    ap.add_argument("--init", default=DEFAULT_INIT, help="checkpoint to start from (default: %(default)s)")
    ap.add_argument("--out", required=True, help="fine-tuned checkpoint to write (train.py's format)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64, help="images per batch")
    ap.add_argument("--k", type=int, default=4, help="images per generated class in a batch (P x K)")
    ap.add_argument("--lr", type=float, default=0.01, help="peak SGD learning rate (train.py used 0.2 from scratch)")
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=-1, help="warm-up steps (default: a tenth of --steps, at most 50)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=["v2", "v1", "none"], default="v2",
                    help="generated signs mixed in: v2 (signs2.py, needs the glyph atlas), v1 (signs.py), none")
    ap.add_argument("--mix-dir", default="", help="folder of class folders mixed in instead of rendered signs")
    ap.add_argument("--mix-share", type=float, default=0.5, help="share of every batch from the mix source")
    ap.add_argument("--breadth", choices=["auto", "v2", "v1", "none"], default="auto",
                    help="generated classes of the breadth check (auto: v2 when its atlas is here, else v1)")
    ap.add_argument("--no-export", action="store_true", help="write the checkpoint only")
    ap.add_argument("--onnx", default="", help="ONNX output (default <out without .pt>.onnx)")
    ap.add_argument("--sgn", default="", help=".sgn output (default <out without .pt>.sgn)")
    ap.add_argument("--no-sgn", action="store_true", help="export ONNX but do not run the Go converter")
    ap.add_argument("--name", default="", help="model name in the .sgn (default: file name of --out)")
    ap.add_argument("--int8", action="store_true", help="also write <sgn without .sgn>-int8.sgn, int8-quantised")
    ap.add_argument("--calib", default="", help="calibration image folder for --int8 (default: your --data images)")
    ap.add_argument("--calib-n", type=int, default=128)
    ap.add_argument("--impostors", default="", help="folder of class folders of designs no gallery will enrol: the "
                    "converter stores the model's impostor calibration (convert -impostors), so new galleries get "
                    "an honest default threshold")
    a = ap.parse_args(argv)

    if a.steps < 1 or a.batch < 4 or a.k < 2:
        ap.error("need --steps >= 1, --batch >= 4, --k >= 2")
    if not 0 <= a.mix_share < 1:
        ap.error("--mix-share must be in [0, 1)")
    mix = "dir" if a.mix_dir else a.mix
    if mix == "none" or a.mix_share == 0:
        mix = "none"
    stem = a.out[:-3] if a.out.endswith(".pt") else a.out
    onnx_path = a.onnx or stem + ".onnx"
    sgn_path = a.sgn or stem + ".sgn"
    go = None
    if not a.no_export and not a.no_sgn:
        go = shutil.which("go")
        if go is None:
            raise SystemExit("finetune: `go` is not on PATH, needed to write %s; install Go, or pass --no-sgn "
                             "(ONNX only) or --no-export" % sgn_path)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    t0 = time.time()

    ck0 = torch.load(a.init, map_location="cpu")
    size = int(ck0["size"])
    widths = tuple(ck0.get("widths", (24, 32, 64, 128)))
    mean, std = tuple(ck0.get("mean", train.MEAN)), tuple(ck0.get("std", train.STD))

    try:
        names, imgs, paths = read_folder(a.data, size)
    except DataError as e:
        raise SystemExit("finetune: %s" % e)
    n_img = sum(len(x) for x in imgs)
    print("data: %d classes, %d images (%s), resized to %d px" % (len(names), n_img,
          ", ".join("%s %d" % (n, len(x)) for n, x in zip(names, imgs)), size), flush=True)

    if mix == "v2" or a.breadth == "v2":
        why = v2_atlas_problem()
        if why:
            raise SystemExit("finetune: --%s v2: %s. Build it with\n    /usr/bin/python3 tools/train/make_split2.py\n"
                             "(needs the icon font packages listed in tools/train/README.md), or use --mix v1 / "
                             "--mix-dir DIR / --mix none." % ("mix" if mix == "v2" else "breadth", why))
    try:
        src = None
        if mix in ("v1", "v2"):
            src = Generated(mix, size)
        elif mix == "dir":
            src = FolderMix(a.mix_dir, size)
        bk = a.breadth
        if bk == "auto":
            bk = "v2" if v2_atlas_problem() is None and size in (48, 64) else "v1"
        breadth_src = src if isinstance(src, Generated) and src.kind == bk else (None if bk == "none" else Generated(bk, size))
    except DataError as e:
        raise SystemExit("finetune: %s" % e)
    breadth = breadth_src.breadth_set() if breadth_src is not None else None

    tx, ty, vx, vy = split_user(imgs, rng)
    user = (tx, ty, vx, vy)
    U = len(names)
    Pu, Ku, Pm, Km = batch_layout(a.batch, a.k, a.mix_share, U, src is not None)
    print("batch: %d of your classes x %d + %d generated classes x %d (%s), %d steps, lr %g" %
          (Pu, Ku, Pm, Km, mix, a.steps, a.lr), flush=True)

    model = train.Encoder(widths)
    model.load_state_dict(ck0["state_dict"])
    init_sd = {k: v.clone() for k, v in model.state_dict().items()}
    before = measure(model, mean, std, user, breadth)
    show("before", before)

    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=a.wd)
    warm = a.warmup if a.warmup >= 0 else min(50, a.steps // 10)

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        return a.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, a.steps - warm)))

    by_class = [np.flatnonzero(ty == c) for c in range(U)]
    pools = [rng.permutation(ix).tolist() for ix in by_class]
    losses = []
    model.train()
    for step in range(a.steps):
        cs = rng.choice(U, Pu, replace=False)
        idx, yb = [], []
        for c in cs:
            for _ in range(Ku):
                if not pools[c]:
                    pools[c] = rng.permutation(by_class[c]).tolist()
                idx.append(pools[c].pop())
                yb.append(int(c))
        xb = [tx[np.array(idx)]]
        if Pm:
            mc = rng.choice(len(src.train_names), Pm, replace=False)
            ks = rng.integers(0, 1 << 30, size=(Pm, Km))
            xb.append(np.stack([src.render(src.train_names[c], STREAM_FINETUNE, int(k))
                                for c, row in zip(mc, ks) for k in row]))
            yb += [U + int(c) for c in mc for _ in range(Km)]
        x = train.augment(to_input(np.concatenate(xb), mean, std), g, size)
        z = model(x)
        loss = train.supcon_loss(z, torch.tensor(yb))
        if not torch.isfinite(loss):
            raise SystemExit("finetune: loss is %s at step %d; try a smaller --lr" % (loss.item(), step))
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        if step == 0 or (step + 1) % 25 == 0 or step + 1 == a.steps:
            print("step %d/%d loss %.4f lr %.5f %.0f s" % (step + 1, a.steps, losses[-1], lr_at(step), time.time() - t0),
                  flush=True)

    after = measure(model, mean, std, user, breadth)
    show("after", after)
    changed = sum(float((model.state_dict()[k].float() - v.float()).abs().sum()) for k, v in init_sd.items())

    ck = dict(ck0)
    ck.update(state_dict=model.state_dict(), widths=widths, mean=mean, std=std, size=size, objective="supcon",
              args={k: (os.path.basename(os.path.normpath(v)) if k in PATH_ARGS and v else v) for k, v in vars(a).items()},
              wall_s=time.time() - t0, steps=a.steps, total_steps=a.steps)
    ck["finetune"] = {
        "data": os.path.basename(os.path.normpath(a.data)), "classes": U, "class_names": names, "images": n_img,
        "train_images": int(len(ty)), "heldout_images": int(len(vy)), "steps": a.steps, "batch": a.batch,
        "layout": {"user_classes": Pu, "user_k": Ku, "mix_classes": Pm, "mix_k": Km},
        "mix": mix if mix != "dir" else "dir:" + os.path.basename(os.path.normpath(a.mix_dir)),
        "mix_share": a.mix_share if mix != "none" else 0.0, "lr": a.lr, "seed": a.seed, "threads": a.threads,
        "init": os.path.basename(a.init), "init_generator": ck0.get("generator"),
        "breadth": bk, "before": before, "after": after, "loss_first": losses[0], "loss_last": losses[-1],
        "weight_change_l1": changed,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(ck, a.out + ".tmp")
    os.replace(a.out + ".tmp", a.out)
    print("wrote %s (loss %.4f -> %.4f, %.0f s)" % (a.out, losses[0], losses[-1], time.time() - t0), flush=True)

    if a.no_export:
        return 0
    run_cmd([sys.executable, os.path.join(HERE, "export.py"), "--ckpt", os.path.abspath(a.out),
             "--out", os.path.abspath(onnx_path)], "export.py")
    if a.no_sgn:
        return 0
    name = a.name or os.path.splitext(os.path.basename(stem))[0]
    imp = ["-impostors", os.path.abspath(a.impostors)] if a.impostors else []
    run_cmd(convert_cmd(go, os.path.abspath(onnx_path), os.path.abspath(sgn_path), name, ck, imp), "convert")
    if a.int8:
        q_path = (sgn_path[:-4] if sgn_path.endswith(".sgn") else sgn_path) + "-int8.sgn"
        with tempfile.TemporaryDirectory(prefix="finetune-calib-") as td:
            if a.calib:
                cdir, n = os.path.abspath(a.calib), a.calib_n
            else:
                cdir, n = td, min(a.calib_n, calib_folder(paths, td))
            run_cmd(convert_cmd(go, os.path.abspath(onnx_path), os.path.abspath(q_path), name + "-int8", ck,
                                ["-quantize", "int8", "-calib", cdir, "-calib-n", str(n)] + imp), "int8 convert")
    print("done in %.0f s" % (time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
