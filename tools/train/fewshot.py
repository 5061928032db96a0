"""Few-shot and open-set measures over a matrix of L2-normalised embeddings.

Shared by training (model selection on the held-out selection classes) and by
the benchmark measurement on the committed PNGs, so both report the same
quantities computed the same way.
"""

import math

import numpy as np


def _protos(emb, idx_lists):
    p = np.stack([emb[i].mean(0) for i in idx_lists])
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def episodes(emb, labels, n_way, k_shot, n_episodes, seed, n_query=None):
    """Mean accuracy of nearest-prototype classification over random episodes.

    n_way=None uses every class in every episode.  Queries are all samples of the
    episode's classes that are not support samples (or n_query of them).
    Returns (accuracy, 95% confidence half-width).
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    accs = []
    for _ in range(n_episodes):
        way = classes if n_way is None else rng.choice(classes, n_way, replace=False)
        sup, qi, ql = [], [], []
        for j, c in enumerate(way):
            perm = rng.permutation(by_class[c])
            sup.append(perm[:k_shot])
            q = perm[k_shot:] if n_query is None else perm[k_shot:k_shot + n_query]
            qi.append(q)
            ql.append(np.full(len(q), j))
        P = _protos(emb, sup)
        qi, ql = np.concatenate(qi), np.concatenate(ql)
        pred = np.argmax(emb[qi] @ P.T, axis=1)
        accs.append(np.mean(pred == ql))
    accs = np.array(accs)
    return float(accs.mean()), float(1.96 * accs.std() / np.sqrt(len(accs)))


def auroc(pos, neg):
    """Area under the ROC curve: probability a positive scores above a negative (ties count half)."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(len(allv))
    sv = allv[order]
    i = 0
    while i < len(sv):  # average ranks over ties
        j = i
        while j + 1 < len(sv) and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rp = ranks[:len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _halvings(labels, k_shot, n_trials, seed, enrolled_frac):
    """n_trials open-set trials, each a random enrolled share of the classes with k_shot support
    samples each: yields (support index lists, known query indices, their enrolled-class
    positions, unknown query indices: every sample of the left-out classes)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    for _ in range(n_trials):
        perm = rng.permutation(classes)
        n_en = int(round(len(classes) * enrolled_frac))
        en, out = perm[:n_en], perm[n_en:]
        sup, known, kl = [], [], []
        for j, c in enumerate(en):
            p = rng.permutation(by_class[c])
            sup.append(p[:k_shot])
            known.append(p[k_shot:])
            kl.append(np.full(len(p) - k_shot, j))
        unknown = np.concatenate([by_class[c] for c in out])
        yield sup, np.concatenate(known), np.concatenate(kl), unknown


def open_set(emb, labels, k_shot, n_trials, seed, enrolled_frac=0.5):
    """Open-set AUROC: enrol half of the classes with k_shot samples each; score every
    other sample by its maximum cosine to the enrolled prototypes; known queries
    (enrolled classes, non-support samples) are positives, samples of the left-out
    classes negatives.  Mean over n_trials random halvings."""
    res = []
    for sup, known, _, unknown in _halvings(labels, k_shot, n_trials, seed, enrolled_frac):
        P = _protos(emb, sup)
        res.append(auroc((emb[known] @ P.T).max(1), (emb[unknown] @ P.T).max(1)))
    return float(np.mean(res))


def open_set_reject(emb, labels, k_shot, n_trials, seed, known_rate=0.9, enrolled_frac=0.5):
    """The fresh-gallery operating point: enrol half of the classes with k_shot samples each and
    answer a query with its nearest prototype when the cosine reaches a threshold, Unknown
    otherwise. The threshold is the highest that still recognises known_rate of the known queries
    (correct nearest prototype and score at or above it); returns the mean, over n_trials random
    halvings, of the share of left-out classes' samples then answered Unknown (0 for a trial that
    cannot reach known_rate). Mirrored twins and number variants of enrolled classes are the
    unknowns that make this hard."""
    res = []
    for sup, known, kl, unknown in _halvings(labels, k_shot, n_trials, seed, enrolled_frac):
        P = _protos(emb, sup)
        ks = emb[known] @ P.T
        good = np.sort(ks.max(1)[np.argmax(ks, 1) == kl])[::-1]
        need = int(math.ceil(known_rate * len(known)))
        if need == 0 or need > len(good):
            res.append(0.0)
            continue
        res.append(float(np.mean((emb[unknown] @ P.T).max(1) < good[need - 1])))
    return float(np.mean(res))


def closed_set(emb, labels, proto_emb, proto_labels):
    """Accuracy of nearest-prototype classification with prototypes = mean of proto_emb per class."""
    classes = np.unique(proto_labels)
    P = _protos(proto_emb, [np.flatnonzero(proto_labels == c) for c in classes])
    pred = classes[np.argmax(emb @ P.T, axis=1)]
    return float(np.mean(pred == labels))


def pair_episodes(emb, labels, pairs, n_pairs, k_shot, n_episodes, seed):
    """Mean accuracy of nearest-prototype classification over episodes of n_pairs mirrored pairs, both
    twins of each pair enrolled (2 x n_pairs ways): chirality must be told apart, not guessed.
    pairs: (P, 2) array of class labels. Returns (accuracy, 95% confidence half-width)."""
    rng = np.random.default_rng(seed)
    pairs = np.asarray(pairs)
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    accs = []
    for _ in range(n_episodes):
        way = pairs[rng.choice(len(pairs), min(n_pairs, len(pairs)), replace=False)].reshape(-1)
        sup, qi, ql = [], [], []
        for j, c in enumerate(way):
            perm = rng.permutation(by_class[c])
            sup.append(perm[:k_shot])
            qi.append(perm[k_shot:])
            ql.append(np.full(len(perm) - k_shot, j))
        P = _protos(emb, sup)
        qi, ql = np.concatenate(qi), np.concatenate(ql)
        accs.append(np.mean(np.argmax(emb[qi] @ P.T, axis=1) == ql))
    accs = np.array(accs)
    return float(accs.mean()), float(1.96 * accs.std() / np.sqrt(len(accs)))
