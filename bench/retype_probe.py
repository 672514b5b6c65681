"""Can outside knowledge of mention strings fix a tagger's wrong entity types? A probe.

Reads a ``word gold predicted`` predictions file (as bench/span_errors.py does) and re-types the
predicted spans in two ways, printing test entity F1 (seqeval default mode) for each setting:

- ``lexicon``: a span whose exact words were seen as a mention in the domain's train split, with
  one type in at least ``share`` of those sightings, takes that type.
- ``embedding``: a logistic regression over the frozen all-MiniLM-L6-v2 sentence embedding of the
  mention's words, fitted on the train split's mentions, re-types a span when its top probability
  exceeds ``tau``.

Every threshold is printed, so the best one is picked on the test set itself: an optimistic upper
bound. A setting that cannot beat the tagger even then shows that the knowledge is not there.

    .venv/bin/python bench/retype_probe.py science bench/results/encoder_map_science_seed2_test_predictions.txt.gz
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from span_errors import read  # noqa: E402

from xner.data.conll import read_conll  # noqa: E402
from xner.data.sources import find_data_root  # noqa: E402
from xner.evaluation.metrics import entity_f1, extract_entities  # noqa: E402

Span = tuple[int, str, int, int]  # sentence, type, first word, last word


def train_mentions(domain: str) -> list[tuple[str, str]]:
    """(mention words joined by spaces, type) for every entity of the domain's train split
    (data root as xner finds it: XNER_DATA, ../shared/data/crossner, the user cache)."""
    sentences = read_conll(find_data_root() / domain / "train.txt", domain)
    return [(" ".join(sentences[i].tokens[a:b + 1]), kind)
            for kind, i, a, b in extract_entities([s.tags for s in sentences])]


def retyped(pred: list[list[str]], spans: list[Span], new_types: list[str | None]) -> list[list[str]]:
    """``pred`` with each span whose new type is not None re-tagged with that type."""
    out = [list(seq) for seq in pred]
    for (i, _, a, b), kind in zip(spans, new_types):
        if kind is not None:
            out[i][a:b + 1] = [f"B-{kind}"] + [f"I-{kind}"] * (b - a)
    return out


def main(domain: str, path: Path) -> int:
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    from xner.models.encoder import DEFAULT_ENCODER, resolve_encoder

    rows = read(path)
    words = [w for w, _, _ in rows]
    gold = [g for _, g, _ in rows]
    pred = [p for _, _, p in rows]
    spans: list[Span] = [(i, kind, a, b) for kind, i, a, b in extract_entities(pred)]
    texts = [" ".join(words[i][a:b + 1]) for i, _, a, b in spans]
    print(f"{path}: {len(spans)} predicted spans, test F1 as predicted {100 * entity_f1(gold, pred):.2f}")

    mentions = train_mentions(domain)
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for text, kind in mentions:
        seen[text][kind] += 1
    for share in (0.5, 0.75, 1.0):
        new: list[str | None] = []
        for text, (_, kind, _, _) in zip(texts, spans):
            top = seen[text].most_common(1) if text in seen else []
            ok = top and top[0][0] != kind and top[0][1] / sum(seen[text].values()) >= share
            new.append(top[0][0] if ok else None)
        f1 = entity_f1(gold, retyped(pred, spans, new))
        print(f"lexicon share >= {share:.2f}: {sum(k is not None for k in new)} spans re-typed, test F1 {100 * f1:.2f}")

    model = SentenceTransformer(str(resolve_encoder(DEFAULT_ENCODER)), device="cpu")
    x_train = model.encode([t for t, _ in mentions], batch_size=64, normalize_embeddings=True)
    classifier = LogisticRegression(max_iter=3000, C=10.0).fit(x_train, [k for _, k in mentions])
    probs = classifier.predict_proba(model.encode(texts, batch_size=64, normalize_embeddings=True))
    best = probs.argmax(axis=1)
    agree = np.mean([classifier.classes_[j] == kind for j, (_, kind, _, _) in zip(best, spans)])
    print(f"embedding classifier: {len(mentions)} train mentions, agrees with the tagger on {100 * agree:.1f} % of spans")
    for tau in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        new = [str(classifier.classes_[j]) if p[j] > tau and classifier.classes_[j] != kind else None
               for j, p, (_, kind, _, _) in zip(best, probs, spans)]
        f1 = entity_f1(gold, retyped(pred, spans, new))
        print(f"embedding tau > {tau:.2f}: {sum(k is not None for k in new)} spans re-typed, test F1 {100 * f1:.2f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: retype_probe.py DOMAIN PREDICTIONS_FILE")
    raise SystemExit(main(sys.argv[1], Path(sys.argv[2])))
