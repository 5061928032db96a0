"""Few-shot and open-set measures over a matrix of L2-normalised embeddings.

Shared by training (model selection on the held-out selection classes) and by
the benchmark measurement on the committed PNGs, so both report the same
quantities computed the same way.
"""

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


def open_set(emb, labels, k_shot, n_trials, seed, enrolled_frac=0.5):
    """Open-set AUROC: enrol half of the classes with k_shot samples each; score every
    other sample by its maximum cosine to the enrolled prototypes; known queries
    (enrolled classes, non-support samples) are positives, samples of the left-out
    classes negatives.  Mean over n_trials random halvings."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    res = []
    for _ in range(n_trials):
        perm = rng.permutation(classes)
        n_en = int(round(len(classes) * enrolled_frac))
        en, out = perm[:n_en], perm[n_en:]
        sup, known = [], []
        for c in en:
            p = rng.permutation(by_class[c])
            sup.append(p[:k_shot])
            known.append(p[k_shot:])
        P = _protos(emb, sup)
        known = np.concatenate(known)
        unknown = np.concatenate([by_class[c] for c in out])
        res.append(auroc((emb[known] @ P.T).max(1), (emb[unknown] @ P.T).max(1)))
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
