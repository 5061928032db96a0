#!/usr/bin/env python3
"""Fit the polynomials of erff (kernels/unary.go) and print its table.

For a = min(|x|, 4) in float32, by interval k:
  k = 0, a in [0, 0.9):  erf(a)  = a + a*h(a^2), h of degree 6 (then 0)
  k = 1..6, sixths of [0.9, 4]:
                         erfc(a) = q0 + t*h(t), t = a - c_k, h of degree 7
  k = 7, a = 4:          erfc(a) = 0
all fitted for relative error (erf = 1 - erfc above 0.9, and GELU's Φ(x) =
erfc(|x|/√2)/2 for x < 0 keeps its relative accuracy). Each interval is
fitted with a 0.01 margin on either side, so a lane whose index rounds to a
neighbour at an edge stays accurate. The fits are minimax by Lawson's
algorithm (iteratively reweighted least squares) on a dense grid in float64
against math.erf and math.erfc; the printed rows are erfTab's (s0, s1, -c,
h0..h7, q0), rounded to float32. Needs numpy only.

Usage: python3 tools/testdata-gen/fit_erf.py
"""

import math

import numpy as np

M, B0, B1, MARGIN = 6, 0.9, 4.0, 0.01
erf = np.vectorize(math.erf)
erfc = np.vectorize(math.erfc)


def lawson(t, y, deg, iters=3000):
    """Minimax fit of y by a polynomial of degree deg in t for relative
    error; returns the coefficients (lowest first) and the maximum error."""
    A = np.vander(t, deg + 1, increasing=True) / y[:, None]
    w = np.ones_like(t)
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * sw[:, None], sw, rcond=None)
        e = np.abs(A @ c - 1)
        w = w * e
        w /= w.sum()
    return c, e.max()


def fit_k0(s, y, iters=3000):
    """Minimax fit of y - 1 by h(s) of degree 6, error relative to y."""
    A = np.vander(s, 7, increasing=True) / y[:, None]
    b = (y - 1) / y
    w = np.ones_like(s)
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        e = np.abs(A @ c - b)
        w = w * e
        w /= w.sum()
    return c, e.max()


def main():
    cols = []  # per interval: (s0, s1, -c, h0..h7, q0)
    a = np.linspace(1e-4, B0 + MARGIN, 20000)
    # erf(a)/a - 1 is not small relative to its own size near a = 0.9, so
    # this one is fitted for the error relative to erf(a)/a (weights a/erf).
    y = erf(a) / a
    h, err = fit_k0(a * a, y)
    print("// k = 0: relative error %.2g" % err)
    cols.append([1, 0, 0] + list(h) + [0, 0])
    edges = np.linspace(B0, B1, M + 1)
    for k in range(M):
        c = float(np.float32((edges[k] + edges[k + 1]) / 2))
        a = np.linspace(edges[k] - MARGIN, edges[k + 1] + MARGIN, 20000)
        p, err = lawson(a - c, erfc(a), 8)
        print("// k = %d: [%.4f, %.4f] about %.7g, relative error %.2g" % (k + 1, edges[k], edges[k + 1], c, err))
        cols.append([0, 1, -c] + list(p[1:]) + [p[0]])
    cols.append([0, 1, 0] + [0] * 8 + [0])
    names = ["s0", "s1", "-c"] + ["h%d" % j for j in range(8)] + ["q0"]
    print("var erfTab = [12][8]float32{")
    for j, name in enumerate(names):
        row = ", ".join("%.9g" % np.float32(col[j]) for col in cols)
        print("\t{%s}, // %s" % (row, name))
    print("}")
    print("erfScale = %r, erfOffset = %r" % (float(np.float32(M / (B1 - B0))), float(np.float32(1 - B0 * M / (B1 - B0)))))


if __name__ == "__main__":
    main()
