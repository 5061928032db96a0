"""Smoke test of finetune.py: a few steps on a tiny folder, export, convert, and refusals.

    /usr/bin/python3 tools/train/test_finetune.py

Needs python3-torch, python3-onnx, python3-numpy, python3-pil, fonts-dejavu-core
(signs.py renders the v1 mix); when `go` is on PATH it also converts to .sgn
and loads the model with `signet embed`.  About a minute on 2 cores.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FINETUNE = os.path.join(HERE, "finetune.py")
sys.path.insert(0, HERE)

import train  # noqa: E402

ENV = dict(os.environ, OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")


def draw(shape, colour, rng, w, h):
    """A simple synthetic 'crop': coloured shape on a noisy background, any size."""
    bg = rng.integers(60, 200, 3)
    a = np.clip(bg + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    im = Image.fromarray(a)
    d = ImageDraw.Draw(im)
    m = 0.12 + 0.08 * rng.random()
    box = [w * m, h * m, w * (1 - m), h * (1 - m)]
    if shape == "disc":
        d.ellipse(box, fill=colour, outline=(255, 255, 255), width=max(1, w // 12))
    elif shape == "tri":
        d.polygon([((box[0] + box[2]) / 2, box[1]), (box[2], box[3]), (box[0], box[3])], fill=colour)
    else:
        d.rectangle(box, fill=colour)
        d.line([box[0], box[1], box[2], box[3]], fill=(0, 0, 0), width=max(1, w // 10))
    return im


def make_folder(root, classes=(("disc", (200, 30, 30)), ("tri", (230, 200, 20)), ("box", (30, 60, 200))), per_class=4):
    rng = np.random.default_rng(5)
    for ci, (shape, colour) in enumerate(classes):
        d = os.path.join(root, "%s_%d" % (shape, ci))
        os.makedirs(d)
        for k in range(per_class):
            w, h = int(rng.integers(30, 120)), int(rng.integers(30, 120))
            im = draw(shape, colour, rng, w, h)
            if k % 3 == 0:
                im.save(os.path.join(d, "%d.jpg" % k), quality=90)
            elif k % 3 == 1:
                im.convert("RGBA").save(os.path.join(d, "%d.png" % k))
            else:
                im.save(os.path.join(d, "%d.bmp" % k))


def run(args, timeout=240):
    cmd = ["nice", "-n", "19", sys.executable, FINETUNE] + args
    return subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, universal_newlines=True)


class FinetuneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="finetune-test-")
        cls.data = os.path.join(cls.tmp, "mine")
        make_folder(cls.data)
        cls.go = shutil.which("go")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_finetune_export_convert(self):
        out = os.path.join(self.tmp, "ft.pt")
        args = ["--data", self.data, "--out", out, "--steps", "4", "--batch", "24", "--mix", "v1",
                "--breadth", "v1", "--threads", "2", "--seed", "3"]
        if not self.go:
            args.append("--no-sgn")
        else:
            # the user's own classes stand in for a background: 12 images, 24 impostor scores
            args += ["--impostors", self.data]
        r = run(args)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("before:", r.stdout)
        self.assertIn("after:", r.stdout)

        ck = torch.load(out, map_location="cpu")
        ck0 = torch.load(os.path.join(HERE, "checkpoints", "v2_supcon_64px.pt"), map_location="cpu")
        for k in ("state_dict", "widths", "mean", "std", "size", "generator", "finetune"):
            self.assertIn(k, ck)
        self.assertEqual(ck["size"], ck0["size"])
        ft = ck["finetune"]
        self.assertEqual((ft["data"], ft["classes"], ft["steps"], ft["mix"]), ("mine", 3, 4, "v1"))
        self.assertEqual(ft["heldout_images"], 3)
        self.assertTrue(np.isfinite(ft["loss_first"]) and np.isfinite(ft["loss_last"]))
        # export.py's way of reading it
        model = train.Encoder(tuple(ck["widths"]))
        model.load_state_dict(ck["state_dict"])
        diff = sum(float((ck["state_dict"][k].float() - v.float()).abs().sum()) for k, v in ck0["state_dict"].items())
        self.assertGreater(diff, 0.0, "weights did not change")

        onnx_path = os.path.join(self.tmp, "ft.onnx")
        self.assertTrue(os.path.getsize(onnx_path) > 100000, "ONNX missing or tiny")
        import onnx
        m = onnx.load(onnx_path)
        self.assertEqual([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim], [1, 3, ck["size"], ck["size"]])

        if self.go:
            sgn = os.path.join(self.tmp, "ft.sgn")
            self.assertTrue(os.path.exists(sgn), r.stdout)
            img = os.path.join(self.data, "disc_0", "1.png")
            e = subprocess.run(["nice", "-n", "19", self.go, "run", "./tools/signet", "embed", "-model", sgn, "-json", img],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=240)
            self.assertEqual(e.returncode, 0, e.stdout)
            self.assertIn("output", e.stdout)
            # the model carries its impostor calibration: a new gallery's default comes from it
            g = subprocess.run(["nice", "-n", "19", self.go, "run", "./tools/signet", "enroll", "-model", sgn,
                                "-gallery", os.path.join(self.tmp, "g.gal"), "-label", "x", "-default-far", "0.1", img],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=240)
            self.assertEqual(g.returncode, 0, g.stdout)
            self.assertIn("from the encoder's impostor calibration at FAR 0.1", g.stdout)
        else:
            print("go not on PATH: .sgn conversion not tested", file=sys.stderr)

    def test_refuses_bad_input(self):
        one = os.path.join(self.tmp, "one")
        make_folder(one, classes=(("disc", (200, 30, 30)),))
        r = run(["--data", one, "--out", os.path.join(self.tmp, "x.pt"), "--steps", "1", "--mix", "none", "--no-export"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("need at least 2", r.stdout)
        self.assertNotIn("Traceback", r.stdout)

        bad = os.path.join(self.tmp, "bad")
        make_folder(bad, per_class=2)
        with open(os.path.join(bad, "tri_1", "broken.png"), "wb") as f:
            f.write(b"not a png")
        r = run(["--data", bad, "--out", os.path.join(self.tmp, "y.pt"), "--steps", "1", "--mix", "none", "--no-export"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tri_1/broken.png", r.stdout)
        self.assertNotIn("Traceback", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "y.pt")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
